"""Content hashes: the same structure is never stored twice."""

from __future__ import annotations

import hashlib

import numpy as np
from ase import Atoms

DECIMALS = 4  # positions and cell rounded to 1e-4 A


def structure_hash(atoms: Atoms) -> str:
    """SHA-256 of species + positions (wrapped, rounded to 1e-4 A, order-independent) + cell + pbc."""
    numbers = atoms.get_atomic_numbers()
    positions = atoms.get_positions(wrap=bool(atoms.pbc.any()))
    # -0.0 and 0.0 must hash alike; so must coordinates that wrap to the cell edge
    pos = np.round(positions, DECIMALS) + 0.0
    cell = np.round(np.asarray(atoms.cell), DECIMALS) + 0.0
    if atoms.pbc.all() and abs(np.linalg.det(cell)) > 1e-9:
        # wrap after rounding so an atom at x = L - 1e-6 and one at x = 0 hash alike
        frac = np.round(np.linalg.solve(cell.T, pos.T).T, 6) % 1.0
        pos = np.round(frac @ cell, DECIMALS) + 0.0
    order = np.lexsort((pos[:, 2], pos[:, 1], pos[:, 0], numbers))
    h = hashlib.sha256()
    h.update(np.asarray(numbers[order], dtype=np.int64).tobytes())
    h.update(np.asarray(np.rint(pos[order] * 10**DECIMALS), dtype=np.int64).tobytes())
    h.update(np.asarray(np.rint(cell * 10**DECIMALS), dtype=np.int64).tobytes())
    h.update(np.asarray(atoms.pbc, dtype=np.int8).tobytes())
    return h.hexdigest()


def config_id_for(hash_hex: str) -> str:
    """The short, stable configuration id derived from the content hash."""
    return "c" + hash_hex[:12]
