"""Self-healing production end to end on the real server: a tiny campaign explores only bulk Li and LPSC, so
its converged potential has never seen the Li/LPSC interface and its first production run (on the interface)
crosses the production break threshold. The run stops cleanly, the campaign relearns (the run's frames and a
fresh exploration from its snapshot, selected, labelled, retrained), the run resumes from its checkpoint with
the new potential and completes; validation frames from production are labelled, held out and scored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from ase.io import read

from seilearn.cli import main
from seilearn.processes import pid_alive
from seilearn.store import Store, get_launchpad
from seilearn.workflows.campaign import status
from seilearn.workflows.run import run_campaign

RUN = "mini-300K-1bar-s1"


def _spec(tmp_path: Path) -> Path:
    spec = yaml.safe_load(Path(__file__).with_name("tiny_campaign.yaml").read_text())
    spec["name"] = "heal"
    spec["production"].update({"steps": 40, "dump_every": 10, "grade_every": 10, "threshold_break": 6.0,
                               "max_relearn": 2})
    spec["validation"] = {"frames": 3}
    path = tmp_path / "heal.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _training_hashes(store: Store, cid: str) -> list[str]:
    docs = store.configurations.find({"source.campaign_id": cid, "source.kind": {"$ne": "validation"},
                                      "labels.status": "ok"}, {"hash": 1})
    return sorted(d["hash"] for d in docs)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_first_production_extrapolates_relearns_resumes_and_completes(settings, tmp_path, capsys):
    rc = run_campaign(_spec(tmp_path), rockets=2, poll_s=1.0)
    out = capsys.readouterr().out
    doc = status(settings, "heal")
    assert rc == 0, (out[-3000:], doc.get("fireworks"), doc.get("relearn"))
    assert doc["state"] == "done"
    store = Store.open(settings)

    events = sorted(doc["relearn"].values(), key=lambda e: e["episode"])
    assert events and events[0]["episode"] == 1 and all(e["state"] == "resumed" for e in events)
    first = events[0]
    # each episode began on a grade above the break or on a blow-up between two grade checks (the unphysical
    # state is named instead of a grade); this bulk-only potential has done both on the interface
    assert all((e.get("grade") is not None and e["grade"] > 6.0) != bool(e.get("failure")) for e in events)
    assert first["potential_id"] == doc["convergence"]["final_potential_id"]
    assert first["n_selected"] >= 1 and first["n_selected_production"] >= 1

    run = doc["production_runs"][RUN]
    assert run["status"] == "completed" and run["steps_done"] == 40
    switches = run["potentials"][1:]
    assert len(switches) == len(events)
    assert switches[0]["previous_potential_id"] == first["potential_id"]
    assert switches[0]["potential_id"] == first["new_potential_id"] == doc["current_potential_id"] or len(events) > 1
    assert switches[0]["stopped_at_step"] == first["step"]
    frames = read(run["trajectory"], index=":")
    steps = [f.info["step"] for f in frames]
    assert steps == [0, 10, 20, 30, 40]  # resumed from the checkpoint: nothing duplicated or lost
    assert frames[-1].info["potential_id"] == doc["current_potential_id"]

    # the frames that tripped the watch entered the training set with their production provenance
    new_pot = store.get_potential(first["new_potential_id"])
    assert new_pot["relearn"] == {"run": RUN, "episode": 1} and new_pot["parent_potential_id"] == first["potential_id"]
    trained = {t["config_id"] for t in new_pot["training_set"]}
    prod_cfgs = list(store.configurations.find({"source.campaign_id": "heal", "source.kind": "production",
                                                "source.relearn_episode": 1}))
    assert prod_cfgs and {c["config_id"] for c in prod_cfgs} <= trained
    every = {c["config_id"] for c in store.configurations.find({"source.campaign_id": "heal",
                                                                "source.kind": "production"})}
    assert every <= {t["config_id"] for t in store.get_potential(doc["current_potential_id"])["training_set"]}
    src = prod_cfgs[0]["source"]
    assert src["production_run"] == RUN and src["grade"] > 1.5 and src["md_step"] >= 10
    assert src["temperature_K"] == 300 and src["pressure_bar"] == 1 and src["relearn_episode"] == 1

    # validation: held out, labelled, scored on the final potential, never trained on
    val = doc["validation"]
    assert val["state"] == "done" and val["potential_id"] == doc["current_potential_id"]
    assert val["n_frames"] + val["n_failed"] == len(val["config_ids"]) >= 1
    assert val["forces"]["rmse"] > 0 and val["energy"]["unit"] == "meV/atom" and val["force_pairs"]
    held_out = set(val["config_ids"])
    for pot in store.potentials.find({"campaign_id": "heal"}):
        assert not held_out & {t["config_id"] for t in pot["training_set"]}
    assert store.get_potential(val["potential_id"])["validation"]["forces"]["rmse"] == val["forces"]["rmse"]

    # nothing twice: configurations, potentials, fireworks
    hashes = [d["hash"] for d in store.configurations.find({}, {"hash": 1})]
    assert len(hashes) == len(set(hashes))
    lp = get_launchpad(settings)
    assert lp.fireworks.count_documents({"state": "FIZZLED"}) == 0
    assert all(len(fw.get("launches", [])) == 1 for fw in lp.fireworks.find({}, {"launches": 1}))

    # what a user sees
    assert main(["campaign", "status", "heal", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["relearn"] and js["validation"]["n_frames"] == val["n_frames"] and "ladder" in js
    assert main(["campaign", "status", "heal"]) == 0
    text = capsys.readouterr().out
    assert "relearn" in text and "validation on production frames" in text

    # the potential leaves the store and runs a production on its own
    export = tmp_path / "export"
    assert main(["potential", "export", "--campaign", "heal", "--out", str(export)]) == 0
    mtp = export / f"{doc['current_potential_id']}.mtp"
    assert main(["md", "produce", "interface-mini", str(mtp), "--steps", "20", "--temperature", "300",
                 "--dump-every", "10", "--out", str(tmp_path / "prod")]) == 0


def _wait_for(predicate, timeout: float = 300.0, every: float = 0.2) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


@pytest.mark.slow
@pytest.mark.timeout(1800)  # three campaign runs (reference, killed, resumed)
def test_kill9_during_relearning_then_resume_gives_the_same_training_set(settings, monkeypatch, tmp_path):
    """Reference run; then in another database and work directory, kill -9 the whole launcher while the relearning
    (between the production stop and the resume) runs, and run the same command again."""
    spec = _spec(tmp_path)
    assert run_campaign(spec, rockets=2, poll_s=1.0) == 0
    reference = _training_hashes(Store.open(settings), "heal")
    ref_events = len(status(settings, "heal")["relearn"])

    monkeypatch.setenv("SEILEARN_DB_NAME", settings.db_name + "_b")
    monkeypatch.setenv("SEILEARN_HOME", str(tmp_path / "home_b"))
    from seilearn.config import load_settings

    other = load_settings()
    proc = subprocess.Popen([sys.executable, "-m", "seilearn.cli", "campaign", "run", str(spec)], env={**os.environ},
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lp = get_launchpad(other)
    relearning = {"spec._seilearn.key": {"$regex": "^(relearn:|label:mini-)"}, "state": "RUNNING"}
    assert _wait_for(lambda: lp.fireworks.count_documents(relearning) > 0), "no relearning firework ever ran"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # as a user would: run again once the killed rockets are gone (a dying rocket still counts as live, and the
    # launcher only reruns the fireworks of rockets that are gone)
    rockets = tmp_path / "home_b" / "rockets"
    assert _wait_for(lambda: not any(pid_alive(int(json.loads(f.read_text())["pid"])) for f in rockets.glob("*.json")),
                     timeout=60)
    assert run_campaign(spec, rockets=2, poll_s=1.0) == 0
    doc = status(other, "heal")
    assert doc["state"] == "done" and len(doc["relearn"]) == ref_events
    store = Store.open(other)
    assert _training_hashes(store, "heal") == reference
    assert store.configurations.count_documents({}) == len({d["hash"] for d in store.configurations.find()})
    assert store.potentials.count_documents({}) == len({p["potential_id"] for p in store.potentials.find()})
    steps = [f.info["step"] for f in read(doc["production_runs"][RUN]["trajectory"], index=":")]
    assert steps == [0, 10, 20, 30, 40]
