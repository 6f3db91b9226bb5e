"""Time MLIP-3's ``mlp`` on the same inputs as ours, in the same run, when it is installed.

``mlp`` is found as ``$SEILEARN_MLP`` or on PATH (users on clusters have it; MLIP-3 builds from its
public sources with ``./configure --no-mpi && make mlp``). Without it the mlp column of the benchmark
table (benchmarks/run_all.py) stays empty. Every ``mlp`` command reads and writes text ``.cfg`` files; per-item
costs are taken as the difference between a run on ``k`` items and a run on one item, so process
start, potential loading and the fixed part of file handling cancel out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ase import Atoms

from seilearn.mtp.cfg import write_cfg
from seilearn.mtp.mtpfile import write_mtp


def find_mlp() -> str | None:
    """Path of MLIP-3's ``mlp``, or None."""
    exe = os.environ.get("SEILEARN_MLP") or shutil.which("mlp")
    return exe if exe and os.access(exe, os.X_OK) else None


class MLP:
    """``mlp`` commands in a scratch directory, each returning its wall time in seconds."""

    def __init__(self, exe: str, species: Sequence[str]):
        self.exe, self.species = exe, list(species)
        self.dir = Path(tempfile.mkdtemp(prefix="seilearn-mlp-bench-"))

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def write_cfg(self, name: str, frames: Sequence[Atoms]) -> str:
        write_cfg(self.path(name), list(frames), self.species)
        return self.path(name)

    def write_mtp(self, name: str, model) -> str:
        write_mtp(self.path(name), model)
        return self.path(name)

    def write_almtp(self, name: str, active_set, mtp_text: str) -> str:
        active_set.write(self.path(name), mtp_text, self.species)
        return self.path(name)

    def run(self, *args: str, timeout: float = 3600) -> float:
        t = time.perf_counter()
        proc = subprocess.run([self.exe, *args], cwd=self.dir, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"mlp {' '.join(args)} failed ({proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")
        self.last_stdout = proc.stdout
        return wall

    def best(self, *args: str, repeats: int = 3) -> float:
        return min(self.run(*args) for _ in range(repeats))

    def per_item(self, frames_one: Sequence[Atoms], frames_many: Sequence[Atoms], build_args) -> float:
        """(t(many) - t(one)) / (len(many) - len(one)); ``build_args(cfg_path, out_name)`` -> mlp args."""
        one = self.write_cfg("one.cfg", frames_one)
        many = self.write_cfg("many.cfg", frames_many)
        t_one = self.best(*build_args(one, "out_one.cfg"))
        t_many = self.best(*build_args(many, "out_many.cfg"))
        return max(t_many - t_one, 0.0) / (len(frames_many) - len(frames_one))


SELECTION_ARGS = {
    "nbh": ["--energy_weight=0", "--force_weight=0", "--stress_weight=0", "--site_en_weight=1", "--weight_scaling=2"],
    "cfg": ["--energy_weight=1", "--force_weight=0", "--stress_weight=0", "--site_en_weight=0", "--weight_scaling=2"],
}
