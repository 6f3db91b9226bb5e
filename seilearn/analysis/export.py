"""Per-frame structure export with every atom classified (the paper's Fig. 3 colouring).

Classes: ``ps4`` (P and S of unreduced PS4 units), ``amorphous`` (reduced, non-crystalline anions),
``crystalline`` (anions matched by PTM with their neighbours), ``li_metal`` (Li with no anion within the
cutoff), ``li_ionic`` (other Li), ``cl`` (non-crystalline Cl of the electrolyte). Written as extxyz with a
``class`` string array and a ``color`` RGB array that OVITO and ASE viewers read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import write

from seilearn.analysis.crystallinity import crystalline_anions
from seilearn.analysis.trajectory import _neighbour_counts
from seilearn.fileio import atomic_write

COLOURS = {"ps4": (0.98, 0.75, 0.18), "amorphous": (0.85, 0.20, 0.20), "crystalline": (0.20, 0.45, 0.85),
           "li_metal": (0.70, 0.70, 0.70), "li_ionic": (0.55, 0.85, 0.55), "cl": (0.30, 0.75, 0.30)}


def classify_atoms(atoms: Atoms, cutoff: float = 3.0) -> np.ndarray:
    """A class name per atom (see the module docstring)."""
    sym = np.asarray(atoms.get_chemical_symbols())
    cls = np.full(len(atoms), "amorphous", dtype=object)
    p = np.where(sym == "P")[0]
    s = np.where(sym == "S")[0]
    li = np.where(sym == "Li")[0]
    anions = np.where(np.isin(sym, ("S", "P", "Cl")))[0]
    # a P with 4 S within the cutoff is an intact PS4; its S are the S within the cutoff of it
    intact = p[_neighbour_counts(atoms, p, s, cutoff) >= 4]
    cls[intact] = "ps4"
    if len(intact) and len(s):
        cls[s[_neighbour_counts(atoms, s, intact, cutoff) > 0]] = "ps4"
    cls[sym == "Cl"] = "cl"
    masks = crystalline_anions(atoms)
    cls[masks["fcc"] | masks["hcp"]] = "crystalline"
    metal = _neighbour_counts(atoms, li, anions, cutoff) == 0
    cls[li[metal]] = "li_metal"
    cls[li[~metal]] = "li_ionic"
    return cls.astype(str)


def export_classified(atoms: Atoms, path: str | Path, cutoff: float = 3.0) -> dict[str, int]:
    """Write ``atoms`` as extxyz with ``class`` and ``color`` arrays; returns the count per class."""
    cls = classify_atoms(atoms, cutoff)
    out = atoms.copy()
    out.calc = None
    out.new_array("class", cls)
    out.new_array("color", np.array([COLOURS[c] for c in cls], float))
    with atomic_write(path) as handle:
        write(handle, out, format="extxyz")
    names, counts = np.unique(cls, return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}
