"""The compiled, threaded MTP kernel: neighbour lists against ASE's, results independent of the thread count."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.neighborlist import neighbor_list

from seilearn.errors import InputError
from seilearn.mtp import kernel
from tests.selection.helpers import frame_of_size, random_potential


def _pairs(atoms, cutoff):
    nl = kernel.neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    return sorted(zip(nl.i.tolist(), nl.j.tolist(), map(tuple, nl.shifts.tolist())))


def _ase_pairs(atoms, cutoff):
    i, j, s = neighbor_list("ijS", atoms, cutoff)
    return sorted(zip(i.tolist(), j.tolist(), map(tuple, s.tolist())))


@pytest.mark.parametrize("pbc", [True, (True, True, False), (False, True, False), False])
def test_neighbour_list_equals_ase(pbc):
    atoms = frame_of_size(80, seed=4)
    atoms.positions += 3.0  # some atoms outside the cell: wrapped by the list, shifts still exact
    atoms.pbc = pbc
    assert _pairs(atoms, 5.0) == _ase_pairs(atoms, 5.0)


def test_neighbour_list_small_triclinic_cell_many_images():
    atoms = bulk("Li", "bcc", a=3.44)  # primitive cell, thinner than the cutoff: many images of each atom
    atoms.rattle(0.05, seed=1)
    ours = _pairs(atoms, 7.0)
    assert ours == _ase_pairs(atoms, 7.0) and len(ours) > 50


def test_neighbour_list_without_cell():
    atoms = frame_of_size(50, seed=2)
    atoms.pbc = False
    atoms.cell = np.zeros((3, 3))
    assert _pairs(atoms, 4.0) == _ase_pairs(atoms, 4.0)


def test_periodic_structure_needs_a_cell():
    atoms = frame_of_size(10, seed=2)
    atoms.cell = np.zeros((3, 3))
    with pytest.raises(InputError, match="cell"):
        kernel.neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, 4.0)


def test_results_do_not_depend_on_thread_count(monkeypatch):
    pot = random_potential(seed=2)
    atoms = frame_of_size(700, seed=6)
    out = {}
    for n in ("1", "2", "3"):
        monkeypatch.setenv("SEILEARN_THREADS", n)
        pot._nl = None  # a fresh list each time, built with n threads too
        out[n] = pot.calculate(atoms)
    for n in ("2", "3"):
        for key in ("energies", "forces", "stress"):
            assert np.array_equal(out[n][key], out["1"][key]), (n, key)


def test_bad_thread_setting_is_rejected(monkeypatch):
    monkeypatch.setenv("SEILEARN_THREADS", "zero")
    with pytest.raises(InputError, match="SEILEARN_THREADS"):
        kernel.threads()


def test_type_outside_the_potential_is_rejected():
    from seilearn.selection.features import site_energy_rows

    pot = random_potential(seed=2)
    atoms = frame_of_size(20, seed=1)
    atoms.set_chemical_symbols(["X"] * len(atoms))
    atoms.arrays["mtp_type"] = np.full(len(atoms), 7)  # a .cfg type the 4-species potential does not have
    with pytest.raises(InputError, match="MTP type 7"):
        site_energy_rows(pot, atoms)
