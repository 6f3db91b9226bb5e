"""A tiny campaign labelled with atomate2-vasp on the real test server: the seed labelling round runs through
the real FireWorks workflow in rocket processes (FireWorks' rapidfire on seilearn's LaunchPad) with the fake
VASP of atomate2's tests (tests/labelling/atomate2_fake.py), ending with the first potential trained on the
labels made from the task documents. Then: kill -9 mid-labelling and relaunch, and reruns of every firework,
add no second task document, label or firework."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from ase.io import write

from seilearn.store import Store, get_launchpad
from seilearn.store.provenance import configuration_lineage, format_configuration_lineage
from seilearn.workflows.campaign import create_campaign
from seilearn.workflows.spec import CampaignSpec

from ..labelling import atomate2_fake
from ..labelling.vasp_reference import TEST_INCAR, lpsc13

ROOT = Path(__file__).resolve().parents[2]
PLAN = {"try0": ["lpsc13", "li5ps5cl_odd", "lpsc13_unconverged"], "try1": ["lpsc13_algo_all"]}


def spec_dict(tmp_path: Path, name: str, detours=None, **extra) -> dict:
    seeds = tmp_path / "seeds.extxyz"
    write(seeds, [lpsc13(), lpsc13(remove_li=True)], format="extxyz")
    settings = {"incar": dict(TEST_INCAR), **extra}
    if detours is not None:
        settings["detours"] = detours
    return {"name": name, "elements": ["Li", "P", "S", "Cl"], "seed_set": {"file": str(seeds)},
            "labeller": {"name": "atomate2-vasp", "settings": settings},
            "mtp": {"level": 4, "cutoff": 5.0, "max_iter": 20, "seed": 0},
            "thresholds": {"save": 1.5, "breaks": [5.5], "converge_after": 1},
            "exploration": [{"structure": "lpsc", "temperatures": [300], "steps": 20, "grade_every": 10,
                             "ensemble": "nvt"}],
            "labelling": {"batch_size": 2}, "max_iterations": 2}


@pytest.fixture
def env(settings, tmp_path, monkeypatch):
    """Settings plus what the rocket processes need: the fake POTCAR tree, the fake's plan and call log."""
    psp = atomate2_fake.potcar_tree(tmp_path / "psp")
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(psp))
    from pymatgen.core import SETTINGS

    monkeypatch.setitem(SETTINGS, "PMG_VASP_PSP_DIR", str(psp))
    monkeypatch.setenv("SEILEARN_FAKE_VASP_PLAN", json.dumps(PLAN))
    monkeypatch.setenv("SEILEARN_FAKE_VASP_LOG", str(tmp_path / "vasp_calls.jsonl"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return settings


def calls(tmp_path: Path) -> list[dict]:
    log = tmp_path / "vasp_calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def rocket(cid: str, tmp_path: Path, **env) -> subprocess.Popen:
    launch = tmp_path / "launches"
    launch.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "tests.workflow.atomate2_rocket", cid, "dft,train", str(launch)],
                            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def run_rocket(cid: str, tmp_path: Path, timeout: float = 300) -> str:
    proc = rocket(cid, tmp_path)
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out.decode()[-3000:]
    return out.decode()


def _states(lp, cid: str) -> list:
    """Each firework's key, state and error (for failure messages)."""
    out = []
    for fw in lp.fireworks.find({"spec._seilearn.campaign_id": cid}, {"fw_id": 1, "state": 1, "launches": 1,
                                                                     "spec._seilearn.key": 1}):
        errs = [(lp.launches.find_one({"launch_id": lid}) or {}).get("action") for lid in fw.get("launches", [])]
        errs = [str((a or {}).get("stored_data", {}).get("_exception", {}).get("_stacktrace", ""))[-600:]
                for a in errs if a]
        out.append((fw["spec"]["_seilearn"]["key"], fw["state"], [e for e in errs if e]))
    return out


def check_no_duplicates(settings, cid: str, n_configs: int) -> dict:
    """One task document per job uuid, one label per configuration, one firework per key."""
    store = Store.open(settings)
    outputs = store.db["atomate2_outputs"]
    uuids = [d["uuid"] for d in outputs.find({}, {"uuid": 1})]
    assert len(uuids) == len(set(uuids))
    labels = {d["config_id"]: d["labels"] for d in store.configurations.find({"source.campaign_id": cid})}
    lp = get_launchpad(settings)
    assert len(labels) == n_configs and all(len(v) == 1 for v in labels.values()), _states(lp, cid)
    keys = Counter(fw["spec"]["_seilearn"]["key"] for fw in lp.fireworks.find({"spec._seilearn.campaign_id": cid},
                                                                               {"spec._seilearn.key": 1}))
    assert keys and max(keys.values()) == 1, keys
    return {"uuids": uuids, "labels": labels, "keys": keys}


def test_submit_builds_atomate2_fireworks_on_the_dft_category(env, tmp_path):
    from seilearn.labelling.atomate2_vasp import job_uuid
    from seilearn.workflows import engines
    from seilearn.workflows.context import task_context
    from seilearn.workflows.tasks.atomate2 import TaskDocExistsTask, attempt_workflow

    spec = CampaignSpec.from_dict({**spec_dict(tmp_path, "a2build", workdir="vasp"), "queues": {"dft": "vasp-nodes"}})
    cid, _ = create_campaign(env, spec)
    store = Store.open(env)
    flagged = lpsc13()
    flagged.positions[0] += 0.01  # another configuration, which the cutter flagged odd
    ids = [store.add_configuration(a, {"kind": "seed", "campaign_id": cid, **src})[0]
           for a, src in ((lpsc13(), {}), (lpsc13(True), {}), (flagged, {"cut": {"odd_electrons": True}}))]
    ctx = task_context({}, cid)
    wf = attempt_workflow(ctx, engines.labeller(ctx.spec), "job", ids, 0)
    *vasp, collect = wf.fws
    assert [fw.spec["_category"] for fw in wf.fws] == ["vasp-nodes"] * 4
    assert [fw.spec["_seilearn"]["key"] for fw in vasp] == [f"a2:job:{c}:try0" for c in ids]
    assert all(isinstance(fw.tasks[0], TaskDocExistsTask) for fw in vasp)
    assert [fw.tasks[1]["job"].uuid for fw in vasp] == [job_uuid(f"job:{c}", 0) for c in ids]
    assert collect.spec["_allow_fizzled_parents"] and wf.links[vasp[0].fw_id] == [collect.fw_id]
    assert vasp[0].spec["_launch_dir"] == str(env.work_dir / cid / "vasp" / "job" / f"{ids[0]}-try0")
    # the JobStore travels as collection names only: no server address or password in the workflow
    text = json.dumps(wf.to_dict(), default=str)
    assert "mongodb://" not in text and "atomate2_outputs" in text
    # ISPIN decided per configuration from the POTCAR valences (60 electrons -> 1, 57 -> 2) or the cutter's flag
    incars = [fw.tasks[1]["job"].maker.input_set_generator.user_incar_settings for fw in vasp]
    assert [i["ISPIN"] for i in incars] == [1, 2, 2] and all(i["KSPACING"] == 0.5 for i in incars)


@pytest.mark.slow
def test_atomate2_labelling_round_kill9_and_reruns(env, tmp_path, capsys):
    """~1-2 min: three rocket processes (the killed one, its relaunch, the rerun round)."""
    settings = env
    spec = CampaignSpec.from_dict(spec_dict(tmp_path, "a2tiny"))
    cid, created = create_campaign(settings, spec)
    assert created
    # a rocket that sleeps 60 s inside the fake VASP is killed while the first VASP firework runs
    proc = rocket(cid, tmp_path, SEILEARN_FAKE_VASP_SLEEP="60")
    lp = get_launchpad(settings)
    deadline = time.time() + 120
    while not calls(tmp_path) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert calls(tmp_path), proc.communicate()[0].decode()[-3000:]
    running = list(lp.fireworks.find({"spec._seilearn.kind": "dft", "state": "RUNNING"}, {"fw_id": 1}))
    assert len(running) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # relaunch: the lost run is rerun (as `seilearn launch local` does), then the rocket finishes the round
    from seilearn.launchers.local import recover_lost_runs

    assert recover_lost_runs(lp, settings.home, cid) == [running[0]["fw_id"]]
    run_rocket(cid, tmp_path)
    store = Store.open(settings)
    found = check_no_duplicates(settings, cid, 2)
    assert len(found["uuids"]) == 2
    assert [c["reference"] for c in calls(tmp_path)].count("lpsc13") + \
        [c["reference"] for c in calls(tmp_path)].count("li5ps5cl_odd") == 3  # killed run + 2
    pot = store.get_potential(f"{cid}-p000")
    assert pot["n_train"] == 2
    # each label names its task document, which is in the JobStore on the same server
    for config_id, (label,) in found["labels"].items():
        assert label["status"] == "ok" and label["labeller"]["name"] == "atomate2-vasp"
        task = label["task_document"]
        assert task["uuid"] in found["uuids"] and task["state"] == "successful"
        assert task["store"]["outputs"] == "atomate2_outputs"
        doc = store.db["atomate2_outputs"].find_one({"uuid": task["uuid"]})
        assert doc["output"]["output"]["energy"] == pytest.approx(label["energy"], abs=0.01)
        text = format_configuration_lineage(configuration_lineage(store, config_id))
        assert f"task document {task['uuid']}" in text
        from seilearn.cli import main

        capsys.readouterr()
        assert main(["provenance", config_id]) == 0
        assert f"task document {task['uuid']} in atomate2_outputs: successful" in capsys.readouterr().out
    spins = sorted(lab["task_document"]["incar"]["ISPIN"] for (lab,) in found["labels"].values())
    assert spins == [1, 2]
    # rerun every firework of the round (FireWorks reruns the descendants too): nothing is added, VASP not rerun
    n_calls = len(calls(tmp_path))
    submit = lp.fireworks.find_one({"spec._seilearn.campaign_id": cid, "spec._seilearn.kind": "label",
                                    "spec._seilearn.key": {"$regex": "^label:"}}, {"fw_id": 1})
    lp.rerun_fw(submit["fw_id"])
    run_rocket(cid, tmp_path)
    assert len(calls(tmp_path)) == n_calls
    again = check_no_duplicates(settings, cid, 2)
    assert sorted(again["uuids"]) == sorted(found["uuids"]) and again["keys"] == found["keys"]
    assert store.potentials.count_documents({"campaign_id": cid}) == 1


@pytest.mark.slow
def test_unconverged_run_detours_in_the_workflow(env, tmp_path, monkeypatch):
    """The first run of the even cell does not converge; its collection adds the ALGO=All detour."""
    plan = {"try0": ["lpsc13_unconverged", "li5ps5cl_odd"], "try1": ["lpsc13_algo_all"]}
    monkeypatch.setenv("SEILEARN_FAKE_VASP_PLAN", json.dumps(plan))
    spec = CampaignSpec.from_dict(spec_dict(tmp_path, "a2detour", detours=[{"ALGO": "All", "NELM": 200}]))
    cid, _ = create_campaign(env, spec)
    run_rocket(cid, tmp_path)
    found = check_no_duplicates(env, cid, 2)
    assert len(found["uuids"]) == 3  # two first tries and one detour
    reasons = sorted(lab["reason"] or "" for (lab,) in found["labels"].values())
    assert "converged after detour" in reasons[1] and all(lab["status"] == "ok" for (lab,) in found["labels"].values())
    assert [c["reference"] for c in calls(tmp_path)].count("lpsc13_algo_all") == 1


@pytest.mark.slow
def test_failed_detour_is_quarantined_never_labelled(env, tmp_path, monkeypatch):
    """The even cell does not converge and its detour's VASP firework fails outright (no reference matches its
    inputs, as VASP or custodian giving up): the collection still runs and quarantines it."""
    monkeypatch.setenv("SEILEARN_FAKE_VASP_PLAN", json.dumps({"try0": ["lpsc13_unconverged", "li5ps5cl_odd"]}))
    spec = CampaignSpec.from_dict(spec_dict(tmp_path, "a2quar", detours=[{"ALGO": "All", "NELM": 200}]))
    cid, _ = create_campaign(env, spec)
    run_rocket(cid, tmp_path)
    found = check_no_duplicates(env, cid, 2)
    by_status = {lab["status"]: (cid_, lab) for cid_, (lab,) in found["labels"].items()}
    assert sorted(by_status) == ["failed", "ok"]
    bad_id, bad = by_status["failed"]
    assert bad["energy"] is None and bad["task_document"]["quarantined"]
    assert "electronic SCF not converged" in bad["reason"] and "[ALGO=All, NELM=200] no task document" in bad["reason"]
    store = Store.open(env)
    assert store.labelling_jobs.find_one({"job_id": f"{cid}-seed-b000"})["quarantined"] == [bad_id]
    lp = get_launchpad(env)
    assert lp.fireworks.count_documents({"spec._seilearn.campaign_id": cid, "state": "FIZZLED"}) == 1
    assert store.get_potential(f"{cid}-p000")["n_train"] == 1  # trained on the good label only
