"""Checks shared by every stage that takes structures in (building, labelling, MD)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.neighborlist import neighbor_list

from seilearn.errors import InputError
from seilearn.species import DEFAULT_SPECIES

FORMAL_CHARGES = {"Li": 1, "P": 5, "S": -2, "Cl": -1}


def shortest_contacts(atoms: Atoms, cutoff: float = 3.0) -> dict[str, float]:
    """The shortest distance for each element pair (e.g. ``"Li-S"``) within ``cutoff``."""
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    z = atoms.numbers
    lo, hi = np.minimum(z[i], z[j]), np.maximum(z[i], z[j])
    pair = lo * 1000 + hi
    out: dict[str, float] = {}
    for key in np.unique(pair):
        a, b = sorted((chemical_symbols[key // 1000], chemical_symbols[key % 1000]))
        out[f"{a}-{b}"] = float(d[pair == key].min())
    return out


def validate_structure(atoms: Atoms, allowed_species: Iterable[str] = DEFAULT_SPECIES, min_distance: float = 0.5,
                       name: str = "structure") -> Atoms:
    """Raise ``InputError`` naming the problem if ``atoms`` is empty, has a species outside
    ``allowed_species``, non-finite positions, or two atoms closer than ``min_distance`` (A).

    Returns ``atoms`` so it can be used inline. ``name`` says which input (file, index) is checked.
    """
    allowed = list(allowed_species)
    if atoms is None or len(atoms) == 0:
        raise InputError(f"{name}: empty structure (no atoms); give a structure with at least one atom")
    unknown = sorted(set(atoms.get_chemical_symbols()) - set(allowed))
    if unknown:
        raise InputError(f"{name}: unknown species {', '.join(unknown)}; allowed species are {', '.join(allowed)}")
    if not np.all(np.isfinite(atoms.positions)):
        raise InputError(f"{name}: non-finite atomic positions")
    if atoms.pbc.any() and abs(atoms.cell.volume) < 1e-6 and atoms.pbc.all():
        raise InputError(f"{name}: periodic structure with a zero-volume cell; set the cell")
    if len(atoms) > 1:
        i, j, d = neighbor_list("ijd", atoms, min_distance, self_interaction=False)
        if len(d):
            k = int(np.argmin(d))
            raise InputError(f"{name}: overlapping atoms {int(i[k])} and {int(j[k])} ({atoms[int(i[k])].symbol}-"
                             f"{atoms[int(j[k])].symbol} {d[k]:.3f} A < {min_distance} A); remove or move one")
    return atoms


def charge(atoms: Atoms, charges: dict[str, int] | None = None) -> int:
    """Total formal charge (Li+ P5+ S2- Cl- by default)."""
    charges = charges or FORMAL_CHARGES
    return int(sum(charges[s] for s in atoms.get_chemical_symbols()))


def ps4_coordination(atoms: Atoms, cutoff: float = 3.0) -> np.ndarray:
    """Number of S neighbours within ``cutoff`` of each P (in index order)."""
    sym = np.array(atoms.get_chemical_symbols())
    i, j = neighbor_list("ij", atoms, cutoff)
    count = np.bincount(i[(sym[i] == "P") & (sym[j] == "S")], minlength=len(atoms))
    return count[sym == "P"]
