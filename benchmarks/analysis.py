"""Analysis speed per 31,824-atom frame on one core: reduced fraction, crystallinity (PTM), Li consumed.

Frame: the model II interface from ``seilearn.structures.build_interface(model="II")``, and the same frame
with its LPSC half replaced in part by antifluorite (a partly converted SEI), so PTM has crystals to find.
Targets (issue 6): alpha < 50 ms, crystallinity < 1.5 s per frame.
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/analysis.py``.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OVITO_THREAD_COUNT", "1")  # OVITO reads this at import: one core, as the target says


from seilearn.analysis.crystallinity import crystalline_fraction  # noqa: E402
from seilearn.analysis.reduction import ps_counts, reduced_fraction  # noqa: E402
from seilearn.analysis.trajectory import li_consumed  # noqa: E402


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    from seilearn.structures import build_interface

    t0 = time.perf_counter()
    frame = build_interface(model="II")
    print(f"model II frame: {len(frame)} atoms, built in {time.perf_counter() - t0:.1f} s")
    rows = []
    t_alpha, counts = _best(lambda: ps_counts(frame))
    rows.append(("alpha (cKDTree)", t_alpha, 0.050, f"alpha = {reduced_fraction(counts):.3f}"))
    t_c, cf = _best(lambda: crystalline_fraction(frame), repeat=2)
    rows.append(("crystallinity (PTM)", t_c, 1.5, f"c = {cf['c']:.3f}"))
    t_li, n = _best(lambda: li_consumed(frame))
    rows.append(("Li consumed (cKDTree)", t_li, None, f"{n} Li"))
    print(f"{'task':24s} {'time/frame':>12s} {'target':>8s} {'ratio':>7s}  result")
    for name, t, target, note in rows:
        ratio = f"{t / target:7.2f}" if target else "      -"
        tgt = f"{target:7.3f}s" if target else "       -"
        print(f"{name:24s} {t * 1e3:10.1f}ms {tgt} {ratio}  {note}")


if __name__ == "__main__":
    main()
