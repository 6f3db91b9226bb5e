"""Queue submission with per-category caps that count only seilearn's own jobs.

FireWorks' qlaunch caps count every job of the user in the queue (docs/operations.md); ours count
jobs whose name is the qadapter's ``job_name`` (``sl-<category>`` in our templates), queued and
running separately, and submit no more jobs than there are READY fireworks of that category.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fireworks import FWorker
from fireworks.queue.queue_launcher import launch_rocket_to_queue
from fireworks.utilities.fw_serializers import load_object_from_file

from seilearn.errors import InputError, SeilearnError

log = logging.getLogger("seilearn.launch")
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class QueueCounts:
    queued: int
    running: int


def our_jobs(q_type: str, job_name: str, user: str | None = None) -> QueueCounts:
    """Queued and running jobs of ``user`` named ``job_name`` (SLURM squeue or PBS qstat)."""
    user = user or getpass.getuser()
    if q_type == "SLURM":
        out = _run(["squeue", "-h", "-u", user, "--name", job_name, "-o", "%T"])
        states = [s.strip() for s in out.splitlines() if s.strip()]
        running = sum(s in ("RUNNING", "COMPLETING") for s in states)
        queued = sum(s in ("PENDING", "CONFIGURING", "REQUEUED", "RESV_DEL_HOLD", "REQUEUE_HOLD") for s in states)
        return QueueCounts(queued, running)
    if q_type == "PBS":
        out = _run(["qstat", "-f", "-u", user])
        queued = running = 0
        for block in re.split(r"\n(?=Job Id:)", out):
            name = re.search(r"Job_Name = (\S+)", block)
            owner = re.search(r"Job_Owner = ([^@\s]+)", block)
            state = re.search(r"job_state = (\S)", block)
            if not (name and state) or name.group(1) != job_name or (owner and owner.group(1) != user):
                continue
            running += state.group(1) in ("R", "E")
            queued += state.group(1) in ("Q", "H", "W", "T")
        return QueueCounts(queued, running)
    raise InputError(f"queue type {q_type!r} is not supported by `seilearn launch queue` (use SLURM or PBS)")


def queue_state(prefix: str = "sl-", user: str | None = None) -> dict[str, dict[str, int]] | None:
    """seilearn's jobs in the batch queue, ``{job name: {state: count}}`` (names starting with ``prefix``).

    None where no scheduler is configured here or it does not answer: a status line is not worth an error.
    """
    user = user or getpass.getuser()
    if shutil.which("squeue") and (os.environ.get("SLURM_CONF") or Path("/etc/slurm/slurm.conf").is_file()):
        cmd, pattern = ["squeue", "-h", "-u", user, "-o", "%j %T"], None
    elif shutil.which("qstat"):
        cmd, pattern = ["qstat", "-f", "-u", user], re.compile(r"Job_Name = (\S+).*?job_state = (\S)", re.S)
    else:
        return None
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    pairs = ([tuple(ln.split()[:2]) for ln in r.stdout.splitlines() if len(ln.split()) >= 2] if pattern is None
             else pattern.findall(r.stdout))
    out: dict[str, dict[str, int]] = {}
    for name, state in pairs:
        if name.startswith(prefix):
            out.setdefault(name, {})
            out[name][state] = out[name].get(state, 0) + 1
    return out


def format_queue(state: dict[str, dict[str, int]] | None) -> list[str]:
    """Status lines for ``queue_state``'s answer (none when no scheduler answered)."""
    if state is None:
        return []
    if not state:
        return ["  queue: no seilearn jobs (sl-*) queued or running"]
    return ["  queue: " + "; ".join(f"{name} " + ", ".join(f"{n} {st.lower()}" for st, n in sorted(states.items()))
                                    for name, states in sorted(state.items()))]


def _run(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise SeilearnError(f"{cmd[0]} not found: is this a {('SLURM' if cmd[0] == 'squeue' else 'PBS')} "
                            "login node?") from exc
    if r.returncode != 0:
        raise SeilearnError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[:200]}")
    return r.stdout


def load_qadapter(path: str | Path, fworker_file: str | Path):
    """A FireWorks CommonAdapter from YAML, with our template's FWORKER_FILE placeholder filled in."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"queue adapter {path} does not exist; templates are in {TEMPLATES}")
    qa = load_object_from_file(str(path))
    if "rocket_launch" in qa:
        qa["rocket_launch"] = qa["rocket_launch"].replace("FWORKER_FILE", str(Path(fworker_file).resolve()))
    return qa


def submit(lp, fworker_file: str | Path, qadapter_file: str | Path, *, max_queued: int = 10, max_running: int = 50,
           launch_dir: str | Path = ".", dry_run: bool = False) -> int:
    """Submit up to the caps for the worker's category; returns the number of jobs submitted."""
    fworker_file = Path(fworker_file)
    if not fworker_file.is_file():
        raise InputError(f"worker file {fworker_file} does not exist; templates are in {TEMPLATES}")
    fworker = FWorker.from_file(str(fworker_file))
    qa = load_qadapter(qadapter_file, fworker_file)
    job_name = qa.get("job_name") or f"sl-{fworker.category or 'any'}"
    counts = our_jobs(qa.q_type, job_name)
    query = dict(fworker.query or {})
    query["state"] = "READY"
    if fworker.category:
        query["spec._category"] = fworker.category
    ready = lp.fireworks.count_documents(query)
    room = min(max_queued - counts.queued, max_queued + max_running - counts.queued - counts.running)
    n = max(0, min(ready - counts.queued, room))
    log.info("category %s: %d ready, %d queued, %d running (jobs named %s); submitting %d",
             fworker.category or "any", ready, counts.queued, counts.running, job_name, n)
    if dry_run:
        return n
    Path(launch_dir).mkdir(parents=True, exist_ok=True)
    for _ in range(n):
        launch_rocket_to_queue(lp, fworker, qa, str(launch_dir), reserve=False, strm_lvl="WARNING",
                               create_launcher_dir=True)
    return n
