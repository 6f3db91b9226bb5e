"""Local rockets: N processes pulling a campaign's fireworks until nothing is left to run.

Each rocket process registers itself in ``HOME/rockets/<pid>.json``; a firework left RUNNING on this
host by a rocket that no longer exists (Ctrl-C, kill -9, a reboot) is a lost run and is rerun when
the next local launch starts, so an interrupted campaign resumes without losing or repeating work.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import socket
import time
from pathlib import Path
from typing import Any

from seilearn.errors import SeilearnError
from seilearn.processes import pid_alive

log = logging.getLogger("seilearn.launch")

# what can still run: WAITING fireworks become READY when their parents complete, and a parent that can complete
# is one of these; children of a FIZZLED firework wait forever and must not keep the rockets up
ACTIVE = ("READY", "RESERVED", "RUNNING")


def _rocket_dir(home: Path) -> Path:
    d = Path(home) / "rockets"
    d.mkdir(parents=True, exist_ok=True)
    return d


def live_rockets(home: Path) -> list[dict[str, Any]]:
    """Registered rocket processes that still exist (stale registrations are removed)."""
    out = []
    for f in _rocket_dir(home).glob("*.json"):
        try:
            info = json.loads(f.read_text())
        except (OSError, ValueError):
            f.unlink(missing_ok=True)
            continue
        if pid_alive(int(info["pid"])):
            out.append(info)
        else:
            f.unlink(missing_ok=True)
    return out


def campaign_query(campaign_id: str | None) -> dict[str, Any]:
    return {"spec._seilearn.campaign_id": campaign_id} if campaign_id else {}


def recover_lost_runs(lp, home: Path, campaign_id: str | None = None) -> list[int]:
    """Rerun fireworks left RUNNING/RESERVED on this host when no local rocket is alive. Returns their ids."""
    if live_rockets(home):
        return []
    host = socket.gethostname()
    lost = []
    for fw in lp.fireworks.find({**campaign_query(campaign_id), "state": {"$in": ["RUNNING", "RESERVED"]}},
                                {"fw_id": 1, "launches": 1}):
        launches = list(lp.launches.find({"launch_id": {"$in": fw.get("launches", [])}}, {"host": 1}))
        if all(launch.get("host") in (host, None) for launch in launches):
            lost.append(fw["fw_id"])
    if lost:  # a rocket killed inside FireWorks' workflow lock leaves it set, and no rocket here holds it any more
        lp.workflows.update_many({"nodes": {"$in": lost}, "locked": {"$exists": True}}, {"$unset": {"locked": ""}})
    for fw_id in lost:
        lp.rerun_fw(fw_id)
        log.warning("firework %d was left running by a rocket that is gone; rerunning it", fw_id)
    return lost


def counts(lp, campaign_id: str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in lp.fireworks.aggregate([{"$match": campaign_query(campaign_id)},
                                     {"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
        out[d["_id"]] = d["n"]
    return out


def _rocket_loop(campaign_id: str | None, categories: list[str] | None, workdir: str, idle_exit_s: float) -> None:
    """One rocket process: launch fireworks one by one; exit when the campaign has nothing active."""
    import signal
    import warnings

    from seilearn.config import load_settings

    # Ctrl-C reaches the whole process group: the launcher stops the rockets itself (SIGTERM), so a
    # firework is left RUNNING and rerun on the next launch instead of being marked FIZZLED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # library chatter that says nothing to a campaign's user (CHGNet's tensor warning, ASE's PBC notice)
    warnings.filterwarnings("ignore", module="chgnet")
    warnings.filterwarnings("ignore", message="Periodic boundary conditions are ignored")
    settings = load_settings()
    # an idle rocket polls twice a second; FireWorks would log every poll at INFO
    import fireworks.core.rocket as fw_rocket

    fw_rocket.ROCKET_STREAM_LOGLEVEL = "WARNING"
    reg = _rocket_dir(settings.home) / f"{os.getpid()}.json"
    reg.write_text(json.dumps({"pid": os.getpid(), "campaign_id": campaign_id, "host": socket.gethostname()}))
    try:
        _launch_until_idle(settings, campaign_id, categories, workdir, idle_exit_s)
    except SeilearnError as exc:
        # the store stayed away past the reconnect deadline: one clear line, and a failed exit status
        log.error("rocket %d stops: %s", os.getpid(), exc)
        raise SystemExit(3) from None
    finally:
        reg.unlink(missing_ok=True)


def _launch_until_idle(settings, campaign_id: str | None, categories: list[str] | None, workdir: str,
                       idle_exit_s: float) -> None:
    """Launch fireworks until none of the campaign's is active for ``idle_exit_s`` seconds."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import launch_rocket

    from seilearn.store import get_launchpad

    lp = get_launchpad(settings, strm_lvl="ERROR")
    query = campaign_query(campaign_id)
    if categories:
        query["spec._category"] = {"$in": categories}
    worker = FWorker(name=f"seilearn-local-{socket.gethostname()}", query=query)
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    idle_since = None
    while True:
        launched = launch_rocket(lp, worker, strm_lvl="WARNING")
        if launched:
            idle_since = None
            continue
        active = lp.fireworks.count_documents({**campaign_query(campaign_id), "state": {"$in": list(ACTIVE)}})
        if active == 0:
            idle_since = idle_since or time.time()
            if time.time() - idle_since >= idle_exit_s:
                return
        time.sleep(1.0)


def launch_local(n_rockets: int, campaign_id: str | None = None, categories: list[str] | None = None,
                 workdir: str | Path | None = None, idle_exit_s: float = 3.0, wait: bool = True) -> list[mp.Process]:
    """Start ``n_rockets`` rocket processes (and wait for them unless ``wait`` is False)."""
    from seilearn.config import load_settings
    from seilearn.store import get_launchpad

    settings = load_settings()
    lp = get_launchpad(settings, strm_lvl="ERROR")
    recover_lost_runs(lp, settings.home, campaign_id)
    workdir = str(workdir or Path(settings.work_dir) / "launches")
    # cores/N BLAS and MTP-kernel (OpenMP) threads per rocket: N rockets fill the cores without oversubscribing
    cores = len(os.sched_getaffinity(0))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(max(1, cores // max(1, n_rockets))))
    # training and active-set builds are the loop's serial steps (the other rockets wait for them): every core
    os.environ.setdefault("SEILEARN_TRAIN_THREADS", str(cores))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_rocket_loop, args=(campaign_id, categories, workdir, idle_exit_s),
                         name=f"rocket-{i}") for i in range(max(1, n_rockets))]
    for p in procs:
        p.start()
    if wait:
        for p in procs:
            p.join()
            if p.exitcode:
                log.error("%s exited with status %s (see its message above)", p.name, p.exitcode)
    return procs
