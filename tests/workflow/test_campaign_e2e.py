"""End to end on the real server: a tiny campaign (CHGNet labels, level-4 MTP, seconds-scale
explorations) runs through its threshold stages to convergence and launches production + analysis.
Then the same campaign interrupted by kill -9 in the middle of a labelling firework is recovered and
ends with the same training set (same hashes, no duplicates)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seilearn.mtp.mtpfile import read_mtp
from seilearn.mtp.potential import Potential
from seilearn.selection import ActiveSet
from seilearn.store import Store, get_launchpad
from seilearn.workflows.campaign import progress, status
from seilearn.workflows.run import _progress_line, run_campaign

SPEC = Path(__file__).with_name("tiny_campaign.yaml")
SPECIES = ["Li", "P", "S", "Cl"]


def _training_hashes(store: Store, cid: str) -> list[str]:
    docs = store.configurations.find({"source.campaign_id": cid, "labels.status": "ok"}, {"hash": 1})
    return sorted(d["hash"] for d in docs)


def test_tiny_campaign_converges_and_runs_production(settings, capsys):
    rc = run_campaign(SPEC, rockets=2, poll_s=1.0)
    doc = status(settings, "tiny")
    out = capsys.readouterr().out
    assert rc == 0, (out[-3000:], doc.get("fireworks"))
    assert doc["state"] == "done"
    conv = doc["convergence"]
    assert conv["converged"] is True
    hist = sorted(doc["history"], key=lambda h: h["iteration"])
    # the last iteration of each stage selected nothing; the stages were walked in order
    assert [h["stage"] for h in hist] == sorted(h["stage"] for h in hist)
    assert hist[-1]["n_selected"] == 0 and hist[-1]["stage"] == 1
    store = Store.open(settings)
    hashes = _training_hashes(store, "tiny")
    assert len(hashes) == len(set(hashes)) >= 10
    pots = list(store.potentials.find({"campaign_id": "tiny"}))
    assert pots and all(p["files"].get("mtp") and p["files"].get("almtp") for p in pots)
    # the first potential's active set is built from eps I (as `mlp train`); each warm retrain's starts from its
    # parent's active rows, and every training configuration grades within the build threshold against it
    by_it = sorted(pots, key=lambda p: p["iteration"])
    assert by_it[0]["fit"] == "fresh" and by_it[0]["active_set"]["start"] == "eps"
    assert all(p["active_set"]["start"] == "parent" and p["active_set"]["seeded_rows"] > 0 for p in by_it[1:])
    last = by_it[-1]
    aset = ActiveSet.from_bytes(store.potential_file(last["potential_id"], "almtp"), species=SPECIES)
    pot = Potential(read_mtp(store.potential_file(last["potential_id"], "mtp").decode()), species=SPECIES)
    train = store.get_atoms([t["config_id"] for t in last["training_set"]])
    assert max(aset.grade(pot, a)[0] for a in train) <= 1.001 + 1e-6
    # cross-validation ran as fold fireworks beside the explorations, and each potential got its summary
    assert all(p["metrics"]["cv"]["folds"] == 2 and len(p["cv_folds"]) == 2 for p in pots)
    assert all(p["metrics"]["cv"]["test"]["rmse_energy_mev_atom"]["mean"] > 0 for p in pots)
    run = doc["production_runs"]["mini-300K-1bar-s1"]
    assert run["status"] == "completed" and Path(run["trajectory"]).exists()
    assert run["analysis"]["frames"] >= 2 and doc["production_plots"]
    # every selected configuration carries its exploration provenance
    for cid in (c for h in hist for c in h.get("selected_ids") or []):
        src = store.get_configuration(cid)["source"]
        assert src["kind"] == "exploration" and src["grade"] > 1.5 and src["potential_id"]
    lp = get_launchpad(settings)
    assert lp.fireworks.count_documents({"state": "FIZZLED"}) == 0
    # the runner's 5-s progress line reads small records only, and agrees with the full status
    prog = progress(store, lp, "tiny")
    assert prog["fireworks"] == doc["fireworks"] and prog["iteration"] == doc["iteration"]
    assert prog["n_train"] == store.get_potential(doc["current_potential_id"])["n_train"] == last["n_train"]
    assert f"training set {prog['n_train']}," in _progress_line(prog)
    # two rocket processes pulled from the same queue: no firework ran twice, nothing was stored twice
    assert all(len(fw.get("launches", [])) == 1 for fw in lp.fireworks.find({}, {"launches": 1}))
    all_hashes = [d["hash"] for d in store.configurations.find({}, {"hash": 1})]
    assert len(all_hashes) == len(set(all_hashes))
    assert len({p["potential_id"] for p in pots}) == len(pots)


def _wait_for(predicate, timeout: float = 240.0, every: float = 0.2) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


@pytest.mark.slow
def test_kill9_mid_labelling_then_resume_gives_identical_training_set(settings, monkeypatch, tmp_path):
    """Reference run in one database; in another, kill -9 the whole launcher while a labelling firework
    (after the seed set) runs, then run the same command again: the training sets are identical."""
    assert run_campaign(SPEC, rockets=2, poll_s=1.0) == 0
    reference = _training_hashes(Store.open(settings), "tiny")

    monkeypatch.setenv("SEILEARN_DB_NAME", settings.db_name + "_b")
    from seilearn.config import load_settings

    other = load_settings()
    env = {**os.environ}
    proc = subprocess.Popen([sys.executable, "-m", "seilearn.cli", "campaign", "run", str(SPEC)], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lp = get_launchpad(other)
    running_label = {"spec._seilearn.kind": "label", "spec._seilearn.key": {"$regex": "^label:it"},
                     "state": "RUNNING"}
    assert _wait_for(lambda: lp.fireworks.count_documents(running_label) > 0), "no labelling firework ever ran"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lp.fireworks.count_documents({"state": "RUNNING"}) >= 1  # left behind by the dead rockets
    assert run_campaign(SPEC, rockets=2, poll_s=1.0) == 0
    resumed = _training_hashes(Store.open(other), "tiny")
    assert resumed == reference
    store = Store.open(other)
    assert store.configurations.count_documents({}) == len({d["hash"] for d in store.configurations.find()})
