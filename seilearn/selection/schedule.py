"""The threshold schedule of active learning (the paper: save 1.5, break stepped 5.5 -> 2.5).

In exploration MD a configuration with grade > ``save`` is kept as preselected and a grade > the
current ``break`` stops the run. A stage (one break threshold) is converged after ``converge_after``
consecutive iterations that selected nothing new; then the schedule moves to the next, lower break
threshold. The schedule is finished when the last stage has converged (the training set stopped
growing). Plain data: ``to_dict``/``from_dict`` round-trip through JSON, MongoDB and FireWorks specs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from seilearn.errors import ConfigError


@dataclass
class ThresholdSchedule:
    """Save threshold, the sequence of break thresholds, and the progress through them."""

    save: float = 1.5
    breaks: tuple[float, ...] = (5.5, 4.5, 3.5, 2.5)
    converge_after: int = 1
    stage: int = 0
    quiet_iterations: int = 0  # consecutive iterations of the current stage that selected nothing
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.breaks = tuple(float(b) for b in self.breaks)
        self.save = float(self.save)
        self.validate()

    @classmethod
    def stepped(cls, save: float = 1.5, first: float = 5.5, last: float = 2.5, step: float = 1.0,
                converge_after: int = 1) -> "ThresholdSchedule":
        """Break thresholds from ``first`` down to ``last`` in steps of ``step``."""
        if step <= 0:
            raise ConfigError(f"threshold schedule: step {step} must be > 0")
        if first < last:
            raise ConfigError(f"threshold schedule: first break {first} must be >= last break {last}")
        count = int(math.floor((first - last) / step + 1e-9)) + 1
        breaks = [round(first - k * step, 10) for k in range(count)]
        if breaks[-1] > last + 1e-9:
            breaks.append(float(last))
        return cls(save=save, breaks=tuple(breaks), converge_after=converge_after)

    def validate(self) -> None:
        """Raise ConfigError naming the bad field."""
        if not (math.isfinite(self.save) and self.save >= 1.0):
            raise ConfigError(f"threshold schedule: save {self.save} must be a number >= 1 (grades below 1 are "
                              "interpolation)")
        if not self.breaks:
            raise ConfigError("threshold schedule: breaks must list at least one break threshold")
        for k, b in enumerate(self.breaks):
            if not math.isfinite(b) or b < self.save:
                raise ConfigError(f"threshold schedule: breaks[{k}] = {b} must be >= save {self.save}")
        if any(b2 > b1 for b1, b2 in zip(self.breaks, self.breaks[1:])):
            raise ConfigError(f"threshold schedule: breaks {list(self.breaks)} must not increase")
        if not isinstance(self.converge_after, int) or self.converge_after < 1:
            raise ConfigError(f"threshold schedule: converge_after {self.converge_after!r} must be an integer >= 1")
        if not 0 <= self.stage <= len(self.breaks):
            raise ConfigError(f"threshold schedule: stage {self.stage} outside 0..{len(self.breaks)}")
        if self.quiet_iterations < 0:
            raise ConfigError(f"threshold schedule: quiet_iterations {self.quiet_iterations} must be >= 0")

    # -- state ----------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """True when every stage has converged."""
        return self.stage >= len(self.breaks)

    @property
    def current_break(self) -> float | None:
        """Break threshold of the current stage (None when finished)."""
        return None if self.finished else self.breaks[self.stage]

    @property
    def next_break(self) -> float | None:
        """Break threshold of the stage after the current one (None if this is the last)."""
        return self.breaks[self.stage + 1] if self.stage + 1 < len(self.breaks) else None

    def thresholds(self) -> tuple[float, float]:
        """(save, break) for the next exploration."""
        if self.finished:
            raise ConfigError("threshold schedule is finished (every stage converged); no further exploration")
        return self.save, self.breaks[self.stage]

    def stage_converged(self, quiet_iterations: int | None = None) -> bool:
        """The rule: ``converge_after`` consecutive iterations of the stage selected nothing."""
        q = self.quiet_iterations if quiet_iterations is None else quiet_iterations
        return q >= self.converge_after

    def record(self, n_selected: int) -> bool:
        """Record an iteration of the current stage that selected ``n_selected`` configurations.

        Returns True when that iteration converged the stage (the schedule then moves on).
        """
        if self.finished:
            raise ConfigError("threshold schedule is finished; no iteration can be recorded")
        if n_selected < 0:
            raise ValueError(f"n_selected {n_selected} must be >= 0")
        self.quiet_iterations = 0 if n_selected > 0 else self.quiet_iterations + 1
        entry = {"stage": self.stage, "break": self.breaks[self.stage], "n_selected": int(n_selected)}
        converged = self.stage_converged()
        entry["stage_converged"] = converged
        self.history.append(entry)
        if converged:
            self.stage += 1
            self.quiet_iterations = 0
        return converged

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"save": self.save, "breaks": list(self.breaks), "converge_after": self.converge_after,
                "stage": self.stage, "quiet_iterations": self.quiet_iterations,
                "history": [dict(h) for h in self.history]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ThresholdSchedule":
        known = {"save", "breaks", "converge_after", "stage", "quiet_iterations", "history"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"threshold schedule: unknown key(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(save=float(data.get("save", 1.5)),
                       breaks=tuple(float(b) for b in _seq(data.get("breaks", (5.5, 4.5, 3.5, 2.5)))),
                       converge_after=int(data.get("converge_after", 1)), stage=int(data.get("stage", 0)),
                       quiet_iterations=int(data.get("quiet_iterations", 0)),
                       history=[dict(h) for h in data.get("history", [])])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"threshold schedule: malformed value ({exc})") from exc


def _seq(value: Any) -> Sequence:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"threshold schedule: breaks must be a list of numbers, not {value!r}")
    return value
