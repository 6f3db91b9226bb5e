"""``seilearn potential export|list`` against a real store: the files a user copies to a cluster."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg
from seilearn.mtp.mtpfile import read_mtp, to_text
from seilearn.selection import ActiveSet, build_active_set
from seilearn.store import Store
from tests.selection.helpers import random_potential

SPECIES = ["Li", "P", "S", "Cl"]


@pytest.fixture
def stored(settings):
    st = Store.open(settings)
    pot = random_potential()
    frames, pairs = [], []
    for i in range(3):
        atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=i)
        cid, _ = st.add_configuration(atoms, {"kind": "seed", "campaign_id": "demo"})
        lid, _ = st.add_label(cid, status="ok", energy=-30.0 - i, forces=np.zeros((len(atoms), 3)),
                              stress=np.zeros(6), labeller={"name": "chgnet"}, job_id="j")
        frames.append(atoms)
        pairs.append((cid, lid))
    text = to_text(pot.model)
    almtp = build_active_set(pot, frames, mode="nbh").to_bytes(mtp_text=text, species=SPECIES)
    st.add_potential(potential_id="demo-p001", training_set=pairs, files={"mtp": text.encode(), "almtp": almtp},
                     campaign_id="demo", iteration=1, stage=3, level=8, cutoff=5.0, species=SPECIES,
                     parent_potential_id="demo-p000", metrics={"rmse_energy_mev_atom": 4.0, "rmse_forces_mev_a": 90.0},
                     validation={"n_frames": 5, "forces": {"rmse": 120.0, "max": 400.0}})
    st.record_campaign("demo", current_potential_id="demo-p001")
    return st, pairs


def test_export_by_campaign_writes_what_mlip_reads(stored, tmp_path, capsys):
    st, pairs = stored
    assert main(["potential", "export", "--campaign", "demo", "--out", str(tmp_path / "x")]) == 0
    out = tmp_path / "x"
    assert read_mtp(out / "demo-p001.mtp").species_count == 4
    assert ActiveSet.from_bytes((out / "demo-p001.almtp").read_bytes(), species=SPECIES).mode == "nbh"
    train = read_cfg(out / "demo-p001.train.cfg", SPECIES)
    assert [a.get_potential_energy() for a in train] == pytest.approx([-30.0, -31.0, -32.0])
    card = json.loads((out / "demo-p001.json").read_text())
    assert card["species"] == SPECIES and card["level"] == 8 and card["cutoff"] == 5.0
    assert card["parent_potential_id"] == "demo-p000" and card["validation"]["forces"]["rmse"] == 120.0
    assert [(t["config_id"], t["label_id"]) for t in card["training_set"]] == pairs
    assert set(card["files"]) >= {"mtp", "almtp", "training_set", "lammps-mlip2.in", "lammps-mlip3.in"}
    assert "pair_style mlip load_from=demo-p001.almtp" in (out / "lammps-mlip3.in").read_text()
    assert "pair_style mlip mlip.ini" in (out / "lammps-mlip2.in").read_text()
    assert "mtp-filename    demo-p001.mtp" in (out / "mlip.ini").read_text()
    assert "Li P S Cl" in (out / "lammps-mlip3.in").read_text()


def test_export_by_id_and_list(stored, tmp_path, capsys):
    assert main(["potential", "export", "demo-p001", "--out", str(tmp_path / "y")]) == 0
    assert (tmp_path / "y" / "demo-p001.json").is_file()
    capsys.readouterr()
    assert main(["potential", "list", "--campaign", "demo", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["potential_id"] for r in rows] == ["demo-p001"] and rows[0]["validation_forces_mev_a"] == 120.0
    assert main(["potential", "list"]) == 0
    assert "demo-p001" in capsys.readouterr().out


def test_unknown_campaign_or_potential_is_one_clear_error(stored, tmp_path, capsys):
    assert main(["potential", "export", "--campaign", "nope", "--out", str(tmp_path)]) == 2
    assert "--campaign nope: no such campaign; known: demo" in capsys.readouterr().err
    assert main(["potential", "export", "demo-p999", "--out", str(tmp_path)]) == 2
    assert "no potential 'demo-p999'" in capsys.readouterr().err
