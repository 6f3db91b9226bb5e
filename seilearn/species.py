"""Species conventions: the MTP type index of an element is its position in the species list."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from seilearn.errors import InputError

DEFAULT_SPECIES: tuple[str, ...] = ("Li", "P", "S", "Cl")


def type_indices(atoms: Atoms, species: Sequence[str] | None, where: str = "configuration") -> np.ndarray:
    """MTP type of every atom: its symbol's index in ``species``.

    Configurations read from a .cfg without a species list carry placeholder symbols ``X`` and their types
    in ``atoms.arrays["mtp_type"]``; those types are returned as they are.
    """
    symbols = atoms.get_chemical_symbols()
    if "mtp_type" in atoms.arrays and all(s == "X" for s in symbols):
        return np.asarray(atoms.arrays["mtp_type"], dtype=np.int32)
    if species is None:
        raise InputError(f"{where}: the species list is needed to give its atoms MTP types (pass --species or the "
                         "potential's species)")
    index = {s: k for k, s in enumerate(species)}
    missing = sorted(set(symbols) - set(index))
    if missing:
        raise InputError(f"{where}: species {', '.join(missing)} not in the species list {list(species)}")
    return np.fromiter((index[s] for s in symbols), dtype=np.int32, count=len(symbols))
