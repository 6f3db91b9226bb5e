"""Li6PS5Cl, the SEI phases, the paper's interface models and seed sets."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from seilearn.structures import build_interface, bulk, lpsc, report, seed_set
from seilearn.structures.phases import antifluorite_solid_solution

CHARGES = {"Li": 1, "P": 5, "S": -2, "Cl": -1}


def test_lpsc_recipe():
    a = lpsc()
    assert a.get_chemical_formula() == "Cl4Li24P4S20"
    assert sum(CHARGES[s] for s in a.get_chemical_symbols()) == 0
    i, j, d = neighbor_list("ijd", a, 2.3)
    sym = np.array(a.get_chemical_symbols())
    for p in np.where(sym == "P")[0]:
        ds = d[(i == p) & (sym[j] == "S")]
        assert len(ds) == 4 and np.allclose(ds, 2.05, atol=1e-3)
    assert neighbor_list("d", a, 1.9).size == 0
    assert a.info["ewald_energy_eV"] < 0


@pytest.mark.parametrize("name, formula", [("li", "Li2"), ("li2s", "Li8S4"), ("li3p", "Li6P2"), ("licl", "Cl4Li4")])
def test_bulk_phases(name, formula):
    a = bulk(name)
    assert a.get_chemical_formula() == formula and neighbor_list("d", a, 1.9).size == 0


def test_solid_solution_is_charge_balanced_antifluorite():
    a = antifluorite_solid_solution(seed=3)
    sym = a.get_chemical_symbols()
    assert (sym.count("S"), sym.count("P"), sym.count("Cl"), sym.count("Li")) == (5, 1, 1, 14)
    reduced = {**CHARGES, "P": -3}  # in the reduced product phosphorus is phosphide, P3-
    assert sum(reduced[s] for s in sym) == 0


def test_model_I_counts_and_area():
    atoms = build_interface("I")
    r = report(atoms)
    assert len(atoms) == 7956 and r.n_formula_units == 288 and r.n_li_metal == 4212
    assert r.area == pytest.approx(1345.07, abs=0.01)
    assert min(r.shortest.values()) >= 1.9
    assert r.shortest["P-S"] == pytest.approx(2.05, abs=0.01)  # every PS4 whole across the cut
    sym = np.array(atoms.get_chemical_symbols())
    i, j = neighbor_list("ij", atoms, 2.3)
    s_per_p = np.bincount(i[(sym[i] == "P") & (sym[j] == "S")], minlength=len(atoms))[sym == "P"]
    assert np.all(s_per_p == 4)
    # whole at the cut: every PS4 is complete even without periodicity along the stacking axis z
    open_z = atoms.copy()
    open_z.pbc = (True, True, False)
    from seilearn.structures.validate import ps4_coordination

    assert np.all(ps4_coordination(open_z, 2.3) == 4)
    # the LPSC slab sits below the Li metal with a ~2.4 A gap on each side of the sandwich
    z_li_metal = atoms.positions[len(atoms) - 4212:, 2]
    z_el = atoms.positions[:len(atoms) - 4212, 2]
    assert z_li_metal.min() - z_el.max() == pytest.approx(2.4, abs=1e-6)


@pytest.mark.slow
def test_model_II_counts_and_area():
    atoms = build_interface("II")
    r = report(atoms)
    assert len(atoms) == 31824 and r.area == pytest.approx(5380.27, abs=0.01)
    assert r.n_formula_units == 1152 and r.n_li_metal == 16848
    assert min(r.shortest.values()) >= 1.9 and r.shortest["P-S"] == pytest.approx(2.05, abs=0.01)
    from seilearn.structures.validate import ps4_coordination

    assert np.all(ps4_coordination(atoms, 2.3) == 4)


def test_reduced_lpsc_is_charge_balanced_with_broken_ps4():
    from seilearn.structures.seeds import reduced_lpsc
    from seilearn.structures.validate import ps4_coordination

    seen = set()
    for k in range(6):
        a = reduced_lpsc(np.random.default_rng(k))
        sym = a.get_chemical_symbols()
        # two Li added per S removed (the two electrons of a broken P-S bond reduce P)
        assert sym.count("Li") - 24 == 2 * (20 - sym.count("S")) > 0
        assert neighbor_list("d", a, 1.6).size == 0
        seen |= set(ps4_coordination(a, 2.3).tolist())
    assert 4 in seen and len(seen) >= 3  # intact and partly / fully reduced P


def test_mini_interface_and_custom_sizes():
    mini = build_interface("mini")
    assert 200 <= len(mini) <= 400 and int(np.sum(mini.numbers == 15)) == 8
    custom = build_interface("mini", lpsc_periods=4, li_layers=4)
    assert int(np.sum(custom.numbers == 15)) == 16


def test_seed_set_is_diverse_and_reproducible():
    a, b = seed_set(16, seed=5), seed_set(16, seed=5)
    assert all(np.allclose(x.positions, y.positions) for x, y in zip(a, b))
    assert len({x.info["seed_kind"] for x in a}) == 8
    c = seed_set(16, seed=6)
    assert not np.allclose(a[0].positions, c[0].positions)
    for x in a:
        assert neighbor_list("d", x, 1.2).size == 0
