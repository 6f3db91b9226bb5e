"""MD benchmark: exploration MD steps/s with grading every k steps beside the same run without grading.

Run: ``.venv/bin/python benchmarks/md.py [steps]`` (a few minutes). The engine is seilearn's ASE
driver (NoseHooverChainNVT) with the real MTPCalculator (seilearn's compiled kernel); the potential is the level-8,
4-species template with random reproducible coefficients (269 parameters; speed does not depend on the
coefficients' values), the active set is built (nbh) from 60 random Li-P-S-Cl frames. Cells: Li6PS5Cl
2x2x2 (416 atoms) and 3x3x4 (1,872 atoms), NVT 50 K, 0.25 fs (random coefficients are not a
physical potential; the short run only has to stay finite). The reference is the ungraded run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import logging  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seilearn.md.exploration import explore  # noqa: E402
from seilearn.selection.active_set import build_active_set  # noqa: E402
from seilearn.structures import bulk  # noqa: E402
from tests.selection.helpers import frame_of_size, random_potential  # noqa: E402


def main() -> None:
    logging.getLogger("motep").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    pot = random_potential(seed=1)
    aset = build_active_set(pot, [frame_of_size(35, seed=s) for s in range(60)], "nbh")

    def grader(atoms):
        return aset.grade(pot, atoms)[0]

    print(f"{'cell':>12} {'k':>4} {'steps/s graded':>15} {'steps/s plain':>14} {'ratio':>6} {'grading %':>9} status")
    for reps in ((2, 2, 2), (3, 3, 4)):
        atoms = bulk("lpsc", supercell=reps)
        for k in (10, 50):
            kw = dict(steps=steps, temperature=50, pressure_bar=1.0, ensemble="nvt", timestep_fs=0.25,
                      grade_every=k, threshold_save=1e300, threshold_break=1e301, seed=1)
            plain = explore(atoms, pot.calculator(), None, **kw)
            graded = explore(atoms, pot.calculator(), grader, **kw)
            sp, sg = plain.steps_done / plain.wall_s, graded.steps_done / graded.wall_s
            print(f"{len(atoms):>7} atoms {k:>4} {sg:>15.1f} {sp:>14.1f} {sg / sp:>6.2f} "
                  f"{100 * graded.grading_s / graded.wall_s:>8.1f}% {graded.status}/{plain.status}")


if __name__ == "__main__":
    main()
