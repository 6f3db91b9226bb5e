"""Selection-matrix rows of configurations: one per configuration (cfg mode) or per atom (nbh mode)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms

from seilearn.errors import InputError

MODES = ("cfg", "nbh")


def rows_of(potential, atoms: Atoms, mode: str) -> np.ndarray:
    """cfg: dE/dtheta / N (one row; MLIP's weight_scaling 2); nbh: dV_i/dtheta (one row per atom)."""
    if mode == "cfg":
        return (potential.energy_jacobian(atoms) / len(atoms))[None, :]
    if mode == "nbh":
        return potential.site_energy_jacobian(atoms)
    raise InputError(f"selection mode {mode!r} must be cfg or nbh")


def stack_rows(potential, atoms_list: Sequence[Atoms], mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows, configuration index of each row) for a list of configurations."""
    blocks, owners = [], []
    for k, atoms in enumerate(atoms_list):
        r = rows_of(potential, atoms, mode)
        blocks.append(r)
        owners.append(np.full(len(r), k, dtype=np.int64))
    if not blocks:
        return np.zeros((0, potential.n_params)), np.zeros(0, dtype=np.int64)
    return np.vstack(blocks), np.concatenate(owners)
