"""Exploration MD: run with the current MTP, grade every k steps against the active set, keep frames
above the save threshold, stop cleanly above the break threshold (an expected outcome, not a failure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.io import write

from seilearn.md.integrators import (
    MAX_DRIFT_EV_PER_ATOM,
    RETARGET_EVERY,
    DriftMonitor,
    init_velocities,
    make_dynamics,
    unphysical,
)
from seilearn.md.schedules import ScheduleLike, pressure_schedule, temperature_schedule

STATUSES = ("completed", "stopped_at_break", "unphysical")
# grade histogram bin edges: below/above the usual save (1.5) and break (2.5-5.5) thresholds; last bin open
GRADE_BINS = (0.0, 1.0, 1.1, 1.5, 2.0, 2.5, 3.5, 5.5, 10.0, 1e300)


@dataclass
class ExplorationResult:
    status: str
    steps_done: int
    max_grade: float
    grades: list[float] = field(default_factory=list)
    grade_steps: list[int] = field(default_factory=list)
    preselected: list[Atoms] = field(default_factory=list)
    reason: str | None = None
    wall_s: float = 0.0
    grading_s: float = 0.0
    timestep_fs: float = 1.0

    timestep_history: list[dict[str, Any]] = field(default_factory=list)
    temperature_schedule: str | None = None  # the targets over the run (K, bar), in schedules' syntax
    pressure_schedule: str | None = None

    def histogram(self, edges: tuple[float, ...] = GRADE_BINS) -> dict[str, list]:
        """Counts of the grades in bins (the last bin is open-ended)."""
        counts, _ = np.histogram(np.clip(self.grades, edges[0], edges[-1]), bins=list(edges)) if self.grades \
            else (np.zeros(len(edges) - 1, int), None)
        return {"edges": list(edges), "counts": [int(c) for c in counts]}

    @property
    def n_preselected(self) -> int:
        return len(self.preselected)

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable fields for the exploration-run record (the caller adds ``n_preselected``:
        the workflow passes it separately)."""
        return {"status": self.status, "steps_done": self.steps_done, "max_grade": self.max_grade,
                "grades": [round(g, 4) for g in self.grades],
                "grade_steps": list(self.grade_steps), "grade_histogram": self.histogram(),
                "reason": self.reason, "md_wall_s": self.wall_s, "grading_s": self.grading_s,
                "grading_fraction": self.grading_s / self.wall_s if self.wall_s else 0.0,
                "timestep_fs": self.timestep_fs, "timestep_history": self.timestep_history,
                "temperature_schedule_K": self.temperature_schedule, "pressure_schedule_bar": self.pressure_schedule}


def explore(atoms: Atoms, calculator, grader: Callable[[Atoms], float] | None, *, steps: int,
            temperature: ScheduleLike, pressure_bar: ScheduleLike = 1.0, ensemble: str = "npt",
            timestep_fs: float = 1.0, grade_every: int = 20, threshold_save: float = 1.5,
            threshold_break: float = 5.5, seed: int = 0, frame_info: dict[str, Any] | None = None,
            trajectory: str | Path | None = None, traj_every: int | None = None,
            max_drift_ev_per_atom: float | None = MAX_DRIFT_EV_PER_ATOM,
            retarget_every: int = RETARGET_EVERY) -> ExplorationResult:
    """Grade-monitored MD of ``atoms`` (copied) with ``calculator``; ``grader(atoms) -> gamma`` (or
    ``(gamma, per_atom)``), called every ``grade_every`` steps. Frames above ``threshold_save`` are kept
    (``res.preselected``, with grade, step, target temperature and pressure at that step and ``frame_info``
    such as stage and potential id in ``info``); a grade above ``threshold_break`` stops the run
    (``stopped_at_break``). ``trajectory``: extxyz written every ``traj_every`` steps (default ``grade_every``).

    ``temperature`` (K) and ``pressure_bar``: a number or a schedule (``seilearn.md.schedules``, e.g. "300:600");
    the thermostat/barostat targets follow it every ``retarget_every`` steps. At every grading step the
    integrator's conserved energy is compared with its start: a drift above ``max_drift_ev_per_atom`` (None:
    off) makes the state unphysical (``run_exploration`` then retries at half the timestep)."""
    t_sched, p_sched = temperature_schedule(temperature), pressure_schedule(pressure_bar, "pressure_bar")
    t_sched.check(steps)
    p_sched.check(steps)
    if retarget_every < 1:
        raise ValueError(f"retarget_every {retarget_every!r} must be a positive number of steps")
    atoms = atoms.copy()
    atoms.calc = calculator
    init_velocities(atoms, t_sched.value(0, steps), seed)
    dyn = make_dynamics(atoms, ensemble, t_sched.value(0, steps), p_sched.value(0, steps), timestep_fs)
    v0 = atoms.get_volume()
    res = ExplorationResult(status="completed", steps_done=0, max_grade=0.0, timestep_fs=timestep_fs,
                            temperature_schedule=str(t_sched), pressure_schedule=str(p_sched))
    t0 = time.time()
    why = unphysical(atoms, v0)
    if why:
        res.status, res.reason = "unphysical", f"initial structure: {why}"
        return res
    monitor = DriftMonitor(dyn, max_drift_ev_per_atom)
    scheduled = not (t_sched.is_constant and p_sched.is_constant)
    traj_every = traj_every or grade_every
    if trajectory is not None:
        Path(trajectory).unlink(missing_ok=True)
    for step in range(1, steps + 1):
        if scheduled and (step - 1) % retarget_every == 0:
            monitor.retarget(t_sched.value(step - 1, steps), p_sched.value(step - 1, steps))
        try:
            dyn.run(1)
        except Exception as exc:  # a neighbour list or calculator refusing a NaN state: report, don't crash
            if np.all(np.isfinite(atoms.positions)) and np.all(np.isfinite(atoms.cell.array)):
                raise
            res.status, res.reason = "unphysical", f"non-finite state at step {step}: {exc}"
            break
        res.steps_done = step
        if trajectory is not None and step % traj_every == 0:
            snap = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
            snap.info.update({"md_step": step, "time_ps": step * timestep_fs / 1000.0})
            write(trajectory, snap, format="extxyz", append=True)
        if step % grade_every and step != steps:
            continue
        why = unphysical(atoms, v0) or monitor.check()
        if why:
            res.status, res.reason = "unphysical", why
            break
        if grader is None:
            continue
        tg = time.time()
        g = grader(atoms)
        gamma = float(g[0] if isinstance(g, tuple) else g)
        res.grading_s += time.time() - tg
        res.grades.append(gamma)
        res.grade_steps.append(step)
        res.max_grade = max(res.max_grade, gamma)
        if gamma > threshold_save:
            frame = atoms.copy()
            frame.calc = None
            frame.info.pop("mlip_features", None)  # the input file's features (e.g. EFS_by) are not this frame's
            frame.info.update({**(frame_info or {}), "grade": gamma, "md_step": step,
                               "time_fs": step * timestep_fs, "temperature_K": t_sched.value(step, steps),
                               "pressure_bar": p_sched.value(step, steps),
                               "temperature_inst_K": float(atoms.get_temperature())})
            stress = (atoms.calc.results.get("stress") if atoms.calc is not None else None)
            if stress is not None:  # instantaneous pressure, kinetic part included (bar)
                p_gpa = -np.trace(atoms.get_stress(voigt=False, include_ideal_gas=True)) / 3 / units.GPa
                frame.info["pressure_inst_bar"] = float(p_gpa * 1e4)
            res.preselected.append(frame)
        if gamma > threshold_break:
            res.status, res.reason = "stopped_at_break", f"grade {gamma:.2f} > break threshold {threshold_break}"
            break
    res.wall_s = time.time() - t0
    return res


