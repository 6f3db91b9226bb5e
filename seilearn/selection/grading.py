"""Extrapolation grades of configurations against an active set (always with the stored A^-1).

gamma = max |B A^-1| over the configuration's rows and the active set's columns. In nbh mode every
atom has its own grade (kept in ``atoms.arrays['nbh_grades']``) and the configuration's grade is the
largest; in cfg mode the configuration has one row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.selection.active_set import ActiveSet
from seilearn.selection.features import rows_of
from seilearn.selection.maxvol import grades


def grade(potential, active_set: ActiveSet, atoms: Atoms) -> tuple[float, np.ndarray]:
    """(configuration grade, per-row grades) of one configuration."""
    return active_set.grade(potential, atoms)


def grade_configurations(potential, active_set: ActiveSet, atoms_list: Sequence[Atoms], mode: str | None = None,
                         progress: bool = False) -> list[Atoms]:
    """Copies of ``atoms_list`` with ``info['mv_grade']`` (and ``arrays['nbh_grades']`` in nbh mode).

    ``mode`` (cfg or nbh), when given, must match the active set's weights.
    """
    if mode is not None and mode != active_set.mode:
        raise InputError(f"the active set was built in {active_set.mode} mode, not {mode}; rebuild it with "
                         f"--mode {mode} from the training set")
    active_set._check(potential)
    it = atoms_list
    if progress and len(atoms_list) > 20:
        from tqdm import tqdm

        it = tqdm(atoms_list, desc="grading", unit="cfg", leave=False)
    out = []
    for atoms in it:
        g = grades(rows_of(potential, atoms, active_set.weights), active_set.A_inv)
        graded = atoms.copy()
        graded.calc = atoms.calc  # keep the labels (SinglePointCalculator) for writing
        graded.info["mv_grade"] = float(g.max())
        if active_set.mode == "nbh":
            graded.arrays["nbh_grades"] = g
        elif "nbh_grades" in graded.arrays:
            del graded.arrays["nbh_grades"]
        out.append(graded)
    return out
