"""A single-node SLURM cluster (Debian's slurm-wlm + munge) living entirely in one directory.

munged listens on a socket in that directory, slurmctld and slurmd on free ports, with state, spool,
logs and pid files beside them; clients find it through ``SLURM_CONF``. One node of ``nproc`` CPUs whose
cores may be shared by several jobs, so the jobs of one submission start together.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def missing_programs() -> list[str]:
    return [p for p in DAEMONS if not shutil.which(p)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """Start with ``start()``; ``env`` points clients at it; ``stop()`` ends every daemon it started."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # munged refuses a socket directory others can write
        self.conf = self.root / "slurm.conf"
        self.socket = self.root / "munge" / "munge.socket"
        self.node = "sltest"
        self.cpus = os.cpu_count() or 1
        self.procs: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def _write_config(self) -> None:
        (self.root / "munge").mkdir(mode=0o700, exist_ok=True)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        for d in ("state", "spool", "log"):
            (self.root / d).mkdir(exist_ok=True)
        r = self.root
        self.conf.write_text(f"""\
ClusterName=seilearn-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=defer_batch
MinJobAge=30
NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname={socket.gethostname()} CPUs={self.cpus} State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
""")

    def start(self, timeout: float = 60.0) -> None:
        """Start munged, slurmctld and slurmd; wait until the node is idle. RuntimeError with the logs if not."""
        self._write_config()
        r = self.root
        env = {**os.environ, **self.env}
        self._spawn(["munged", "--foreground", "--force", f"--socket={self.socket}",
                     f"--key-file={r / 'munge' / 'munge.key'}", f"--pid-file={r / 'munge' / 'munged.pid'}",
                     f"--log-file={r / 'log' / 'munged.log'}", f"--seed-file={r / 'munge' / 'munge.seed'}"], env)
        self._wait(lambda: self.socket.exists(), 15, "munged did not create its socket")
        self._spawn(["slurmctld", "-D", "-i", "-f", str(self.conf)], env)
        self._spawn(["slurmd", "-D", "-N", self.node, "-f", str(self.conf)], env)

        def idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=env, capture_output=True, text=True,
                                 timeout=20)
            return out.returncode == 0 and out.stdout.strip().startswith("idle")

        self._wait(idle, timeout, "the node did not become idle")

    def _spawn(self, cmd: list[str], env: dict[str, str]) -> None:
        log = open(self.root / "log" / f"{cmd[0]}.out", "ab")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True))

    def _wait(self, ok, timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if ok():
                return
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.5)
        raise RuntimeError(f"{what}; exited: {dead or 'none'}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}"
                         for f in sorted((self.root / "log").glob("*")) if f.is_file())

    def stop(self) -> None:
        """Cancel every job, then stop the daemons this object started."""
        subprocess.run(["scancel", "-u", os.environ.get("USER", "root")], env={**os.environ, **self.env},
                       capture_output=True, timeout=20)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
