"""Structures benchmark: interface model builds (model II must take < 30 s on one core, issue 3) and
seed-set generation (500 configurations; the CHGNet labelling half of that benchmark lives with the
labellers).

Run: ``.venv/bin/python benchmarks/structures.py [--n 500]``. Each build runs in a fresh cache state
except the ordered LPSC cell (Ewald ordering of 64 patterns), which is timed separately because
every model reuses it.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seilearn.structures import build_interface, lpsc, report, seed_set  # noqa: E402


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=500, help="seed-set size (default 500)")
    args = ap.parse_args()
    rows = []
    _, t_lpsc = _timed(lpsc)
    rows.append(("ordered Li6PS5Cl cell (64 Ewald patterns)", 76, t_lpsc, None))
    for model, target in (("mini", None), ("I", None), ("II", 30.0)):
        atoms, t = _timed(lambda m=model: build_interface(m))
        rows.append((f"interface model {model}", len(atoms), t, target))
        print(report(atoms).text(), file=sys.stderr)
    seeds, t_seed = _timed(lambda: seed_set(args.n, seed=0))
    rows.append((f"seed set, {args.n} configurations", sum(len(a) for a in seeds), t_seed, None))
    print(f"{'task':45s} {'atoms':>8s} {'time s':>8s} {'limit s':>8s} {'time/limit':>10s}")
    for name, n, t, limit in rows:
        ratio = f"{t / limit:10.3f}" if limit else f"{'':>10s}"
        print(f"{name:45s} {n:8d} {t:8.2f} {limit if limit else '':>8} {ratio}")
    total = t_lpsc + rows[3][2]
    print(f"model II total incl. LPSC ordering: {total:.2f} s (limit 30 s, ratio {total / 30.0:.3f})")
    kinds = Counter(a.info["seed_kind"] for a in seeds)
    print("seed kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
          + f"; largest cell {max(len(a) for a in seeds)} atoms")


if __name__ == "__main__":
    main()
