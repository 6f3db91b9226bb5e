"""Energy+forces(+stress) cost of a level-8, 4-species MTP: ours vs motep 0.2.0 vs MLIP-3, and our thread scaling.

Run: .venv/bin/python benchmarks/mtp_efs.py [--quick]   (also part of benchmarks/run_all.py)

- 416-atom Li6PS5Cl supercell, "fresh" (every call a new structure: new neighbour list, as in calc-efs or
  grading) and "reused" (moved by less than the skin, an MD step: the list is kept), one thread;
- the model-I interface (7,956 atoms, ``build_interface("I")``), fresh list, on 1 and 2 threads
  (``SEILEARN_THREADS``), and the speed-up.

MLIP-3: ``mlp calculate_efs`` per configuration in the same run when mlp is on PATH or $SEILEARN_MLP (start-up
and potential loading cancel out: t(k frames) - t(1 frame); its figure includes parsing and writing the .cfg
text, ~1-2 us/atom). Figures are the best of several runs, in us/atom.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlip3_cli import MLP, find_mlp  # noqa: E402
from benchmarks.table import row  # noqa: E402
from seilearn.mtp.potential import MTPCalculator, Potential  # noqa: E402
from seilearn.mtp.templates import make_template  # noqa: E402
from seilearn.species import DEFAULT_SPECIES  # noqa: E402

GROUP = "E+F"


def _model(seed: int = 0):
    rng = np.random.default_rng(seed)
    m = make_template(8, 4, 1.6, 5.0)
    m.scaling = 1.0
    m.radial_coeffs = rng.normal(scale=0.1, size=(4, 4, m.radial_funcs_count, m.radial_basis.size))
    m.species_coeffs = rng.normal(size=4)
    m.moment_coeffs = rng.normal(scale=0.1, size=m.alpha_scalar_moments)
    return m


def _time(calc_factory, atoms, mode: str, repeat: int, rounds: int = 3) -> float:
    """Best-of-``rounds`` mean seconds per energy+forces call."""
    rng = np.random.default_rng(1)
    best = np.inf
    for _ in range(rounds):
        calc = calc_factory()
        a = atoms.copy()
        a.calc = calc
        a.get_forces()  # warm-up (and first list for "reused")
        t0 = time.perf_counter()
        for _ in range(repeat):
            if mode == "fresh":
                a.calc = calc = calc_factory()
                a.positions += rng.normal(scale=1e-3, size=a.positions.shape)
            else:
                a.positions += rng.normal(scale=1e-4, size=a.positions.shape)
            a.get_potential_energy()
            a.get_forces()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best


def _with_threads(n: int, fn):
    old = os.environ.get("SEILEARN_THREADS")
    os.environ["SEILEARN_THREADS"] = str(n)
    try:
        return fn()
    finally:
        if old is None:
            os.environ.pop("SEILEARN_THREADS", None)
        else:
            os.environ["SEILEARN_THREADS"] = old


def _mlp_per_atom(model, species, frame, copies: int) -> float | None:
    """``mlp calculate_efs`` us/atom on ``frame`` (t(copies) - t(1)) / (copies - 1), or None without mlp."""
    exe = find_mlp()
    if not exe:
        return None
    m = MLP(exe, species)
    try:
        pot_mtp = m.write_mtp("pot.mtp", model)
        rng = np.random.default_rng(2)
        frames = []
        for _ in range(copies):
            f = frame.copy()
            f.positions += rng.normal(scale=1e-3, size=f.positions.shape)
            frames.append(f)
        per_cfg = m.per_item(frames[:1], frames, lambda cfg, out: ["calculate_efs", pot_mtp, cfg,
                                                                  f"--output_filename={out}"])
        return per_cfg / len(frame) * 1e6
    finally:
        m.close()


def results(quick: bool = False) -> list[dict]:
    """The table rows (us/atom; the speed-up in x)."""
    from motep.calculator import MTP as MotepMTP

    from seilearn.structures.interface import build_interface
    from seilearn.structures.phases import lpsc

    species = list(DEFAULT_SPECIES)
    model = _model()
    ours = lambda: MTPCalculator(Potential(model, species))  # noqa: E731
    motep = lambda: MotepMTP(model, engine="cext")  # noqa: E731
    repeat = 5 if quick else 20
    out = []

    small = lpsc().repeat((2, 2, 2))
    small.rattle(0.02, seed=0)
    n = len(small)
    a = small.copy(); a.calc = ours(); e1, f1 = a.get_potential_energy(), a.get_forces()  # noqa: E702
    b = small.copy(); b.calc = motep(); e2, f2 = b.get_potential_energy(), b.get_forces()  # noqa: E702
    check = f"|dE| vs motep {abs(e1 - e2):.1e} eV, max |dF| {np.abs(f1 - f2).max():.1e} eV/A"
    mlp_small = _mlp_per_atom(model, species, small, 6 if quick else 11)
    for mode in ("fresh", "reused"):
        t_ours = _with_threads(1, lambda m=mode: _time(ours, small, m, repeat)) / n * 1e6
        t_motep = _time(motep, small, mode, max(repeat // 4, 3) if mode == "fresh" else repeat) / n * 1e6
        out.append(row(GROUP, f"{n} atoms, {mode} list, 1 thread", "us/atom", t_ours, t_motep,
                       mlp_small if mode == "fresh" else None, check if mode == "fresh" else "MD step"))

    big = build_interface("I")
    nb = len(big)
    per_thread = {}
    for threads in (1, 2):
        per_thread[threads] = _with_threads(threads, lambda: _time(ours, big, "fresh", 2 if quick else 5,
                                                                   rounds=3 if quick else 5)) / nb * 1e6
    t_motep_big = _time(motep, big, "fresh", 1, rounds=1 if quick else 2) / nb * 1e6
    mlp_big = _mlp_per_atom(model, species, big, 3 if quick else 5)
    out.append(row(GROUP, f"model I ({nb} atoms), fresh list, 1 thread", "us/atom", per_thread[1], t_motep_big,
                   mlp_big))
    out.append(row(GROUP, f"model I ({nb} atoms), fresh list, 2 threads", "us/atom", per_thread[2], None, None,
                   f"{os.cpu_count()} cores here"))
    out.append(row(GROUP, "model I speed-up, 2 vs 1 thread (target >= 1.8)", "x", per_thread[1] / per_thread[2]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    from benchmarks.run_all import print_table

    print_table(results(args.quick))


if __name__ == "__main__":
    main()
