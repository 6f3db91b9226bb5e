"""Energy+forces cost of a level-8, 4-species MTP on a 416-atom Li6PS5Cl supercell: ours vs motep vs MLIP-3.

Run: .venv/bin/python benchmarks/mtp_efs.py [--repeat N]
"fresh": every call rebuilds the neighbour list (a new structure, as in calc-efs / grading);
"reused": the same structure moved by less than the skin (an MD step), so the list is kept.
MLIP-3: ``mlp calculate_efs`` timed in the same run when mlp is on PATH or $SEILEARN_MLP (fresh list
only: each configuration is a new one to mlp; its per-atom figure includes parsing and writing the
.cfg text, ~1-2 us/atom); otherwise DESIGN.md section 4b's figures (one core of this machine kind).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlip3_cli import MLP, find_mlp  # noqa: E402
from seilearn.mtp.potential import MTPCalculator, Potential  # noqa: E402
from seilearn.mtp.templates import make_template  # noqa: E402
from seilearn.species import DEFAULT_SPECIES  # noqa: E402
from seilearn.structures.phases import lpsc  # noqa: E402

MLIP3 = {"fresh": 9.7, "reused": 5.5}  # us/atom, DESIGN.md 4b


def _model(seed: int = 0):
    rng = np.random.default_rng(seed)
    m = make_template(8, 4, 1.6, 5.0)
    m.scaling = 1.0
    m.radial_coeffs = rng.normal(scale=0.1, size=(4, 4, m.radial_funcs_count, m.radial_basis.size))
    m.species_coeffs = rng.normal(size=4)
    m.moment_coeffs = rng.normal(scale=0.1, size=m.alpha_scalar_moments)
    return m


def _time(calc_factory, atoms, mode: str, repeat: int) -> float:
    """Best-of-3 mean seconds per energy+forces call."""
    rng = np.random.default_rng(1)
    best = np.inf
    for _ in range(3):
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    from motep.calculator import MTP as MotepMTP

    atoms = lpsc().repeat((2, 2, 2))
    atoms.rattle(0.02, seed=0)
    n = len(atoms)
    model = _model()
    species = list(DEFAULT_SPECIES)
    ours = lambda: MTPCalculator(Potential(model, species))  # noqa: E731
    motep = lambda: MotepMTP(model, engine="cext")  # noqa: E731
    a = atoms.copy(); a.calc = ours(); e1, f1 = a.get_potential_energy(), a.get_forces()  # noqa: E702
    b = atoms.copy(); b.calc = motep(); e2, f2 = b.get_potential_energy(), b.get_forces()  # noqa: E702
    print(f"{n} atoms, {model.alpha_scalar_moments} moments; |dE| ours vs motep = {abs(e1 - e2):.2e} eV, "
          f"max |dF| = {np.abs(f1 - f2).max():.2e} eV/A")
    ref, label = dict(MLIP3), "DESIGN.md 4b (no mlp on PATH or $SEILEARN_MLP)"
    exe = find_mlp()
    if exe:
        m = MLP(exe, species)
        try:
            pot_mtp = m.write_mtp("pot.mtp", model)
            rng = np.random.default_rng(2)
            frames = []
            for _ in range(11):
                f = atoms.copy()
                f.positions += rng.normal(scale=1e-3, size=f.positions.shape)
                frames.append(f)
            per_cfg = m.per_item(frames[:1], frames, lambda cfg, out: ["calculate_efs", pot_mtp, cfg,
                                                                      f"--output_filename={out}"])
            ref["fresh"] = per_cfg / n * 1e6
            label = "mlp calculate_efs, this run (reused: DESIGN.md 4b)"
        finally:
            m.close()
    print(f"MLIP-3 column: {label}")
    print(f"{'task':<32}{'ours us/atom':>14}{'motep us/atom':>15}{'MLIP-3':>9}{'motep/ours':>12}{'ours/MLIP-3':>13}")
    for mode in ("fresh", "reused"):
        t_ours = _time(ours, atoms, mode, args.repeat) / n * 1e6
        t_motep = _time(motep, atoms, mode, max(args.repeat // 4, 3) if mode == "fresh" else args.repeat) / n * 1e6
        print(f"{'energy+forces, ' + mode + ' list':<32}{t_ours:>14.1f}{t_motep:>15.1f}{ref[mode]:>9.1f}"
              f"{t_motep / t_ours:>12.2f}{t_ours / ref[mode]:>13.2f}")


if __name__ == "__main__":
    main()
