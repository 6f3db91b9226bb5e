"""VASP labeller without VASP: inputs, a fake POTCAR tree, fixture parsing, a mock VASP command under
custodian, SCF detours and quarantine, a run that died, custodian corrections on a synthetic vasp.out."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from seilearn.labelling import get_labeller, mask_secrets
from seilearn.labelling.vasp import VaspLabeller

from . import fake_vasp

HERE = Path(__file__).parent
POTCARS = {"Li_sv": ("Li", 3.0), "P": ("P", 5.0), "S": ("S", 6.0), "Cl": ("Cl", 7.0)}


def _fake_potcar(symbol: str, element: str, zval: float) -> str:
    # the lines ASE and pymatgen look for: TITEL, and ZVAL four lines after it
    return (f"  PAW_PBE {symbol} 06Sep2000\n 3.00000000000000000\n parameters from PSCTR are:\n"
            f"   VRHFIN ={element}: s p\n   LEXCH  = PE\n   TITEL  = PAW_PBE {symbol} 06Sep2000\n"
            f"   POMASS =    {fake_vasp.MASS[element]}; ZVAL   =    {zval}    mass and valenz\n"
            f"   ENMAX  =  400.000; ENMIN  =  300.000 eV\n   LULTRA =        F\n   IUNSCR =        1\n"
            f"   RPACOR =    1.200\n   END of PSCTR-controll parameters\n   POMASS =    {fake_vasp.MASS[element]}; ZVAL   =    {zval}\n"
            f" End of Dataset\n")


@pytest.fixture
def pp_path(tmp_path, monkeypatch):
    root = tmp_path / "pp"
    for sym, (el, z) in POTCARS.items():
        d = root / "potpaw_PBE" / sym
        d.mkdir(parents=True)
        (d / "POTCAR").write_text(_fake_potcar(sym, el, z))
    monkeypatch.setenv("VASP_PP_PATH", str(root))
    return root


def lpsc_like() -> Atoms:
    """A small mixed cell whose species are not grouped (ASE must sort them for VASP)."""
    symbols = ["S", "Li", "Cl", "Li", "P", "S", "Li"]
    rng = np.random.default_rng(3)
    pos = np.array([[0, 0, 0], [2.4, 0, 0], [0, 2.6, 0], [0, 0, 2.5], [2.5, 2.5, 0], [2.5, 0, 2.5], [0, 2.4, 2.6]])
    return Atoms(symbols, positions=pos + rng.normal(0, 0.05, pos.shape), cell=[5.2, 5.0, 5.3], pbc=True)


MOCK = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'fake_vasp.py'))}"


def test_inputs_incar_kpoints_poscar_potcar(pp_path, tmp_path):
    lab = VaspLabeller(workdir=tmp_path / "runs", encut=520, nelm=80, kspacing=0.3)
    atoms = lpsc_like()
    d = tmp_path / "inp"
    lab.write_inputs(atoms, d)
    incar = fake_vasp.read_incar(d / "INCAR")
    assert incar["ENCUT"] == 520 and incar["NELM"] == 80 and incar["KSPACING"] == pytest.approx(0.3)
    assert incar["EDIFF"] == pytest.approx(1e-5) and incar["ISMEAR"] == 0 and incar["NSW"] == 0
    assert str(incar["LREAL"]).upper().startswith((".FALSE", "F"))
    poscar = (d / "POSCAR").read_text().splitlines()
    order = poscar[5].split()
    assert sorted(order) == ["Cl", "Li", "P", "S"] and [int(x) for x in poscar[6].split()] == [
        {"Li": 3, "P": 1, "S": 2, "Cl": 1}[el] for el in order]
    titels = [line.split("=")[1].split()[1] for line in (d / "POTCAR").read_text().splitlines() if "TITEL" in line]
    assert titels == [{"Li": "Li_sv"}.get(el, el) for el in order]
    assert (d / "POTCAR.spec").read_text().split() == titels
    # NELECT from the POTCAR valences in POSCAR order
    zvals = [float(next(ln for ln in block.splitlines() if "ZVAL" in ln).split("ZVAL")[1].split("=")[1].split()[0])
             for block in (d / "POTCAR").read_text().split("End of Dataset")[:-1]]
    nelect = sum(z * int(n) for z, n in zip(zvals, poscar[6].split()))
    assert nelect == 3 * 3 + 5 + 2 * 6 + 7


def test_cut_with_odd_electrons_is_spin_polarised(pp_path, tmp_path):
    lab = VaspLabeller(workdir=tmp_path / "runs")
    atoms = lpsc_like()
    lab.write_inputs(atoms, tmp_path / "even")
    atoms.info["odd_electrons"] = True  # set by seilearn.cutting on a neighbourhood with an odd count
    lab.write_inputs(atoms, tmp_path / "odd")
    assert fake_vasp.read_incar(tmp_path / "even" / "INCAR").get("ISPIN", 1) == 1
    assert fake_vasp.read_incar(tmp_path / "odd" / "INCAR")["ISPIN"] == 2


def test_missing_potcar_dir_fails_per_structure(tmp_path, monkeypatch):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    monkeypatch.delenv("PMG_VASP_PSP_DIR", raising=False)
    res = VaspLabeller(workdir=tmp_path, command=MOCK).label([lpsc_like(), lpsc_like()])
    assert [r.status for r in res] == ["failed", "failed"]
    assert "VASP_PP_PATH" in res[0].reason


def test_parse_fixture_files(tmp_path):
    from ase.io import write

    atoms = lpsc_like()
    e, f, s = fake_vasp._toy(atoms)
    (tmp_path / "vasprun.xml").write_text(fake_vasp.vasprun_xml(atoms, e, f, s, {"NELM": 100, "ALGO": "Normal"}))
    (tmp_path / "OUTCAR").write_text(fake_vasp.outcar(atoms, e))
    write(tmp_path / "CONTCAR", atoms, format="vasp")
    r = VaspLabeller().parse(tmp_path, atoms)
    assert r.ok and r.energy == pytest.approx(e, abs=1e-6) and r.wall_time == pytest.approx(12.5)  # from OUTCAR
    np.testing.assert_allclose(r.forces, f, atol=1e-6)
    np.testing.assert_allclose(r.stress, s, atol=1e-8)  # kBar, compressive-positive -> ASE eV/A^3
    (tmp_path / "vasprun.xml").write_text(fake_vasp.vasprun_xml(atoms, e, f, s, {"NELM": 40}, n_scf=40))
    r = VaspLabeller().parse(tmp_path, atoms)
    assert r.status == "scf_unconverged" and "NELM=40" in r.reason and r.energy is None


@pytest.mark.parametrize("custodian", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_mock_vasp_round_trip(pp_path, tmp_path, custodian):
    atoms = [lpsc_like(), bulk("Li", "bcc", a=3.44, cubic=True)]
    lab = get_labeller("vasp", workdir=tmp_path / "runs", command=MOCK, use_custodian=custodian,
                       polling_time_step=1)
    res = lab.label(atoms)
    for a, r in zip(atoms, res):
        assert r.ok, r.reason
        e, f, s = fake_vasp._toy(a)
        assert r.energy == pytest.approx(e, abs=1e-6)
        np.testing.assert_allclose(r.forces, f, atol=1e-6)  # back in the input order despite ASE's sort
        np.testing.assert_allclose(r.stress, s, atol=1e-8)
        assert r.settings["name"] == "vasp" and r.settings["incar"]["ENCUT"] == 680.0


def test_unconverged_scf_detours_then_quarantine(pp_path, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_VASP_UNCONVERGED_UNLESS", "All")
    lab = VaspLabeller(workdir=tmp_path / "a", command=MOCK, use_custodian=False, nelm=30)
    r = lab.label([lpsc_like()])[0]
    assert r.ok and "ALGO=All" in r.reason  # converged on the detour, never returned unconverged
    monkeypatch.setenv("FAKE_VASP_UNCONVERGED_UNLESS", "Exact")
    lab = VaspLabeller(workdir=tmp_path / "b", command=MOCK, use_custodian=False, nelm=30,
                       detours=[{"ALGO": "Damped", "TIME": 0.5, "NELM": 40}])
    r = lab.label([lpsc_like()])[0]
    assert r.status == "scf_unconverged" and r.energy is None
    assert "NELM=30" in r.reason and "ALGO=Damped" in r.reason and "NELM=40" in r.reason
    assert list((tmp_path / "b").glob("*/QUARANTINED"))


@pytest.mark.parametrize("custodian", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_run_died_midway_rest_of_batch_kept(pp_path, tmp_path, monkeypatch, custodian):
    monkeypatch.setenv("FAKE_VASP_DIE_NATOMS", "7")
    lab = VaspLabeller(workdir=tmp_path, command=MOCK, use_custodian=custodian, max_errors=1, polling_time_step=1)
    li = bulk("Li", "bcc", a=3.44, cubic=True)
    res = lab.label([li, lpsc_like(), li.copy()])
    assert [r.status for r in res] == ["ok", "failed", "ok"]
    assert "died" in res[1].reason or "custodian" in res[1].reason


def test_custodian_handler_corrects_incar_on_synthetic_vasp_out(tmp_path, monkeypatch):
    from custodian.vasp.handlers import VaspErrorHandler
    from pymatgen.io.vasp import Incar

    lab = VaspLabeller()
    atoms = bulk("Li", "bcc", a=3.44, cubic=True)
    incar, _ = lab.incar_for(atoms)
    incar.pop("MAGMOM", None)
    Incar(incar).write_file(tmp_path / "INCAR")
    from ase.io import write

    write(tmp_path / "POSCAR", atoms, format="vasp")
    (tmp_path / "vasp.out").write_text(" running on 1 total cores\n Error EDDDAV: Call to ZHEGV failed. Returncode = 7\n")
    monkeypatch.chdir(tmp_path)
    h = VaspErrorHandler(output_filename="vasp.out")
    assert h.check()
    d = h.correct()
    assert d["errors"] and Incar.from_file(tmp_path / "INCAR")["ALGO"] != "Normal"


def test_settings_mask_secrets_and_json(tmp_path):
    import json

    lab = VaspLabeller(workdir=tmp_path, command="srun --token=abc123 vasp_std")
    s = lab.settings()
    json.dumps(s)
    assert "abc123" not in json.dumps(s) and "***" in s["command"]
    assert mask_secrets("mongodb://user:hunter2@host:27017/db") == "mongodb://user:***@host:27017/db"
