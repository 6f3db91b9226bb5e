"""Geometry of a cut: displacements from a centre atom over periodic images, and the periodic boxes.

A box is the fcc lattice T (rows are cell vectors) whose Wigner-Seitz cell, a rhombic dodecahedron, has
inradius r: every point of the sphere of radius r around the centre lies inside the cell, and every periodic
image of a point of the cell is at least r from the centre. It holds the sphere in 1/sqrt(2) of the volume of
the cube of side 2r (29 % fewer atoms for the same exact radius; a cube also needs far more growth past clashes).
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms

_CORNER = np.sqrt(2.0)  # circumradius / inradius of the rhombic dodecahedron: how far its corners reach


def displacements(atoms: Atoms, centre: int, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """(parent index, displacement from the centre) of every atom and periodic image within ``reach``.

    An atom appears once per image within reach (twice or more only when the cell is narrower than 2 x reach).
    """
    pos = atoms.get_positions()
    d = pos - pos[centre]
    pbc = np.asarray(atoms.pbc, bool)
    cell = np.asarray(atoms.cell)
    if pbc.any():
        frac = np.linalg.solve(cell.T, d.T).T
        frac[:, pbc] -= np.round(frac[:, pbc])
        d = frac @ cell
        volume = abs(np.linalg.det(cell))
        ranges = []
        for k in range(3):
            if not pbc[k]:
                ranges.append((0,))
                continue
            width = volume / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3]))
            n = int(np.ceil(reach / width))
            ranges.append(tuple(range(-n, n + 1)))
        shifts = np.array(list(itertools.product(*ranges)), float) @ cell
    else:
        shifts = np.zeros((1, 3))
    index, vectors = [], []
    reach2 = reach * reach
    for s in shifts:
        v = d + s
        keep = np.einsum("ij,ij->i", v, v) <= reach2
        index.append(np.flatnonzero(keep))
        vectors.append(v[keep])
    return np.concatenate(index), np.concatenate(vectors)


def box_lattice(inradius: float) -> np.ndarray:
    """Cell vectors (rows) of the fcc box whose Wigner-Seitz cell has the given inradius."""
    return np.sqrt(2.0) * inradius * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def corner_radius(inradius: float) -> float:
    """Distance from the centre to the farthest corner of the box's Wigner-Seitz cell."""
    return float(_CORNER * inradius)


def _lattice_points(lattice: np.ndarray) -> np.ndarray:
    n = np.array([v for v in itertools.product((-1, 0, 1), repeat=3) if any(v)], float)
    return n @ lattice


def in_cell(vectors: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Which displacements lie in the Wigner-Seitz cell of ``lattice`` (closer to 0 than to any lattice point).

    The 26 points n . T with n in {-1, 0, 1}^3 include the 12 nearest lattice points that bound the cell.
    """
    t = _lattice_points(lattice)
    return np.all(vectors @ t.T <= 0.5 * np.einsum("ij,ij->i", t, t)[None, :], axis=1)


def image_distances(vectors: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Distance from the centre to the nearest non-identity periodic image of each point."""
    t = _lattice_points(lattice)
    best = np.full(len(vectors), np.inf)
    for s in t:
        v = vectors + s
        best = np.minimum(best, np.sqrt(np.einsum("ij,ij->i", v, v)))
    return best
