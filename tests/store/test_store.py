"""The training-set store against a real server: records, duplicates, labels, potentials, provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk

from seilearn.cli import main
from seilearn.errors import InputError, StoreError
from seilearn.store import Store
from seilearn.store.hashing import structure_hash
from seilearn.store.provenance import configuration_lineage, potential_lineage


@pytest.fixture
def store(settings):
    return Store.open(settings)


def li_cell(rattle: float = 0.0, seed: int = 0):
    atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat((2, 2, 2))
    if rattle:
        atoms.rattle(rattle, seed=seed)
    return atoms


def test_hash_invariances():
    a = li_cell(0.05)
    h = structure_hash(a)
    shuffled = a[np.random.default_rng(1).permutation(len(a))]
    assert structure_hash(shuffled) == h
    moved = a.copy()
    moved.positions += a.cell[0]  # a lattice translation is the same structure
    assert structure_hash(moved) == h
    tiny = a.copy()
    tiny.positions[0, 0] += 1e-7
    assert structure_hash(tiny) == h
    other = a.copy()
    other.positions[0, 0] += 1e-2
    assert structure_hash(other) != h


def test_duplicate_insert_returns_existing_id(store):
    atoms = li_cell(0.03, seed=2)
    cid, created = store.add_configuration(atoms, {"kind": "seed", "seed_set": "test"})
    assert created
    cid2, created2 = store.add_configuration(atoms.copy(), {"kind": "seed", "seed_set": "other"})
    assert (cid2, created2) == (cid, False)
    assert store.configurations.count_documents({}) == 1
    assert store.get_configuration(cid)["source"]["seed_set"] == "test"  # the original provenance kept


def test_labels_append_only_and_idempotent(store):
    atoms = li_cell(0.03, seed=3)
    cid, _ = store.add_configuration(atoms, {"kind": "seed"})
    forces = np.zeros((len(atoms), 3))
    labeller = {"name": "chgnet", "settings": {"model": "0.3.0"}}
    lid, created = store.add_label(cid, status="ok", energy=-30.0, forces=forces, stress=np.zeros(6),
                                   labeller=labeller, job_id="job1", fw_id=7)
    assert created
    assert store.add_label(cid, status="ok", energy=-30.0, forces=forces, stress=np.zeros(6),
                           labeller=labeller, job_id="job1") == (lid, False)
    lid2, created2 = store.add_label(cid, status="ok", energy=-30.5, forces=forces, stress=np.zeros(6),
                                     labeller=labeller, job_id="job2")
    assert created2 and lid2 != lid
    doc = store.get_configuration(cid)
    assert [lab["energy"] for lab in doc["labels"]] == [-30.0, -30.5]  # the old one kept
    assert doc["labels"][0]["units"]["energy"] == "eV"
    got = store.get_atoms([cid])[0]
    assert got.get_potential_energy() == pytest.approx(-30.5)
    with pytest.raises(InputError, match="non-finite"):
        store.add_label(cid, status="ok", energy=float("nan"), forces=forces, labeller=labeller)


def test_labelled_atoms_fetch_only_new_labels_and_match_get_atoms(store, settings, monkeypatch):
    from seilearn.store.label_cache import CACHE

    CACHE.clear()
    labeller = {"name": "chgnet", "settings": {}}
    pairs = []
    for seed in range(4):
        atoms = li_cell(0.05, seed=10 + seed)
        cid, _ = store.add_configuration(atoms, {"kind": "seed"})
        rng = np.random.default_rng(seed)
        lid, _ = store.add_label(cid, status="ok", energy=-30.0 - seed, forces=rng.normal(size=(len(atoms), 3)),
                                 stress=rng.normal(size=6), labeller=labeller, job_id="j")
        pairs.append((cid, lid))
    first = store.labelled_atoms(pairs[:3])
    assert len(CACHE) == 3
    fetched = []
    real_find = store.configurations.find

    def counting_find(query, *args, **kwargs):
        if "structure" in (args[0] if args else {}):
            fetched.append(sorted(query["config_id"]["$in"]))
        return real_find(query, *args, **kwargs)

    monkeypatch.setattr(store.configurations, "find", counting_find)
    again = store.labelled_atoms(pairs)
    assert fetched == [[pairs[3][0]]]  # only the new configuration's record was read
    ref = store.get_atoms([c for c, _ in pairs])
    for a, b in zip(again, ref):
        assert a.info == b.info
        assert np.array_equal(a.numbers, b.numbers) and np.array_equal(a.positions, b.positions)
        assert np.array_equal(a.cell, b.cell) and np.array_equal(a.pbc, b.pbc)
        assert a.get_potential_energy() == b.get_potential_energy()
        assert np.array_equal(a.get_forces(), b.get_forces()) and np.array_equal(a.get_stress(), b.get_stress())
    # callers get their own copies: changing one leaves the kept arrays alone
    first[0].positions[0] += 1.0
    first[0].calc.results["forces"][0] += 1.0
    third = store.labelled_atoms(pairs[:1])[0]
    assert np.array_equal(third.positions, ref[0].positions) and np.array_equal(third.get_forces(), ref[0].get_forces())
    # a newer label of the same configuration is another entry; an unknown label is an error naming it
    cid, _ = pairs[0]
    lid2, _ = store.add_label(cid, status="ok", energy=-40.0, forces=np.zeros((16, 3)), stress=np.zeros(6),
                              labeller=labeller, job_id="j2")
    assert store.labelled_atoms([(cid, lid2)])[0].get_potential_energy() == -40.0
    with pytest.raises(StoreError, match="lnope"):
        store.labelled_atoms([(cid, "lnope")])


def test_label_cache_is_bounded_by_atoms():
    from seilearn.store.label_cache import LabelCache

    cache = LabelCache(max_atoms=40)
    docs = {f"c{i}": {"_id": f"o{i}", "config_id": f"c{i}", "labels": [
        {"label_id": f"l{i}", "status": "ok", "energy": -1.0, "forces": [[0.0, 0.0, 0.0]] * 16, "stress": None}],
        "structure": {"numbers": [3] * 16, "positions": [[0.0, 0.0, float(k)] for k in range(16)],
                      "cell": np.eye(3).tolist(), "pbc": [True] * 3}} for i in range(4)}
    out = cache.get([(f"c{i}", f"l{i}", f"o{i}") for i in range(4)], lambda ids: [docs[c] for c in ids])
    # all four returned though the bound evicts; no stress label means no stress
    assert [a.info["config_id"] for a in out] == ["c0", "c1", "c2", "c3"]
    assert all("stress" not in a.calc.results and a.positions[15, 2] == 15.0 for a in out)
    assert len(cache) == 2  # 16 atoms each, at most 40 kept: the two newest
    asked = []
    cache.get([("c0", "l0", "o0"), ("c3", "l3", "o3")], lambda ids: asked.extend(ids) or [docs[c] for c in ids])
    assert asked == ["c0"]


def test_potential_and_lineage(store):
    ids = []
    for i in range(3):
        atoms = li_cell(0.04, seed=10 + i)
        source = {"kind": "seed", "seed_set": "bulk-li"} if i < 2 else {
            "kind": "exploration", "exploration_run_id": "run1", "md_step": 420, "temperature_K": 400.0,
            "pressure_bar": 1.0, "stage": 0, "threshold_break": 5.5, "grade": 3.2, "potential_id": "p_parent",
            "active_set_id": "p_parent"}
        cid, _ = store.add_configuration(atoms, source)
        lid, _ = store.add_label(cid, status="ok", energy=-1.0 * i, forces=np.zeros((len(atoms), 3)),
                                 stress=np.zeros(6), labeller={"name": "chgnet"}, job_id=f"j{i}")
        ids.append((cid, lid))
    store.record_exploration_run("run1", status="stopped_at_break", steps_done=421, max_grade=6.1)
    store.record_labelling_job("j2", labeller={"name": "chgnet"}, config_ids=[ids[2][0]], status="done")
    store.add_potential(potential_id="p_parent", training_set=ids[:2], files={"mtp": b"MTP\n"}, iteration=0, level=8)
    pid = store.add_potential(potential_id="p_child", training_set=ids, files={"mtp": b"MTP v2\n"}, iteration=1,
                              level=8, parent_potential_id="p_parent")
    assert store.add_potential(potential_id="p_child", training_set=ids, files={"mtp": b"x"}) == pid  # idempotent
    assert store.potential_file(pid) == b"MTP v2\n"
    lin = configuration_lineage(store, ids[2][0])
    assert lin["source"]["grade"] == 3.2
    assert lin["exploration_run"]["status"] == "stopped_at_break"
    assert lin["flagged_by_potential"]["potential_id"] == "p_parent"
    assert lin["labels"][0]["job"]["status"] == "done"
    assert [p["potential_id"] for p in lin["trained_in"]] == ["p_child"]
    plin = potential_lineage(store, "p_child")
    assert plin["training_set_by_source"] == {"seed": 2, "exploration": 1}
    assert [a["potential_id"] for a in plin["ancestry"]] == ["p_parent"]


def test_provenance_cli(settings, store, capsys):
    atoms = li_cell(0.02, seed=5)
    cid, _ = store.add_configuration(atoms, {"kind": "seed", "seed_set": "cli-test", "seed_kind": "bulk Li"})
    store.add_label(cid, status="ok", energy=-15.2, forces=np.zeros((len(atoms), 3)), labeller={"name": "chgnet"})
    assert main(["provenance", cid]) == 0
    out = capsys.readouterr().out
    assert cid in out and "cli-test" in out and "-15.2" in out and "Li16" in out
    assert main(["provenance", cid, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config_id"] == cid and data["labels"][0]["status"] == "ok"
    assert main(["provenance", "cdeadbeef0000"]) == 2
    assert "no configuration 'cdeadbeef0000'" in capsys.readouterr().err


def test_schema_version_newer_than_code_is_refused(store):
    store.db["sl_meta"].update_one({"_id": "schema"}, {"$set": {"version": 999}})
    with pytest.raises(StoreError, match="newer than this seilearn"):
        Store(store.db)


def test_provenance_resolves_any_potential_id_and_truncates_echo(settings, store, capsys):
    """Issue 15, finding 5: a potential named demo-p001 was 'no configuration'; a 10 kB id was echoed whole."""
    atoms = li_cell(0.02, seed=6)
    cid, _ = store.add_configuration(atoms, {"kind": "seed", "seed_set": "prov", "seed_kind": "bulk Li"})
    lid, _ = store.add_label(cid, status="ok", energy=-15.0, forces=np.zeros((len(atoms), 3)),
                             labeller={"name": "chgnet"})
    store.add_potential(potential_id="demo-p001", training_set=[(cid, lid)], files={"mtp": b"MTP\n"},
                        campaign_id="demo", iteration=1)
    assert main(["provenance", "demo-p001"]) == 0
    assert "potential demo-p001" in capsys.readouterr().out
    assert main(["provenance", "x" * 10_000]) == 2
    err = capsys.readouterr().err
    assert "(10000 characters)" in err and len(err) < 400
