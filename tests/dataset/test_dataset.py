"""Dataset export (cfg, extxyz, ASE db) and stats against a real store."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read

from seilearn.cli import main
from seilearn.dataset import dataset_stats, export_dataset, format_stats
from seilearn.errors import InputError, StoreError
from seilearn.store import Store


def _cell(seed: int, kind: str = "exploration"):
    atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=seed)
    return atoms


@pytest.fixture
def store(settings):
    st = Store.open(settings)
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(3):
        atoms = _cell(i)
        cid, _ = st.add_configuration(atoms, {"kind": "seed" if i == 0 else "exploration", "campaign_id": "demo",
                                              "stage": None if i == 0 else 1, "grade": None if i == 0 else 2.5 + i})
        forces = rng.normal(size=(len(atoms), 3))
        if i == 2:  # an older label, then a relabel: the potential must use the exact (older) one
            lid, _ = st.add_label(cid, status="ok", energy=-30.0 - i, forces=forces, stress=np.arange(6) * 0.01,
                                  labeller={"name": "chgnet"}, job_id="j-old")
            st.add_label(cid, status="ok", energy=-99.0, forces=forces, stress=np.zeros(6),
                         labeller={"name": "chgnet"}, job_id="j-new")
        else:
            lid, _ = st.add_label(cid, status="ok", energy=-30.0 - i, forces=forces, stress=np.arange(6) * 0.01,
                                  labeller={"name": "chgnet"}, job_id="j")
        pairs.append((cid, lid))
    bad = _cell(9)
    cbad, _ = st.add_configuration(bad, {"kind": "exploration", "campaign_id": "demo", "stage": 1})
    st.add_label(cbad, status="scf_unconverged", labeller={"name": "chgnet"}, reason="no SCF")
    st.add_potential(potential_id="demo-p000", training_set=pairs[:2], files={}, campaign_id="demo", iteration=0,
                     species=["Li", "P", "S", "Cl"])
    st.add_potential(potential_id="demo-p001", training_set=pairs, files={}, campaign_id="demo", iteration=1,
                     species=["Li", "P", "S", "Cl"])
    return st, pairs


def test_extxyz_has_exact_labels_and_provenance(store, tmp_path):
    st, pairs = store
    r = export_dataset(st, "extxyz", tmp_path / "t.xyz", iteration=1)
    assert r["potential_id"] == "demo-p001" and r["n"] == 3
    frames = read(tmp_path / "t.xyz", ":")
    assert [f.info["config_id"] for f in frames] == [c for c, _ in pairs]
    assert [f.info["label_id"] for f in frames] == [lab for _, lab in pairs]
    assert frames[2].get_potential_energy() == pytest.approx(-32.0)  # not the newer -99 relabel
    assert frames[1].info["source_kind"] == "exploration" and frames[1].info["source_grade"] == pytest.approx(3.5)
    assert frames[0].info["source_kind"] == "seed" and "source_grade" not in frames[0].info
    assert frames[1].get_stress() == pytest.approx(np.arange(6) * 0.01)
    assert frames[1].get_forces().shape == (len(frames[1]), 3)


def test_cfg_and_ase_db(store, tmp_path):
    import ase.db

    from seilearn.mtp.cfg import read_cfg

    st, pairs = store
    export_dataset(st, "cfg", tmp_path / "t.cfg", potential_id="demo-p000")
    cfgs = read_cfg(tmp_path / "t.cfg", ["Li", "P", "S", "Cl"])
    assert len(cfgs) == 2 and cfgs[1].get_potential_energy() == pytest.approx(-31.0)
    export_dataset(st, "ase-db", tmp_path / "t.db", potential_id="demo-p001")
    rows = list(ase.db.connect(tmp_path / "t.db").select())
    assert [row.config_id for row in rows] == [c for c, _ in pairs]
    assert rows[2].energy == pytest.approx(-32.0)


def test_unknown_potential_and_iteration_are_clear_errors(store, tmp_path):
    st, _ = store
    with pytest.raises(StoreError, match="no potential 'nope'"):
        export_dataset(st, "extxyz", tmp_path / "x.xyz", potential_id="nope")
    with pytest.raises(StoreError, match=r"iteration 7; iterations with potentials: \[0, 1\]"):
        export_dataset(st, "extxyz", tmp_path / "x.xyz", iteration=7)
    with pytest.raises(InputError, match="unknown format"):
        export_dataset(st, "xyz", tmp_path / "x.xyz", iteration=1)
    assert not (tmp_path / "x.xyz").exists()


def test_stats_counts_and_ranges(store):
    st, _ = store
    s = dataset_stats(st, "demo")
    assert s["n_configurations"] == 4 and s["n_labelled_ok"] == 3 and s["n_trained"] == 3
    assert s["by_source_kind"] == {"seed": 1, "exploration": 3}
    assert s["by_stage"] == {"—": 1, "1": 3}
    assert s["by_formula"] == {"Li16": 4}
    assert s["by_label_status"] == {"ok": 4, "scf_unconverged": 1}
    # latest ok label of the relabelled configuration is -99 eV / 16 atoms
    assert s["energy_per_atom_eV"]["min"] == pytest.approx(-99.0 / 16)
    assert s["energy_per_atom_eV"]["max"] == pytest.approx(-30.0 / 16)
    assert s["max_force_eV_A"]["max"] > 0
    assert "source kind: seed=1, exploration=3" in format_stats(s)
    assert dataset_stats(st, "other")["n_configurations"] == 0
    assert "energy per atom: —" in format_stats(dataset_stats(st, "other"))


def test_cli(store, tmp_path, capsys):
    assert main(["dataset", "export", "--format", "extxyz", "--iteration", "0", "--campaign", "demo",
                 "--out", str(tmp_path / "a.xyz")]) == 0
    assert "wrote 2 configurations of potential demo-p000" in capsys.readouterr().out
    assert len(read(tmp_path / "a.xyz", ":")) == 2
    assert main(["dataset", "stats", "--json"]) == 0
    assert '"n_configurations": 4' in capsys.readouterr().out
    assert main(["dataset", "export", "--format", "cfg", "--potential", "nope", "--out", str(tmp_path / "b")]) == 2
    assert "no potential 'nope'" in capsys.readouterr().err
