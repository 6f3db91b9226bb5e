"""PTM crystallinity on an orthorhombic (cKDTree path) and a triclinic (OVITO finder path) antifluorite,
and on a hard-sphere random packing at the same anion density."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.spacegroup import crystal

from seilearn.analysis.crystallinity import crystalline_fraction


def _antifluorite_cubic(seed: int = 0) -> Atoms:
    """Conventional antifluorite cells (a = 5.9 A), anions S:P:Cl = 5:1:1 at random (28 anions)."""
    a = crystal(["S", "Li"], [(0, 0, 0), (0.25, 0.25, 0.25)], spacegroup=225, cellpar=[5.9, 5.9, 5.9, 90, 90, 90])
    a = a.repeat((7, 2, 1))  # 56 anions: 40 S, 8 P, 8 Cl
    sym = np.array(a.get_chemical_symbols())
    anions = np.where(sym == "S")[0]
    rng = np.random.default_rng(seed)
    pick = rng.permutation(anions)
    k = len(anions) // 7
    sym[pick[:k]] = "P"
    sym[pick[k:2 * k]] = "Cl"
    a.set_chemical_symbols(sym.tolist())
    return a


def test_orthorhombic_perfect_and_rattled_are_crystalline():
    a = _antifluorite_cubic()
    assert crystalline_fraction(a) == pytest.approx({"c": 1.0, "c_fcc": 1.0, "c_hcp": 0.0})
    a.rattle(0.2, seed=3)
    assert crystalline_fraction(a)["c"] > 0.9


def test_triclinic_cell_of_the_same_crystal():
    a = _antifluorite_cubic()
    cell = np.array(a.cell)
    cell[2] = cell[2] + cell[0] / 7  # a lattice vector added: same crystal, triclinic box
    a.set_cell(cell, scale_atoms=False)
    a.wrap()
    assert crystalline_fraction(a)["c"] == pytest.approx(1.0)


def test_random_hard_sphere_packing_is_not_crystalline():
    ref = _antifluorite_cubic()
    anions = [s for s in ref.get_chemical_symbols() if s != "Li"]
    box = np.diag(np.array(ref.cell))
    rng = np.random.default_rng(0)
    pos: list[np.ndarray] = []
    while len(pos) < len(anions):  # random sequential addition, no two anions closer than 3.0 A
        x = rng.uniform(0, 1, 3) * box
        if all(np.linalg.norm((x - p) - box * np.round((x - p) / box)) > 3.0 for p in pos):
            pos.append(x)
    rand = Atoms(anions, positions=pos, cell=ref.cell, pbc=True)
    assert crystalline_fraction(rand)["c"] < 0.02
