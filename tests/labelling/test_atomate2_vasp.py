"""The atomate2-vasp labeller without VASP (atomate2's test approach: a fake run_vasp checks the written inputs
and copies reference outputs of a 13-atom Li6PS5Cl cell), on the real test server's JobStore."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.io.vasp import Vasprun

from seilearn.labelling import get_labeller
from seilearn.labelling.atomate2_vasp import KBAR_TO_EV_A3, Atomate2VaspLabeller, SeilearnMongoStore, job_store

from . import atomate2_fake
from .vasp_reference import DATA, TEST_INCAR, lpsc13


@pytest.fixture
def potcars(tmp_path, monkeypatch):
    from pymatgen.core import SETTINGS

    root = atomate2_fake.potcar_tree(tmp_path / "psp")
    monkeypatch.setitem(SETTINGS, "PMG_VASP_PSP_DIR", str(root))
    return root


def fake(monkeypatch, plan):
    atomate2_fake.CALLS.clear()
    atomate2_fake.install(monkeypatch.setattr, plan)
    return atomate2_fake.CALLS


def labeller(tmp_path, **kw):
    return get_labeller("atomate2-vasp", incar=dict(TEST_INCAR), workdir=str(tmp_path / "runs"), **kw)


def reference(name: str):
    """(energy e_fr, forces, ASE stress, fractional positions) of a reference's vasprun.xml."""
    vr = Vasprun(str(DATA / name / "outputs" / "vasprun.xml"), parse_potcar_file=False)
    step = vr.ionic_steps[-1]
    s = -np.asarray(step["stress"]) * KBAR_TO_EV_A3
    return step["e_fr_energy"], np.asarray(step["forces"]), s[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]], vr.final_structure


def test_label_from_task_document_in_input_order(settings, potcars, tmp_path, monkeypatch):
    calls = fake(monkeypatch, {"try0": ["lpsc13"]})
    atoms = lpsc13()
    shuffled = atoms[[12, 3, 0, 7, 1, 11, 2, 10, 5, 9, 4, 8, 6]]  # not the order atomate2 writes
    res = labeller(tmp_path).label([shuffled])[0]
    assert res.ok, res.reason
    assert [c["reference"] for c in calls] == ["lpsc13"]
    energy, forces, stress, final = reference("lpsc13")
    assert res.energy == pytest.approx(energy, abs=1e-8) and res.energy / len(atoms) == pytest.approx(-4.1, abs=0.5)
    for i, atom in enumerate(shuffled):  # each force belongs to the atom at the same position
        j = int(np.argmin(final.lattice.get_all_distances(final.lattice.get_fractional_coords(atom.position),
                                                          final.frac_coords)))
        np.testing.assert_allclose(res.forces[i], forces[j], atol=1e-8)
    np.testing.assert_allclose(res.stress, stress, atol=1e-10)
    prov = res.provenance
    assert prov["state"] == "successful" and prov["incar"]["ISPIN"] == 1 and prov["incar"]["KSPACING"] == 0.5
    assert prov["incar"]["ENCUT"] == 680 and prov["custodian_corrections"] == [] and len(prov["attempts"]) == 1
    stored = job_store().docs_store
    stored.connect()
    assert stored.count({"uuid": prov["uuid"]}) == 1
    assert res.settings["name"] == "atomate2-vasp" and res.settings["job_store"]["outputs"] == "atomate2_outputs"


def test_odd_electron_count_runs_spin_polarised(settings, potcars, tmp_path, monkeypatch):
    calls = fake(monkeypatch, {"try0": ["lpsc13", "li5ps5cl_odd"]})
    lab = labeller(tmp_path)
    li5 = lpsc13(remove_li=True)
    assert lab.spin(li5) == 2 and lab.spin(lpsc13()) == 1  # 57 and 60 valence electrons (Li_sv 3, P 5, S 6, Cl 7)
    flagged = lpsc13()
    flagged.info["odd_electrons"] = True  # the cutter's flag wins
    assert lab.spin(flagged) == 2
    res = lab.label([li5])[0]
    assert res.ok and res.provenance["incar"]["ISPIN"] == 2 and calls[-1]["reference"] == "li5ps5cl_odd"


