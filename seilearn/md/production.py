"""Production MD: NPT Nose-Hoover with grading off, frames to extxyz every n steps, restartable.

After each dump the state (positions, momenta, cell) is checkpointed; a killed run resumes from the
checkpoint and first drops any frame written after it, so no frame is duplicated or lost. A run that
goes unphysical (NaN, atoms too close, box collapse, or a drift of the integrator's conserved energy above
``max_drift_ev_per_atom``) is retried from the checkpoint at half the timestep, recorded in the summary.
The integrator is kept from one dump to the next; after a restart or a retry the thermostat/barostat chain
variables restart from rest (a short re-equilibration). Temperature and pressure may follow schedules
(``seilearn.md.schedules``) over the ``steps`` of the run; the targets are updated in place every
``retarget_every`` steps.
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

from seilearn.md.integrators import (MAX_DRIFT_EV_PER_ATOM, RETARGET_EVERY, DriftMonitor, init_velocities,
                                     make_dynamics, unphysical)
from seilearn.md.schedules import ScheduleLike, pressure_schedule, temperature_schedule

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


def _frame(atoms: Atoms, step: int, dt_fs: float, t_fs: float, temperature_K: float,
           pressure_bar: float | None) -> Atoms:
    f = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    f.info.update({"step": step, "time_ps": t_fs / 1000.0, "timestep_fs": dt_fs, "temperature_K": temperature_K})
    if pressure_bar is not None:
        f.info["pressure_bar"] = pressure_bar
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


def run_production(atoms: Atoms, potential, *, outdir: str | Path, steps: int, temperature: ScheduleLike,
                   pressure_bar: ScheduleLike = 1.0, timestep_fs: float = 1.0, dump_every: int = 1000, seed: int = 1,
                   ensemble: str = "npt", max_drift_ev_per_atom: float | None = MAX_DRIFT_EV_PER_ATOM,
                   retarget_every: int = RETARGET_EVERY) -> ProductionResult:
    """Run (or resume) a production trajectory in ``outdir``. ``temperature`` (K) and ``pressure_bar``: numbers
    or schedules over the ``steps`` of the run (e.g. "300:600"); frames record the targets at their step."""
    t_sched, p_sched = temperature_schedule(temperature), pressure_schedule(pressure_bar, "pressure_bar")
    t_sched.check(steps)
    p_sched.check(steps)
    if retarget_every < 1:
        raise ValueError(f"retarget_every {retarget_every!r} must be a positive number of steps")
    scheduled = not (t_sched.is_constant and p_sched.is_constant)

    def target_t(at: int) -> float:
        return t_sched.value(at, steps)

    def target_p(at: int) -> float | None:
        return p_sched.value(at, steps) if ensemble == "npt" else None

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
        init_velocities(current, target_t(0), seed)
        step, t_fs, dt = 0, 0.0, timestep_fs
        traj.unlink(missing_ok=True)
        write(traj, _frame(current, 0, dt, 0.0, target_t(0), target_p(0)), format="extxyz")
        res.frames = 1
        res.timestep_history = [{"from_step": 0, "timestep_fs": dt}]
    v0 = current.get_volume()
    start = current.copy()  # with its velocities: a retry before the first checkpoint starts from here
    dyn = monitor = None
    while step < steps:
        if dyn is None:  # (re)build after a start, restart or retry; H_ref of the drift check starts here
            current.calc = potential.calculator()
            dyn = make_dynamics(current, ensemble, target_t(step), p_sched.value(step, steps), dt)
            monitor = DriftMonitor(dyn, max_drift_ev_per_atom)
        n = min(dump_every, steps - step)
        try:
            done = 0
            while done < n:
                k = min(retarget_every, n - done) if scheduled else n - done
                if scheduled:
                    monitor.retarget(target_t(step + done), p_sched.value(step + done, steps))
                dyn.run(k)
                done += k
            why = unphysical(current, v0) or monitor.check()
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
            dyn = monitor = None
            continue
        step += n
        t_fs += n * dt
        write(traj, _frame(current, step, dt, t_fs, target_t(step), target_p(step)), format="extxyz", append=True)
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
