"""Exploration MD: run with the current MTP, grade every k steps against the active set, keep frames
above the save threshold, stop cleanly above the break threshold (an expected outcome, not a failure)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from ase import Atoms

from seilearn.md.integrators import init_velocities, make_dynamics, unphysical

STATUSES = ("completed", "stopped_at_break", "unphysical")


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

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable fields for the exploration-run record."""
        return {"status": self.status, "steps_done": self.steps_done, "max_grade": self.max_grade,
                "grades": [round(g, 4) for g in self.grades], "reason": self.reason, "md_wall_s": self.wall_s,
                "grading_fraction": self.grading_s / self.wall_s if self.wall_s else 0.0,
                "timestep_fs": self.timestep_fs}


def explore(atoms: Atoms, calculator, grader: Callable[[Atoms], float] | None, *, steps: int, temperature: float,
            pressure_bar: float = 1.0, ensemble: str = "npt", timestep_fs: float = 1.0, grade_every: int = 10,
            threshold_save: float = 1.5, threshold_break: float = 5.5, seed: int = 0,
            frame_info: dict[str, Any] | None = None) -> ExplorationResult:
    """Grade-monitored MD of ``atoms`` (copied) with ``calculator``; ``grader(atoms) -> gamma``."""
    atoms = atoms.copy()
    atoms.calc = calculator
    init_velocities(atoms, temperature, seed)
    dyn = make_dynamics(atoms, ensemble, temperature, pressure_bar, timestep_fs)
    v0 = atoms.get_volume()
    res = ExplorationResult(status="completed", steps_done=0, max_grade=0.0, timestep_fs=timestep_fs)
    t0 = time.time()
    why = unphysical(atoms, v0)
    if why:
        res.status, res.reason = "unphysical", f"initial structure: {why}"
        return res
    for step in range(1, steps + 1):
        dyn.run(1)
        res.steps_done = step
        if step % grade_every and step != steps:
            continue
        why = unphysical(atoms, v0)
        if why:
            res.status, res.reason = "unphysical", why
            break
        if grader is None:
            continue
        tg = time.time()
        gamma = float(grader(atoms))
        res.grading_s += time.time() - tg
        res.grades.append(gamma)
        res.grade_steps.append(step)
        res.max_grade = max(res.max_grade, gamma)
        if gamma > threshold_save:
            frame = atoms.copy()
            frame.calc = None
            frame.info.update({**(frame_info or {}), "grade": gamma, "md_step": step,
                               "time_fs": step * timestep_fs, "temperature_K": temperature,
                               "pressure_bar": pressure_bar})
            res.preselected.append(frame)
        if gamma > threshold_break:
            res.status, res.reason = "stopped_at_break", f"grade {gamma:.2f} > break threshold {threshold_break}"
            break
    res.wall_s = time.time() - t0
    return res


def run_exploration(atoms: Atoms, potential, active_set, *, steps: int, temperature: float, pressure_bar: float = 1.0,
                    ensemble: str = "npt", timestep_fs: float = 1.0, grade_every: int = 10,
                    threshold_save: float = 1.5, threshold_break: float = 5.5, seed: int = 0,
                    mode: str = "nbh") -> ExplorationResult:
    """``explore`` with a seilearn Potential and ActiveSet; an unphysical run is retried once at half the
    timestep (recorded in ``timestep_fs``)."""
    def grader(a: Atoms) -> float:
        return active_set.grade(potential, a)[0]

    dt = timestep_fs
    for _ in range(2):
        res = explore(atoms, potential.calculator(), grader, steps=steps, temperature=temperature,
                      pressure_bar=pressure_bar, ensemble=ensemble, timestep_fs=dt, grade_every=grade_every,
                      threshold_save=threshold_save, threshold_break=threshold_break, seed=seed)
        # a blow-up far past the break threshold is the potential's extrapolation, which the break catches;
        # only retry when no grade flagged it first
        if res.status != "unphysical" or res.max_grade > threshold_break:
            break
        dt /= 2
    return res
