"""Production MD: NPT Nose-Hoover with grading off, frames to extxyz every n steps, restartable.

After each dump the state (positions, momenta, cell) is checkpointed; a killed run resumes from the
checkpoint and first drops any frame written after it, so no frame is duplicated or lost. A run that
goes unphysical (NaN, atoms too close, box collapse, or a drift of the integrator's conserved energy above
``max_drift_ev_per_atom``) is retried from the checkpoint at half the timestep, recorded in the summary.
The integrator is kept from one dump to the next; after a restart or a retry the thermostat/barostat chain
variables restart from rest (a short re-equilibration). Temperature and pressure may follow schedules
(``seilearn.md.schedules``) over the ``steps`` of the run; the targets are updated in place every
``retarget_every`` steps.

Grade watch (self-healing production): with a ``grader``, the run is graded every ``grade_every`` steps
against the production potential's active set. Frames above ``threshold_save`` go to ``preselected.extxyz``;
a grade above ``threshold_break`` stops the run cleanly (status ``extrapolating``; checkpoint kept) and copies
this potential's preselected frames and the last checkpoint to ``relearn-<n>.extxyz`` / ``snapshot-<n>.extxyz``
for learning. Run again with another ``potential_id`` and it resumes from the checkpoint, recording the switch
(step, old and new potential) in ``checkpoint.json`` and the summary; every frame names the potential that
made it. The new potential starts again at the run's own timestep (a halving was the old potential's).

With ``learn_on_failure`` (a watched run), a run that goes unphysical between two grade checks stops for
learning the same way (the stop record names the ``failure`` instead of a grade): an MTP that blows up within
a hundred steps has left its training domain, and a smaller timestep would only carry the run on with a wrong
potential (measured on the demo: such halvings left 10000-step productions covering 2.8-7.1 ps). Only when the
potential learned from that failure fails again from the same checkpoint is the timestep halved.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read, write

from seilearn.md.integrators import (
    MAX_DRIFT_EV_PER_ATOM,
    RETARGET_EVERY,
    DriftMonitor,
    init_velocities,
    make_dynamics,
    unphysical,
)
from seilearn.md.schedules import ScheduleLike, pressure_schedule, temperature_schedule

TRAJ = "trajectory.extxyz"
CHECKPOINT = "checkpoint.extxyz"
STATE = "checkpoint.json"
PRESELECTED = "preselected.extxyz"


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
    max_grade: float | None = None
    potentials: list[dict[str, Any]] = field(default_factory=list)  # which potential ran from which step
    extrapolation: dict[str, Any] | None = None  # where and why an ``extrapolating`` run stopped
    time_ps: float = 0.0  # simulated time reached (steps_done steps at the timesteps of timestep_history)

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "steps_done": self.steps_done, "time_ps": self.time_ps,
                "trajectory": self.trajectory,
                "frames": self.frames, "timestep_fs": self.timestep_fs, "timestep_history": self.timestep_history,
                "restarts": self.restarts, "wall_s": self.wall_s, "max_grade": self.max_grade,
                "potentials": self.potentials, "extrapolation": self.extrapolation}


def _frame(atoms: Atoms, step: int, dt_fs: float, t_fs: float, temperature_K: float,
           pressure_bar: float | None, potential_id: str | None = None) -> Atoms:
    f = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    f.info.update({"step": step, "time_ps": t_fs / 1000.0, "timestep_fs": dt_fs, "temperature_K": temperature_K})
    if pressure_bar is not None:
        f.info["pressure_bar"] = pressure_bar
    if potential_id is not None:
        f.info["potential_id"] = potential_id
    return f


def _truncate(path: Path, max_time_ps: float) -> int:
    """Keep frames with time_ps <= max_time_ps (drops frames written after the last checkpoint)."""
    if not path.exists():
        return 0
    frames = read(path, index=":", format="extxyz")
    keep = [f for f in frames if f.info.get("time_ps", 0.0) <= max_time_ps + 1e-9]
    if len(keep) != len(frames):
        _write_atomic(path, keep)
    return len(keep)


def _write_atomic(path: Path, frames: list[Atoms]) -> None:
    tmp = path.with_suffix(".tmp")
    write(tmp, frames, format="extxyz")
    os.replace(tmp, path)


def _grade_of(value: Any) -> float:
    return float(value[0] if isinstance(value, tuple) else value)


def run_production(atoms: Atoms, potential, *, outdir: str | Path, steps: int, temperature: ScheduleLike,
                   pressure_bar: ScheduleLike = 1.0, timestep_fs: float = 1.0, dump_every: int = 1000, seed: int = 1,
                   ensemble: str = "npt", max_drift_ev_per_atom: float | None = MAX_DRIFT_EV_PER_ATOM,
                   retarget_every: int = RETARGET_EVERY, grader: Callable[[Atoms], Any] | None = None,
                   grade_every: int = 100, threshold_save: float | None = None,
                   threshold_break: float | None = None, potential_id: str | None = None,
                   learn_on_failure: bool = False) -> ProductionResult:
    """Run (or resume) a production trajectory in ``outdir``. ``temperature`` (K) and ``pressure_bar``: numbers
    or schedules over the ``steps`` of the run (e.g. "300:600"); frames record the targets at their step.

    ``grader(atoms) -> grade`` (or ``(grade, per_atom)``), when given, is called every ``grade_every`` steps;
    see the module docstring for ``threshold_save``/``threshold_break``, ``potential_id`` and
    ``learn_on_failure``."""
    t_sched, p_sched = temperature_schedule(temperature), pressure_schedule(pressure_bar, "pressure_bar")
    t_sched.check(steps)
    p_sched.check(steps)
    if retarget_every < 1:
        raise ValueError(f"retarget_every {retarget_every!r} must be a positive number of steps")
    if grader is not None and (not isinstance(grade_every, int) or grade_every < 1):
        raise ValueError(f"grade_every {grade_every!r} must be a positive number of steps")
    if threshold_break is not None and threshold_save is not None and threshold_break <= threshold_save:
        raise ValueError(f"threshold_break {threshold_break} must be above threshold_save {threshold_save}")
    scheduled = not (t_sched.is_constant and p_sched.is_constant)

    def target_t(at: int) -> float:
        return t_sched.value(at, steps)

    def target_p(at: int) -> float | None:
        return p_sched.value(at, steps) if ensemble == "npt" else None

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    traj, ckpt, state_file = outdir / TRAJ, outdir / CHECKPOINT, outdir / STATE
    presel = outdir / PRESELECTED
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    res = ProductionResult(status="running", steps_done=0, trajectory=str(traj), frames=0, timestep_fs=timestep_fs)
    t0 = time.time()
    if state:
        step, t_fs, dt = int(state["step"]), float(state["time_fs"]), float(state["timestep_fs"])
        res.timestep_history = state.get("timestep_history", [])
        res.potentials = state.get("potentials", [])
        res.max_grade = state.get("max_grade")
        failure_stops = list(state.get("failure_stops", []))
        stopped = state.get("extrapolation")
        if stopped and stopped.get("potential_id") == potential_id:
            # a rerun with the potential that already extrapolated: the same outcome, nothing run again
            res.status, res.extrapolation, res.restarts = "extrapolating", stopped, int(state.get("restarts", 0))
            res.steps_done, res.timestep_fs, res.frames = step, dt, _truncate(traj, t_fs / 1000.0)
            res.time_ps = t_fs / 1000.0
            return res
        current = read(ckpt, format="extxyz") if ckpt.exists() else None
        res.restarts = int(state.get("restarts", 0)) + 1
        res.frames = _truncate(traj, t_fs / 1000.0)
        _truncate(presel, t_fs / 1000.0)
        if stopped:  # resuming with a new potential after learning from the frames where the old one extrapolated
            res.potentials.append({"from_step": step, "potential_id": potential_id,
                                   "previous_potential_id": stopped.get("potential_id"),
                                   "stopped_at_step": stopped.get("step"), "grade": stopped.get("grade"),
                                   **({"failure": stopped["failure"]} if stopped.get("failure") else {})})
            if dt != timestep_fs:  # the halving answered the old potential's failure
                dt = timestep_fs
                res.timestep_history.append({"from_step": step, "timestep_fs": dt,
                                             "reason": f"new potential {potential_id}"})
        elif res.potentials and res.potentials[-1].get("potential_id") != potential_id:
            res.potentials.append({"from_step": step, "potential_id": potential_id,
                                   "previous_potential_id": res.potentials[-1].get("potential_id")})
        if current is None:  # stopped before the first checkpoint: start over from the initial state
            current = atoms.copy()
            init_velocities(current, target_t(0), seed)
    else:
        current = atoms.copy()
        init_velocities(current, target_t(0), seed)
        step, t_fs, dt = 0, 0.0, timestep_fs
        failure_stops = []
        traj.unlink(missing_ok=True)
        presel.unlink(missing_ok=True)
        write(traj, _frame(current, 0, dt, 0.0, target_t(0), target_p(0), potential_id), format="extxyz")
        res.frames = 1
        res.timestep_history = [{"from_step": 0, "timestep_fs": dt}]
        res.potentials = [{"from_step": 0, "potential_id": potential_id}]
    v0 = current.get_volume()

    def save_state(extrapolation: dict[str, Any] | None = None) -> None:
        tmp_state = state_file.with_suffix(".tmp")
        tmp_state.write_text(json.dumps({"step": step, "time_fs": t_fs, "timestep_fs": dt, "restarts": res.restarts,
                                         "timestep_history": res.timestep_history, "potentials": res.potentials,
                                         "max_grade": res.max_grade, "extrapolation": extrapolation,
                                         "failure_stops": failure_stops}))
        os.replace(tmp_state, state_file)

    def watch(at: int, at_fs: float) -> dict[str, Any] | None:
        """Grade the current state; keep it when above save; the stop record when above break."""
        gamma = _grade_of(grader(current))
        res.max_grade = gamma if res.max_grade is None else max(res.max_grade, gamma)
        if threshold_save is not None and gamma > threshold_save:
            f = _frame(current, at, dt, at_fs, target_t(at), target_p(at), potential_id)
            f.info["grade"] = gamma
            write(presel, f, format="extxyz", append=True)
        if threshold_break is None or not gamma > threshold_break:
            return None
        return {"step": at, "time_ps": at_fs / 1000.0, "grade": gamma, "threshold_break": threshold_break,
                "potential_id": potential_id, "checkpoint_step": step}
    start = current.copy()  # with its velocities: a retry before the first checkpoint starts from here
    dyn = monitor = None
    while step < steps:
        if dyn is None:  # (re)build after a start, restart or retry; H_ref of the drift check starts here
            current.calc = potential.calculator()
            dyn = make_dynamics(current, ensemble, target_t(step), p_sched.value(step, steps), dt)
            monitor = DriftMonitor(dyn, max_drift_ev_per_atom)
        n = min(dump_every, steps - step)
        stop = None
        done = 0
        try:
            while done < n and stop is None:
                k = min(retarget_every, n - done) if scheduled else n - done
                if grader is not None:
                    k = min(k, grade_every - (step + done) % grade_every)
                if scheduled:
                    monitor.retarget(target_t(step + done), p_sched.value(step + done, steps))
                dyn.run(k)
                done += k
                if grader is not None and (step + done) % grade_every == 0:
                    stop = watch(step + done, t_fs + done * dt)
            why = None if stop else unphysical(current, v0) or monitor.check()
        except Exception as exc:  # the neighbour list or calculator refusing a NaN state
            if np.all(np.isfinite(current.positions)) and np.all(np.isfinite(current.cell.array)):
                raise
            why = f"non-finite state: {exc}"
        if why and learn_on_failure and threshold_break is not None and step not in failure_stops:
            failure_stops.append(step)
            stop = {"step": step + done, "time_ps": (t_fs + done * dt) / 1000.0, "grade": None, "failure": why,
                    "threshold_break": threshold_break, "potential_id": potential_id, "checkpoint_step": step}
        if stop:
            _stop_for_learning(outdir, stop, ckpt, presel, potential_id, len(res.potentials))
            res.status, res.extrapolation = "extrapolating", stop
            save_state(stop)
            break
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
        write(traj, _frame(current, step, dt, t_fs, target_t(step), target_p(step), potential_id), format="extxyz",
              append=True)
        res.frames += 1
        tmp = ckpt.with_suffix(".tmp")
        write(tmp, current, format="extxyz")
        os.replace(tmp, ckpt)
        save_state()
    else:
        res.status = "completed"
    res.steps_done, res.timestep_fs, res.wall_s, res.time_ps = step, dt, time.time() - t0, t_fs / 1000.0
    return res


def _stop_for_learning(outdir: Path, stop: dict[str, Any], ckpt: Path, presel: Path, potential_id: str | None,
                       episode: int) -> None:
    """Copy what learning needs (this potential's frames above save, the last good state) to files that later
    resumes never touch, and name them in ``stop``."""
    frames = [f for f in (read(presel, index=":", format="extxyz") if presel.exists() else [])
              if f.info.get("potential_id") == potential_id]
    stop["frames_file"] = str(outdir / f"relearn-{episode}.extxyz")
    stop["n_frames"] = len(frames)
    _write_atomic(Path(stop["frames_file"]), frames)
    stop["snapshot_file"] = str(outdir / f"snapshot-{episode}.extxyz")
    if ckpt.exists():
        _write_atomic(Path(stop["snapshot_file"]), [read(ckpt, format="extxyz")])
    else:
        stop["snapshot_file"] = None
