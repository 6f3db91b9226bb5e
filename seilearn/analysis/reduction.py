"""Reduced fraction alpha from P-S coordination (the paper's definition; docs/architecture.md).

alpha = (8 N(P) + 6 N(PS) + 4 N(PS2) + 2 N(PS3)) / 8Z, N(PS_k) = number of P with k S neighbours
within the cutoff (3.0 A), Z = number of P (formula units): two electrons per broken P-S bond.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

WEIGHTS = np.array([8, 6, 4, 2, 0])  # electrons still to come for PS_k, k = 0..4


def ps_counts(atoms: Atoms, cutoff: float = 3.0) -> np.ndarray:
    """N(PS_k) for k = 0..4 (P with more than 4 S counted as PS4)."""
    sym = np.asarray(atoms.get_chemical_symbols())
    p = atoms.positions[sym == "P"]
    s = atoms.positions[sym == "S"]
    if len(p) == 0:
        return np.zeros(5, dtype=int)
    if len(s) == 0:
        return np.array([len(p), 0, 0, 0, 0])
    cell = np.asarray(atoms.cell)
    ortho = np.allclose(cell, np.diag(np.diag(cell))) and atoms.pbc.all()
    if ortho:
        box = np.diag(cell)
        tree = cKDTree(np.mod(s, box), boxsize=box)
        neigh = tree.query_ball_point(np.mod(p, box), cutoff, return_length=True)
    else:
        from ase.neighborlist import neighbor_list

        i, j = neighbor_list("ij", atoms, cutoff)
        is_p = sym[i] == "P"
        is_s = sym[j] == "S"
        pidx = np.where(sym == "P")[0]
        counts = np.bincount(i[is_p & is_s], minlength=len(atoms))
        neigh = counts[pidx]
    k = np.minimum(np.asarray(neigh), 4)
    return np.bincount(k, minlength=5)


def reduced_fraction(counts: np.ndarray) -> float:
    z = counts.sum()
    return float((WEIGHTS * counts).sum() / (8 * z)) if z else 0.0