def test_no_potcars_to_count_electrons_is_a_clear_failure(settings, tmp_path, monkeypatch):
    from pymatgen.core import SETTINGS

    monkeypatch.setitem(SETTINGS, "PMG_VASP_PSP_DIR", None)
    monkeypatch.delenv("PMG_VASP_PSP_DIR", raising=False)
    fake(monkeypatch, {"try0": ["lpsc13"]})
    res = labeller(tmp_path).label([lpsc13()])[0]
    assert res.status == "failed" and "PMG_VASP_PSP_DIR" in res.reason
    assert labeller(tmp_path, ispin=1).label([lpsc13()])[0].ok  # an explicit ISPIN needs no count


def test_unconverged_takes_the_detour(settings, potcars, tmp_path, monkeypatch):
    calls = fake(monkeypatch, {"try0": ["lpsc13_unconverged"], "try1": ["lpsc13_algo_all"]})
    res = labeller(tmp_path).label([lpsc13()])[0]
    assert res.ok and "converged after detour" in res.reason and "NELM=200" in res.reason
    assert [c["reference"] for c in calls] == ["lpsc13_unconverged", "lpsc13_algo_all"]
    assert res.provenance["incar"]["ALGO"] == "All" and len(res.provenance["attempts"]) == 2
    (fix,) = res.provenance["custodian_corrections"]  # from the run's custodian.json, through the TaskDoc
    assert fix["handler"] == "VaspErrorHandler" and fix["errors"] == ["zbrent"]
    assert res.energy == pytest.approx(reference("lpsc13_algo_all")[0], abs=1e-8)


def test_still_unconverged_is_quarantined_never_labelled(settings, potcars, tmp_path, monkeypatch):
    # the detour's inputs (ALGO=All) match no unconverged reference: that run fails outright, as VASP or
    # custodian giving up would
    fake(monkeypatch, {"try0": ["lpsc13_unconverged"], "try1": ["lpsc13_unconverged"]})
    res = labeller(tmp_path, detours=[{"ALGO": "All", "NELM": 200}]).label([lpsc13()])[0]
    assert res.status == "failed" and res.energy is None and res.provenance["quarantined"]
    assert "[default] electronic SCF not converged in 200 of NELM=200" in res.reason
    assert "[ALGO=All, NELM=200] no task document" in res.reason
    res = labeller(tmp_path, detours=[]).label([lpsc13()])[0]
    assert res.status == "scf_unconverged" and res.forces is None


def test_rerun_reuses_the_task_document(settings, potcars, tmp_path, monkeypatch):
    calls = fake(monkeypatch, {"try0": ["lpsc13"]})
    first = labeller(tmp_path).label([lpsc13()])[0]
    second = labeller(tmp_path).label([lpsc13()])[0]
    assert len(calls) == 1 and first.provenance["uuid"] == second.provenance["uuid"]
    assert second.energy == first.energy
    docs = job_store().docs_store
    docs.connect()
    assert docs.count({}) == 1


def test_store_serialises_without_server_details(settings):
    from monty.json import MontyDecoder

    store = job_store("a2test_")
    d = store.as_dict()
    text = str(d)
    assert "mongodb://" not in text and "a2test_outputs" in text and "a2test_data" in text
    back = MontyDecoder().process_decoded(d)
    back.connect()
    assert isinstance(back.docs_store, SeilearnMongoStore) and back.docs_store._collection.database.name == settings.db_name


@pytest.mark.parametrize("bad, msg", [({"ispin": 3}, "ispin"), ({"collection_prefix": "a b"}, "collection_prefix"),
                                      ({"incar": ["ENCUT"]}, "incar")])
def test_bad_settings_name_the_key(bad, msg):
    from seilearn.errors import InputError

    with pytest.raises(InputError, match=msg):
        Atomate2VaspLabeller(**bad)
