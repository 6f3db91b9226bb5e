"""The local reference labeller (CHGNet 0.3.0 from the wheel) and the per-structure protocol."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from seilearn.errors import InputError
from seilearn.labelling import get_labeller


@pytest.fixture(scope="module")
def chgnet():
    return get_labeller("chgnet", batch_size=4)


def test_bcc_li_pressure_and_forces(chgnet):
    atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat(3)
    res = chgnet.label([atoms])[0]
    assert res.status == "ok"
    pressure_gpa = -np.mean(res.stress[:3]) * 160.21766
    assert abs(pressure_gpa) < 1.0
    assert np.abs(res.forces.sum(axis=0)).max() < 1e-3
    assert res.units["energy"] == "eV"


def test_stress_sign_matches_de_dv(chgnet):
    """ASE convention: sigma_ii = dE/dV for an isotropic strain."""
    cells = [bulk("Li", "bcc", a=a, cubic=True).repeat(2) for a in (3.40, 3.41, 3.42)]
    r = chgnet.label(cells)
    dedv = (r[2].energy - r[0].energy) / (cells[2].get_volume() - cells[0].get_volume())
    assert np.mean(r[1].stress[:3]) == pytest.approx(dedv, rel=0.2)


def test_bad_structures_fail_alone(chgnet):
    good = bulk("Li", "bcc", a=3.44, cubic=True)
    overlapping = good.copy()
    overlapping.positions[1] = overlapping.positions[0] + [0.1, 0, 0]
    unknown = good.copy()
    unknown.symbols[0] = "Og"
    res = chgnet.label([good, Atoms(), overlapping, good.copy()])
    assert [r.status for r in res] == ["ok", "failed", "failed", "ok"]
    assert "empty" in res[1].reason and "overlapping" in res[2].reason
    assert "Li" in chgnet.settings()["stands_in_for"] or "DFT" in chgnet.settings()["stands_in_for"]


def test_unknown_labeller():
    with pytest.raises(InputError, match="not available"):
        get_labeller("qe")
