"""Tiny labelled data sets for training tests: EMT-labelled Cu/Ag cells and a random-MTP teacher."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

SPECIES = ["Cu", "Ag"]


def cells(n: int, seed: int = 0) -> list[Atoms]:
    """``n`` rattled, strained 16-atom fcc Cu cells with 4 Ag, unlabelled."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        a = bulk("Cu", "fcc", a=3.65, cubic=True).repeat((2, 2, 1))
        syms = a.get_chemical_symbols()
        for i in rng.choice(len(a), 4, replace=False):
            syms[i] = "Ag"
        a.set_chemical_symbols(syms)
        a.set_cell(a.cell * (1 + 0.02 * rng.standard_normal()), scale_atoms=True)
        a.rattle(0.1, seed=seed * 1000 + k)
        out.append(a)
    return out


def label(atoms_list: list[Atoms], calc_factory) -> list[Atoms]:
    out = []
    for a in atoms_list:
        a = a.copy()
        a.calc = calc_factory()
        e, f, s = a.get_potential_energy(), a.get_forces(), a.get_stress()
        a.calc = SinglePointCalculator(a, energy=e, forces=f, stress=s)
        out.append(a)
    return out


@pytest.fixture(scope="session")
def emt_data() -> list[Atoms]:
    return label(cells(10), EMT)
