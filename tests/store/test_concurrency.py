"""Concurrent id allocation and rockets against the real server (SecantusDB's stale BEFORE images)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from fireworks import Firework, ScriptTask, Workflow

from seilearn.store import get_launchpad
from seilearn.store.launchpad import SeilearnLaunchPad


def _allocate(uri: str, db: str, n: int, out: str) -> None:
    lp = SeilearnLaunchPad(host=uri, name=db, uri_mode=True, strm_lvl="ERROR")
    ids = [(lp.get_new_fw_id(), lp.get_new_launch_id()) for _ in range(n)]
    with open(out, "w") as handle:
        handle.write("\n".join(f"{a} {b}" for a, b in ids))


def test_four_processes_allocate_unique_ids(settings, tmp_path):
    get_launchpad(settings)
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_allocate, args=(settings.mongodb_uri, settings.db_name, 150, str(tmp_path / f"{i}.txt")))
             for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    pairs = [line.split() for i in range(4) for line in (tmp_path / f"{i}.txt").read_text().splitlines()]
    fw_ids = Counter(int(a) for a, _ in pairs)
    launch_ids = Counter(int(b) for _, b in pairs)
    assert len(pairs) == 600
    assert max(fw_ids.values()) == 1 and max(launch_ids.values()) == 1
    assert sorted(fw_ids) == list(range(1, 601))


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_rapidfire_runs_each_firework_once(settings, tmp_path, workers):
    lp = get_launchpad(settings)
    record = tmp_path / "ran.txt"
    wfs = [Workflow([Firework(ScriptTask.from_str(f"echo {i} >> {record}"), name=f"fw{i}")]) for i in range(40)]
    lp.bulk_add_wfs(wfs)
    lp_file = tmp_path / "lp.yaml"
    lp.to_file(str(lp_file))
    env = {**os.environ, "SEILEARN_HOME": str(settings.home)}
    procs = []
    for w in range(workers):
        wd = tmp_path / f"w{w}"
        wd.mkdir()
        procs.append(subprocess.Popen([sys.executable, "-m", "seilearn.cli", "rlaunch", "-l", str(lp_file), "-s",
                                       "rapidfire", "--sleep", "0"], cwd=wd, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    ran = Counter(int(x) for x in record.read_text().split())
    assert sorted(ran) == list(range(40)) and max(ran.values()) == 1, ran
    assert lp.fireworks.count_documents({"state": "COMPLETED"}) == 40
    launches = list(lp.launches.find({}, {"launch_id": 1, "fw_id": 1}))
    assert len(launches) == 40
    assert len({d["launch_id"] for d in launches}) == 40
    assert len({d["fw_id"] for d in launches}) == 40
