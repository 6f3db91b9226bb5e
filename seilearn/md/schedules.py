"""Piecewise-linear temperature/pressure schedules within one MD run.

A schedule is a list of (where, value) points; ``where`` is a fraction of the run (0..1) or an absolute
MD step. Between points the value is interpolated linearly, before the first and after the last it is
held. Two points at the same place make a jump. Written as:

* a number: ``300`` (constant; a float from Python is the same)
* a ramp: ``300:600`` (linear over the whole run), ``300:900:300`` (evenly spaced points)
* points ``VALUE@WHERE``: ``300@0,600@0.5,600@1`` where WHERE is a fraction of the run in [0, 1] or
  ``NSTEP`` followed by ``step``: ``300@0,900@2000step,900@1``
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seilearn.errors import InputError

EXAMPLE = "300 (constant), 300:600 (linear ramp over the run) or 300@0,600@0.5,600@1 (VALUE@FRACTION of the run; " \
          "VALUE@NSTEPstep for an absolute step, e.g. 600@2000step)"


class ScheduleError(InputError, ValueError):
    """A schedule that cannot be parsed or does not fit the run."""


@dataclass(frozen=True)
class Point:
    where: float      # fraction of the run (0..1) or step, see ``is_step``
    value: float
    is_step: bool = False

    def step(self, total_steps: int) -> float:
        return self.where if self.is_step else self.where * total_steps

    def __str__(self) -> str:
        return f"{self.value:g}@{int(self.where)}step" if self.is_step else f"{self.value:g}@{self.where:g}"


class Schedule:
    """Piecewise-linear target over the MD steps of one run; ``value(step, total_steps)``."""

    def __init__(self, points: Sequence[Point], name: str = "schedule", unit: str = ""):
        if not points:
            raise ScheduleError(f"{name}: a schedule needs at least one point; write {EXAMPLE}")
        self.points = tuple(points)
        self.name, self.unit = name, unit
        # the fraction points and the step points must each be in order (their mutual order needs the run
        # length: ``check``)
        for kind in (False, True):
            where = [p.where for p in self.points if p.is_step == kind]
            if any(b < a for a, b in zip(where, where[1:])):
                raise ScheduleError(f"{name} '{self}': the points must be in order of their place in the run; "
                                    f"write {EXAMPLE}")

    # ---- construction
    @classmethod
    def constant(cls, value: float, name: str = "schedule", unit: str = "") -> Schedule:
        return cls([Point(0.0, float(value))], name, unit)

    @classmethod
    def parse(cls, spec: ScheduleLike, name: str = "schedule", unit: str = "",
              positive: bool = False) -> Schedule:
        """A Schedule from a number, a string (see the module docstring), a list of (fraction, value)
        pairs, or a Schedule (returned as is). ``positive``: every value must be > 0 (temperatures)."""
        if isinstance(spec, Schedule):
            sched = spec
        elif isinstance(spec, bool):
            raise ScheduleError(f"{name} {spec!r}: not a number; write {EXAMPLE}")
        elif isinstance(spec, (int, float)):
            sched = cls.constant(_finite(name, spec, spec), name, unit)
        elif isinstance(spec, str):
            sched = cls(_parse_text(spec, name), name, unit)
        else:
            try:
                pairs = [(float(w), float(v)) for w, v in spec]
            except (TypeError, ValueError):
                raise ScheduleError(f"{name} {spec!r}: give a number, a string or a list of (fraction, value) "
                                    f"pairs; as a string: {EXAMPLE}") from None
            for w, v in pairs:
                _finite(name, spec, w)
                _finite(name, spec, v)
                if not 0.0 <= w <= 1.0:
                    raise ScheduleError(f"{name} {spec!r}: fraction {w:g} is outside [0, 1]; write {EXAMPLE}")
            sched = cls([Point(w, v) for w, v in pairs], name, unit)
        if positive:
            bad = [p.value for p in sched.points if not p.value > 0]
            if bad:
                raise ScheduleError(f"{name} {spec!r}: {bad[0]:g}{' ' + unit if unit else ''} is not positive; "
                                    f"write {EXAMPLE}")
        return sched

    # ---- use
    @property
    def is_constant(self) -> bool:
        return len({p.value for p in self.points}) == 1

    def check(self, total_steps: int) -> None:
        """Raise ScheduleError when the points are out of order or past the end for a run of
        ``total_steps`` steps."""
        steps = [p.step(total_steps) for p in self.points]
        if any(b < a for a, b in zip(steps, steps[1:])):
            raise ScheduleError(f"{self.name} '{self}': in a run of {total_steps} steps the points are not in "
                                f"order ({', '.join(f'{s:g}' for s in steps)}); write {EXAMPLE}")
        late = [p for p in self.points if p.is_step and p.where > total_steps]
        if late:
            raise ScheduleError(f"{self.name} '{self}': {late[0]} lies after the last step ({total_steps}); "
                                f"write {EXAMPLE}")

    def value(self, step: float, total_steps: int) -> float:
        """The target at ``step`` of a ``total_steps``-step run."""
        pts = self.points
        if len(pts) == 1:
            return pts[0].value
        xs = [p.step(total_steps) for p in pts]
        if step < xs[0]:
            return pts[0].value
        if step >= xs[-1]:
            return pts[-1].value
        # the last segment [x_i, x_{i+1}) holding step; at a jump (x_i == x_{i+1}) the later point applies
        for i in range(len(pts) - 1, 0, -1):
            if xs[i - 1] <= step < xs[i]:
                x0, x1, v0, v1 = xs[i - 1], xs[i], pts[i - 1].value, pts[i].value
                return v0 + (v1 - v0) * (step - x0) / (x1 - x0)
        return pts[-1].value  # pragma: no cover (unreachable: the cases above cover the range)

    def __str__(self) -> str:
        p = self.points[0]
        return f"{p.value:g}" if len(self.points) == 1 and p.where == 0 else ",".join(map(str, self.points))

    def __repr__(self) -> str:
        return f"Schedule({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Schedule) and self.points == other.points

    def __hash__(self) -> int:
        return hash(self.points)


ScheduleLike = float | int | str | Schedule | Iterable


def temperature_schedule(spec: ScheduleLike, name: str = "temperature") -> Schedule:
    return Schedule.parse(spec, name, "K", positive=True)


def pressure_schedule(spec: ScheduleLike, name: str = "pressure") -> Schedule:
    return Schedule.parse(spec, name, "bar")


def _finite(name: str, spec, x) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ScheduleError(f"{name} {spec!r}: {x} is not a finite number; write {EXAMPLE}")
    return x


def _number(name: str, spec: str, text: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ScheduleError(f"{name} {spec!r}: {text.strip()!r} is not a {what}; write {EXAMPLE}") from None
    return _finite(name, spec, x)


def _parse_text(spec: str, name: str) -> list[Point]:
    text = spec.strip()
    if not text:
        raise ScheduleError(f"{name} {spec!r}: empty; write {EXAMPLE}")
    if "@" in text or "," in text:
        if ":" in text:
            raise ScheduleError(f"{name} {spec!r}: mixes a ramp (a:b) with points (v@x); write {EXAMPLE}")
        points = []
        for item in text.split(","):
            if item.count("@") != 1:
                raise ScheduleError(f"{name} {spec!r}: {item.strip()!r} is not VALUE@WHERE; write {EXAMPLE}")
            v, w = item.split("@")
            value = _number(name, spec, v, "number")
            w = w.strip()
            if w.lower().endswith("step"):
                s = w[:-4].strip()
                if not s.isdigit():
                    raise ScheduleError(f"{name} {spec!r}: {w!r} is not a step count like 2000step; "
                                        f"write {EXAMPLE}")
                points.append(Point(float(int(s)), value, is_step=True))
            else:
                frac = _number(name, spec, w, "fraction of the run (0..1) or NSTEPstep")
                if not 0.0 <= frac <= 1.0:
                    hint = f" (an absolute step is written {w}step)" if w.isdigit() else ""
                    raise ScheduleError(f"{name} {spec!r}: fraction {w!r} is outside [0, 1]{hint}; write {EXAMPLE}")
                points.append(Point(frac, value))
        return points
    parts = text.split(":")
    values = [_number(name, spec, p, "number") for p in parts]
    if len(values) == 1:
        return [Point(0.0, values[0])]
    return [Point(i / (len(values) - 1), v) for i, v in enumerate(values)]