def run_exploration(atoms: Atoms, potential, active_set, *, steps: int, temperature: ScheduleLike,
                    pressure_bar: ScheduleLike = 1.0, ensemble: str = "npt", timestep_fs: float = 1.0,
                    grade_every: int = 20, threshold_save: float = 1.5, threshold_break: float = 5.5, seed: int = 0,
                    mode: str = "nbh", frame_info: dict[str, Any] | None = None,
                    trajectory: str | Path | None = None, min_timestep_fs: float = 0.25,
                    max_drift_ev_per_atom: float | None = MAX_DRIFT_EV_PER_ATOM) -> ExplorationResult:
    """``explore`` with a seilearn Potential and ActiveSet (``mode`` is the active set's own). A run that
    goes unphysical (including a conserved-energy drift above ``max_drift_ev_per_atom``) before any grade
    flagged it is retried at half the timestep, down to ``min_timestep_fs``; the attempts are recorded in
    ``timestep_history``. ``temperature``/``pressure_bar``: numbers or schedules, as in ``explore``."""
    def grader(a: Atoms) -> float:
        return active_set.grade(potential, a)[0]

    dt = timestep_fs
    history: list[dict[str, Any]] = []
    while True:
        res = explore(atoms, potential.calculator(), grader, steps=steps, temperature=temperature,
                      pressure_bar=pressure_bar, ensemble=ensemble, timestep_fs=dt, grade_every=grade_every,
                      threshold_save=threshold_save, threshold_break=threshold_break, seed=seed,
                      frame_info=frame_info, trajectory=trajectory, max_drift_ev_per_atom=max_drift_ev_per_atom)
        history.append({"timestep_fs": dt, "status": res.status, "steps_done": res.steps_done, "reason": res.reason})
        # a blow-up far past the break threshold is the potential's extrapolation, which the break catches;
        # only retry when no grade flagged it first (and not when the start itself is unphysical)
        if (res.status != "unphysical" or res.max_grade > threshold_break or res.steps_done == 0
                or dt / 2 < min_timestep_fs):
            break
        dt /= 2
    res.timestep_history = history
    return res


def write_preselected(path: str | Path, frames: list[Atoms], species) -> None:
    """Write preselected frames to a .cfg with their grade and run metadata as Feature lines."""
    from seilearn.mtp.cfg import write_cfg

    out = []
    for f in frames:
        g = f.copy()
        g.calc = None
        g.info["mlip_features"] = {**g.info.get("mlip_features", {}),
                                   **{k: v for k, v in f.info.items() if k != "mlip_features" and k != "grade"
                                      and isinstance(v, (int, float, str))}}
        g.info["mv_grade"] = f.info["grade"]
        out.append(g)
    write_cfg(path, out, species)
