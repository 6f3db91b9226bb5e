"""Chemistry of a cut: bonded units kept whole, valence-electron counts, minimum contact distances.

Valence electrons are those of the VASP PBE PAW potentials usually used for Li-P-S-Cl (Li_sv, P, S, Cl):
an odd total means an open shell, so the labeller must run spin-polarised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from ase.data import atomic_numbers, covalent_radii

# ZVAL of the PAW potentials usually used for this system: Li_sv (1s2 2s1), P, S, Cl (s and p valence)
VALENCE_ELECTRONS = {"Li": 3, "P": 5, "S": 6, "Cl": 7}
PAW_NAMES = {"Li": "Li_sv", "P": "P", "S": "S", "Cl": "Cl"}
BOND_CUTOFF = 3.0  # A: P-S bonds of PS_k units (the reduced-fraction analysis uses the same cutoff)
CONTACT_FACTOR = 0.75  # minimum contact = this x the sum of covalent radii (0.75 x 2.33 = 1.75 A for Li-S)
UNIT_BONDS = (("P", "S"),)


def units(symbols: Sequence[str], positions: np.ndarray, bond_cutoff: float = BOND_CUTOFF) -> np.ndarray:
    """Unit label of every atom: P-S bonded groups (PS4, PS3, ... and their bridges) share one label,
    every other atom is its own unit. ``positions`` are unwrapped Cartesian coordinates (no periodicity)."""
    from ase import Atoms

    from seilearn.mtp.potential import neighbour_pairs

    sym = np.asarray(symbols)
    labels = np.arange(len(sym))
    if not len(sym):
        return labels
    i, j, _ = neighbour_pairs(Atoms(positions=positions, pbc=False), bond_cutoff)
    bonded = np.zeros(len(i), bool)
    for x, y in UNIT_BONDS:
        bonded |= (sym[i] == x) & (sym[j] == y)
    i, j = i[bonded], j[bonded]
    # connected components by minimum-label propagation (a few passes: units are at most a few bonds wide);
    # SciPy's csgraph would do it too, at a second of import time per command
    while len(i):
        m = np.minimum(labels[i], labels[j])
        new = labels.copy()
        np.minimum.at(new, i, m)
        np.minimum.at(new, j, m)
        if np.array_equal(new, labels):
            break
        labels = new
    return np.unique(labels, return_inverse=True)[1]


def electron_count(symbols: Sequence[str]) -> int | None:
    """Valence electrons of the PAW potentials above; None when a species has no entry."""
    try:
        return int(sum(VALENCE_ELECTRONS[s] for s in symbols))
    except KeyError:
        return None


def composition(symbols: Sequence[str]) -> dict[str, int]:
    """Atoms per species, in the order they first appear."""
    return dict(Counter(symbols))


def min_contact(a: str, b: str, floor: float = 0.0) -> float:
    """Shortest allowed new contact between species ``a`` and ``b`` in a repaired cut (A)."""
    r = covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]
    return max(CONTACT_FACTOR * float(r), floor)
