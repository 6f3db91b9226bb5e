"""The schedule of active learning: threshold stages, the exploration ladder, and the decision rule.

In exploration MD a configuration with grade > ``save`` is kept as preselected and a grade > the stage's
``break`` stops the run (the paper: save 1.5, break stepped 5.5 -> 2.5). A stage is converged after
``converge_after`` consecutive iterations that selected nothing new; the schedule then moves to the next,
lower break threshold. When the last stage converges, the exploration ladder repeats it with explorations
``factor`` times longer, rung after rung, until one round at ``max_steps`` selects nothing: only then has the
training set stopped growing for explorations as long as the production they vouch for.

This module is the one model of that schedule: the spec validator, the decision rule of the workflow and
the dashboard all use it. It is stateless: progress is derived from the campaign's stored history, so a
rerun firework can never double-count an iteration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seilearn.errors import InputError


def _err(key: str, problem: str) -> InputError:
    return InputError(f"{key}: {problem}")


@dataclass(frozen=True)
class ThresholdSchedule:
    """Save threshold and the stepped-down break thresholds (one stage per break threshold)."""

    save: float = 1.5
    breaks: tuple[float, ...] = (5.5, 4.5, 3.5, 2.5)
    converge_after: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "breaks", tuple(float(b) for b in self.breaks))
        object.__setattr__(self, "save", float(self.save))
        self.validate()

    def validate(self, key: str = "thresholds") -> None:
        """Raise InputError naming the bad key (``thresholds.breaks``)."""
        if not (math.isfinite(self.save) and self.save >= 1.0):
            raise _err(f"{key}.save", f"{self.save!r} must be a finite number >= 1 (grades below 1 are "
                                      "interpolation)")
        if not self.breaks:
            raise _err(f"{key}.breaks", "must list at least one break threshold, e.g. [5.5, 4.5, 3.5, 2.5]")
        for b in self.breaks:
            if not math.isfinite(b) or b <= self.save:
                raise _err(f"{key}.breaks", f"break threshold {b} must be a finite number above the save "
                                            f"threshold {self.save}")
        if any(b2 >= b1 for b1, b2 in zip(self.breaks, self.breaks[1:])):
            raise _err(f"{key}.breaks", f"{list(self.breaks)} must step down (e.g. [5.5, 4.5, 3.5, 2.5])")
        if isinstance(self.converge_after, bool) or not isinstance(self.converge_after, int) \
                or self.converge_after < 1:
            raise _err(f"{key}.converge_after", f"{self.converge_after!r} must be an integer >= 1")

    @classmethod
    def stepped(cls, save: float = 1.5, first: float = 5.5, last: float = 2.5, step: float = 1.0,
                converge_after: int = 1) -> ThresholdSchedule:
        """Break thresholds from ``first`` down to ``last`` in steps of ``step`` (``last`` always included)."""
        if not step > 0:
            raise _err("thresholds.step", f"{step} must be > 0")
        if first < last:
            raise _err("thresholds", f"first break {first} must be >= last break {last}")
        count = int(math.floor((first - last) / step + 1e-9)) + 1
        breaks = [round(first - k * step, 10) for k in range(count)]
        if breaks[-1] > last + 1e-9:
            breaks.append(float(last))
        return cls(save=save, breaks=tuple(breaks), converge_after=converge_after)

    @property
    def n_stages(self) -> int:
        return len(self.breaks)

    def break_at(self, stage: int) -> float:
        """Break threshold of ``stage`` (0-based)."""
        if not 0 <= stage < len(self.breaks):
            raise IndexError(f"stage {stage} outside 0..{len(self.breaks) - 1}")
        return self.breaks[stage]

    def to_dict(self) -> dict[str, Any]:
        return {"save": self.save, "breaks": list(self.breaks), "converge_after": self.converge_after}


@dataclass(frozen=True)
class ExplorationLadder:
    """Exploration lengths of the rungs after the last stage: ``base * factor**rung``, capped at ``max_steps``."""

    factor: float = 4.0
    max_steps: int | None = None  # None: resolved by the spec (the production length for the local engine)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, key: str = "exploration_ladder") -> None:
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) \
                or not math.isfinite(self.factor) or self.factor <= 1:
            raise _err(f"{key}.factor", f"{self.factor!r} must be a finite number > 1 (e.g. 4)")
        if self.max_steps is not None and (isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int)
                                           or self.max_steps < 1):
            raise _err(f"{key}.max_steps", f"{self.max_steps!r} must be a positive integer")

    def steps(self, base: int, rung: int) -> int:
        """Exploration length of a run of base length ``base`` on ``rung`` (rung 0 is the spec's length)."""
        cap = max(int(base), int(self.max_steps or base))
        return int(min(cap, round(base * self.factor ** rung)))

    def top_rung(self, bases: Sequence[int]) -> int:
        """The first rung on which every run has reached ``max_steps`` (0 when no run is shorter)."""
        rung = 0
        while any(self.steps(b, rung) < max(b, self.max_steps or b) for b in bases):
            rung += 1
        return rung

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "max_steps": self.max_steps}


@dataclass(frozen=True)
class Decision:
    """What follows an iteration's selection: ``action`` and the (stage, rung) of the next iteration.

    Actions: ``label`` (new configurations: label, retrain, explore again at the same stage and rung),
    ``repeat`` (nothing new, the stage has not yet converged), ``next_stage`` (lower break threshold),
    ``next_rung`` (last stage converged; longer explorations), ``converged`` (a round on the top rung of the
    last stage selected nothing), ``max_iterations`` (stopped before converging).
    """

    action: str
    stage: int
    rung: int


def decide(schedule: ThresholdSchedule, history: Sequence[dict[str, Any]], *, iteration: int, stage: int,
           rung: int, n_selected: int, top_rung: int, max_iterations: int) -> Decision:
    """The rule. A (stage, rung) converges after ``converge_after`` consecutive iterations at that stage and
    rung selecting nothing (this one included); earlier iterations come from the stored ``history``."""
    if n_selected:
        action, stage_next, rung_next = "label", stage, rung
    else:
        streak = 1
        for entry in sorted((h for h in history if h.get("iteration", -1) < iteration),
                            key=lambda h: h["iteration"], reverse=True):
            same = entry.get("stage") == stage and int(entry.get("rung") or 0) == rung
            if not same or entry.get("n_selected") is None or entry["n_selected"] > 0:
                break
            streak += 1
        if streak < schedule.converge_after:
            action, stage_next, rung_next = "repeat", stage, rung
        elif stage + 1 < schedule.n_stages:
            action, stage_next, rung_next = "next_stage", stage + 1, rung
        elif rung < top_rung:
            action, stage_next, rung_next = "next_rung", stage, rung + 1
        else:
            return Decision("converged", stage, rung)
    if iteration + 1 >= max_iterations:
        return Decision("max_iterations", stage_next, rung_next)
    return Decision(action, stage_next, rung_next)
