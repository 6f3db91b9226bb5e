"""Finding 2 of issue 15: kill -9 of the embedded store under working rockets.

The store comes back on the same port, every rocket rides out the outage (no rocket exits non-zero) and
every firework completes exactly once.
"""

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
from fireworks import Firework, ScriptTask, Workflow

from seilearn.config import load_settings
from seilearn.errors import StoreError
from seilearn.store import get_launchpad, server


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """Settings of a private embedded store (not the session's shared server)."""
    monkeypatch.setenv("SEILEARN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEILEARN_DB_NAME", "restart")
    for var in ("SEILEARN_MONGODB_URI", "SEILEARN_CONFIG", "SEILEARN_DB_PATH", "SEILEARN_DB_PORT"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    yield settings
    server.stop(settings.db_path)


def _run_under_kill(settings, tmp_path: Path, n_fireworks: int, n_rockets: int) -> dict:
    lp = get_launchpad(settings)
    before = server.read_info(settings.db_path)
    record = tmp_path / "ran.txt"
    lp.bulk_add_wfs([Workflow([Firework(ScriptTask.from_str(f"echo {i} >> {record}"), name=f"fw{i}")])
                     for i in range(n_fireworks)])
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    rockets = []
    for r in range(n_rockets):
        wd = tmp_path / f"rocket{r}"
        wd.mkdir()
        rockets.append(subprocess.Popen([sys.executable, "-m", "seilearn.cli", "rlaunch", "rapidfire", "--nlaunches",
                                         "0", "--sleep", "0"], cwd=wd, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True))
    deadline = time.time() + 300
    while not record.exists() or len(record.read_text().split()) < n_fireworks // 3:
        assert time.time() < deadline, "the rockets did not start"
        assert all(p.poll() is None for p in rockets), "a rocket exited before the kill"
        time.sleep(0.2)
    done_at_kill = len(record.read_text().split())
    os.kill(before.pid, signal.SIGKILL)
    errors = [p.communicate(timeout=600)[1] for p in rockets]
    after = server.read_info(settings.db_path)
    states = Counter(d["state"] for d in get_launchpad(settings).fireworks.find({}, {"state": 1}))
    ran = Counter(record.read_text().split())
    return {"before": before, "after": after, "codes": [p.returncode for p in rockets], "errors": errors,
            "states": states, "ran": ran, "done_at_kill": done_at_kill}


def _check(result: dict, n_fireworks: int) -> None:
    assert result["codes"] == [0] * len(result["codes"]), "\n".join(e[-1500:] for e in result["errors"])
    assert result["after"].pid != result["before"].pid, "the store was not restarted"
    assert result["after"].port == result["before"].port
    assert result["states"] == {"COMPLETED": n_fireworks}
    assert sorted(result["ran"], key=int) == [str(i) for i in range(n_fireworks)]
    assert max(result["ran"].values()) == 1
    assert any("reconnecting" in e for e in result["errors"]), "no rocket said it was reconnecting"


def test_rockets_survive_kill9_of_the_store(embedded, tmp_path):
    result = _run_under_kill(embedded, tmp_path, n_fireworks=20, n_rockets=2)
    _check(result, 20)


@pytest.mark.slow
def test_four_rockets_two_hundred_fireworks_survive_kill9(embedded, tmp_path):
    result = _run_under_kill(embedded, tmp_path, n_fireworks=200, n_rockets=4)
    _check(result, 200)
    print(f"kill -9 after {result['done_at_kill']} of 200 fireworks; states {dict(result['states'])}")


def test_restart_keeps_the_recorded_port(embedded):
    first = server.ensure_running(embedded.db_path)
    os.kill(first.pid, signal.SIGKILL)
    time.sleep(0.2)
    second = server.ensure_running(embedded.db_path)
    assert second.pid != first.pid and second.port == first.port
    server.stop(embedded.db_path)
    assert server.ensure_running(embedded.db_path).port == first.port  # also after a clean stop


def test_taken_port_is_reported_with_the_fix(embedded):
    import socket

    first = server.ensure_running(embedded.db_path)
    server.stop(embedded.db_path)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", first.port))
        squatter.listen()
        with pytest.raises(StoreError, match=rf"port {first.port} of the embedded store .* in use by another process"):
            server.ensure_running(embedded.db_path)


def test_store_calls_wait_for_a_restart(embedded):
    """A long-lived Store (the campaign runner, the web GUI) keeps working across a kill -9."""
    from seilearn.store import Store

    store = Store.open(embedded)
    store.record_campaign("c1", state="running")
    info = server.read_info(embedded.db_path)
    os.kill(info.pid, signal.SIGKILL)
    assert store.get_campaign("c1")["state"] == "running"
    assert [d["campaign_id"] for d in store.campaigns.find({}, {"campaign_id": 1}).sort("campaign_id", 1)] == ["c1"]
    assert json.loads((embedded.db_path / "server.json").read_text())["port"] == info.port


@pytest.mark.slow
def test_local_launcher_survives_kill9(embedded, tmp_path):
    from seilearn.launchers.local import launch_local

    lp = get_launchpad(embedded)
    record = tmp_path / "ran.txt"
    lp.bulk_add_wfs([Workflow([Firework(ScriptTask.from_str(f"echo {i} >> {record}"), name=f"fw{i}")])
                     for i in range(60)])
    info = server.read_info(embedded.db_path)
    procs = launch_local(2, workdir=tmp_path / "runs", wait=False)
    deadline = time.time() + 300
    while not record.exists() or len(record.read_text().split()) < 20:
        assert time.time() < deadline
        time.sleep(0.2)
    os.kill(info.pid, signal.SIGKILL)
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0, 0]
    assert Counter(d["state"] for d in get_launchpad(embedded).fireworks.find({}, {"state": 1})) == {"COMPLETED": 60}
    assert sorted(Counter(record.read_text().split()).values()) == [1] * 60
