"""Local rockets: parallel, no firework twice, and a rocket killed mid-firework is recovered on restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from fireworks import Firework, ScriptTask

from seilearn.launchers.local import launch_local, live_rockets, recover_lost_runs
from seilearn.store import get_launchpad


def test_parallel_local_rockets_run_each_once(settings, tmp_path):
    lp = get_launchpad(settings)
    record = tmp_path / "ran.txt"
    for i in range(12):
        lp.add_wf(Firework(ScriptTask.from_str(f"echo {i} >> {record}"), spec={"_seilearn": {"campaign_id": "c1"}}))
    lp.add_wf(Firework(ScriptTask.from_str(f"echo other >> {record}"), spec={"_seilearn": {"campaign_id": "c2"}}))
    launch_local(2, campaign_id="c1", workdir=tmp_path / "launches", idle_exit_s=0.5)
    ran = Counter(record.read_text().split())
    assert sorted(ran) == sorted(str(i) for i in range(12)) and max(ran.values()) == 1
    assert lp.fireworks.count_documents({"spec._seilearn.campaign_id": "c2", "state": "READY"}) == 1
    assert live_rockets(settings.home) == []


def test_rockets_stop_when_only_children_of_a_failed_firework_wait(settings, tmp_path):
    from fireworks import Workflow

    lp = get_launchpad(settings)
    spec = {"_seilearn": {"campaign_id": "f"}}
    parent = Firework(ScriptTask.from_str("exit 3"), spec=spec, name="fails")
    child = Firework(ScriptTask.from_str(f"touch {tmp_path / 'never'}"), spec=spec, name="waits", parents=[parent])
    lp.add_wf(Workflow([parent, child]))
    procs = launch_local(1, campaign_id="f", workdir=tmp_path / "launches", idle_exit_s=0.5, wait=False)
    for p in procs:
        p.join(60)
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.terminate()
    assert not hung, "a rocket kept waiting for the child of a failed firework"
    states = {d["name"]: d["state"] for d in lp.fireworks.find({"spec._seilearn.campaign_id": "f"})}
    assert states == {"fails": "FIZZLED", "waits": "WAITING"} and not (tmp_path / "never").exists()


def test_killed_rocket_is_recovered(settings, tmp_path):
    lp = get_launchpad(settings)
    marker = tmp_path / "started"
    done = tmp_path / "done.txt"
    lp.add_wf(Firework(ScriptTask.from_str(f"touch {marker}; sleep 3; echo once >> {done}"),
                       spec={"_seilearn": {"campaign_id": "k"}}))
    env = {**os.environ, "SEILEARN_HOME": str(settings.home), "SEILEARN_MONGODB_URI": settings.mongodb_uri,
           "SEILEARN_DB_NAME": settings.db_name}
    code = ("from seilearn.launchers.local import launch_local; "
            f"launch_local(1, campaign_id='k', workdir={str(tmp_path / 'l1')!r})")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert marker.exists()
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its rocket die mid-firework
    proc.wait()
    deadline = time.time() + 20
    while live_rockets(settings.home) and time.time() < deadline:  # the orphaned rocket is being reaped
        time.sleep(0.1)
    assert lp.fireworks.find_one({})["state"] == "RUNNING"
    assert recover_lost_runs(lp, settings.home, "k") == [1]
    assert lp.fireworks.find_one({})["state"] == "READY"
    launch_local(1, campaign_id="k", workdir=tmp_path / "l2", idle_exit_s=0.5)
    assert lp.fireworks.find_one({})["state"] == "COMPLETED"
    assert done.read_text().split() == ["once"]
