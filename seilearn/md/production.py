"""Production MD: NPT Nose-Hoover with grading off, frames to extxyz every n steps, restartable.

After each dump the state (positions, momenta, cell) is checkpointed; a killed run resumes from the
checkpoint and first drops any frame written after it, so no frame is duplicated or lost. A run that
goes unphysical is retried from the checkpoint at half the timestep, recorded in the summary.
Thermostat/barostat chain variables restart from rest (a short re-equilibration after a restart).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read, write

from seilearn.md.integrators import init_velocities, make_dynamics, unphysical

TRAJ = "trajectory.extxyz"
CHECKPOINT = "checkpoint.extxyz"
STATE = "checkpoint.json"


@dataclass
class ProductionResult:
    status: str
    steps_done: int
    trajectory: str
    frames: int
    timestep_fs: float
    timestep_history: list[dict[str, Any]] = field(default_factory=list)
    restarts: int = 0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "steps_done": self.steps_done, "trajectory": self.trajectory,
                "frames": self.frames, "timestep_fs": self.timestep_fs, "timestep_history": self.timestep_history,
                "restarts": self.restarts, "wall_s": self.wall_s}


def _frame(atoms: Atoms, step: int, dt_fs: float, t_fs: float) -> Atoms:
    f = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    f.info.update({"step": step, "time_ps": t_fs / 1000.0, "timestep_fs": dt_fs})
    return f


def _truncate(path: Path, max_time_ps: float) -> int:
    """Keep frames with time_ps <= max_time_ps (drops frames written after the last checkpoint)."""
    if not path.exists():
        return 0
    frames = read(path, index=":", format="extxyz")
    keep = [f for f in frames if f.info.get("time_ps", 0.0) <= max_time_ps + 1e-9]
    if len(keep) != len(frames):
        tmp = path.with_suffix(".tmp")
        write(tmp, keep, format="extxyz")
        os.replace(tmp, path)
    return len(keep)


def run_production(atoms: Atoms, potential, *, outdir: str | Path, steps: int, temperature: float,
                   pressure_bar: float = 1.0, timestep_fs: float = 1.0, dump_every: int = 1000, seed: int = 1,
                   ensemble: str = "npt") -> ProductionResult:
    """Run (or resume) a production trajectory in ``outdir``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    traj, ckpt, state_file = outdir / TRAJ, outdir / CHECKPOINT, outdir / STATE
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    res = ProductionResult(status="running", steps_done=0, trajectory=str(traj), frames=0, timestep_fs=timestep_fs)
    t0 = time.time()
    if state:
        current = read(ckpt, format="extxyz")
        step, t_fs, dt = int(state["step"]), float(state["time_fs"]), float(state["timestep_fs"])
        res.restarts = int(state.get("restarts", 0)) + 1
        res.timestep_history = state.get("timestep_history", [])
        res.frames = _truncate(traj, t_fs / 1000.0)
    else:
        current = atoms.copy()
        init_velocities(current, temperature, seed)
        step, t_fs, dt = 0, 0.0, timestep_fs
        traj.unlink(missing_ok=True)
        write(traj, _frame(current, 0, dt, 0.0), format="extxyz")
        res.frames = 1
        res.timestep_history = [{"from_step": 0, "timestep_fs": dt}]
    v0 = current.get_volume()
    start = current.copy()  # with its velocities: a retry before the first checkpoint starts from here
    while step < steps:
        current.calc = potential.calculator()
        dyn = make_dynamics(current, ensemble, temperature, pressure_bar, dt)
        n = min(dump_every, steps - step)
        try:
            dyn.run(n)
            why = unphysical(current, v0)
        except Exception as exc:  # the neighbour list or calculator refusing a NaN state
            if np.all(np.isfinite(current.positions)) and np.all(np.isfinite(current.cell.array)):
                raise
            why = f"non-finite state: {exc}"
        if why:
            if dt < timestep_fs / 4:
                res.status = f"unphysical at step {step + n} even at {dt} fs: {why}"
                break
            dt /= 2
            res.timestep_history.append({"from_step": step, "timestep_fs": dt, "reason": why})
            current = read(ckpt, format="extxyz") if ckpt.exists() else start.copy()
            continue
        step += n
        t_fs += n * dt
        write(traj, _frame(current, step, dt, t_fs), format="extxyz", append=True)
        res.frames += 1
        tmp = ckpt.with_suffix(".tmp")
        write(tmp, current, format="extxyz")
        os.replace(tmp, ckpt)
        tmp_state = state_file.with_suffix(".tmp")
        tmp_state.write_text(json.dumps({"step": step, "time_fs": t_fs, "timestep_fs": dt, "restarts": res.restarts,
                                         "timestep_history": res.timestep_history}))
        os.replace(tmp_state, state_file)
    else:
        res.status = "completed"
    res.steps_done, res.timestep_fs, res.wall_s = step, dt, time.time() - t0
    return res
