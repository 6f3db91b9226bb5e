"""The labeller protocol: label(structures) -> one LabelResult per structure, never all-or-nothing."""

from __future__ import annotations

import abc
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.structures.validate import validate_structure

STATUSES = ("ok", "scf_unconverged", "failed")
UNITS = {"energy": "eV", "forces": "eV/A", "stress": "eV/A^3 (ASE Voigt xx yy zz yz xz xy, positive = tensile)"}


@dataclass
class LabelResult:
    """The label of one structure: status ``ok | scf_unconverged | failed`` with a reason when not ok."""

    status: str
    reason: str | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    wall_time: float | None = None
    units: dict[str, str] = field(default_factory=lambda: dict(UNITS))
    settings: dict[str, Any] = field(default_factory=dict)
    # where the label came from beyond the labeller's settings (e.g. atomate2's task document uuid)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (arrays as nested lists)."""
        d = asdict(self)
        for k in ("forces", "stress"):
            if d[k] is not None:
                d[k] = np.asarray(d[k], dtype=float).tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelResult:
        d = dict(d)
        for k in ("forces", "stress"):
            if d.get(k) is not None:
                d[k] = np.asarray(d[k], dtype=float)
        return cls(**d)


_SECRET_PATTERNS = [
    (re.compile(r"(?P<pre>\w+://[^:/@\s]+:)[^@\s]+(?P<post>@)"), r"\g<pre>***\g<post>"),  # scheme://user:pw@host
    (re.compile(r"(?i)(?P<pre>(?:password|passwd|token|secret|api[_-]?key)\s*[=:]\s*)\S+"), r"\g<pre>***"),
    (re.compile(r"(?i)(?P<pre>--(?:password|passwd|token|secret|api[_-]?key)[= ])\S+"), r"\g<pre>***"),
]


def mask_secrets(text: str) -> str:
    """``text`` with passwords, tokens and URI credentials replaced by ``***`` (for provenance and logs)."""
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def check_structure(atoms: Atoms, allowed: Sequence[str] | None, min_distance: float = 0.5) -> str | None:
    """Why ``atoms`` cannot be labelled (empty, unknown species, overlapping atoms), or None."""
    if allowed is None:
        from ase.data import chemical_symbols

        allowed = chemical_symbols[1:]
    try:
        validate_structure(atoms, allowed, min_distance=min_distance, name="structure")
    except InputError as exc:
        return str(exc)
    return None


class Labeller(abc.ABC):
    """Base class: subclasses implement ``settings`` and ``_label_batch`` for structures that passed the checks."""

    name = "labeller"
    allowed_species: Sequence[str] | None = None

    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """Full settings and code versions, JSON-serialisable, secrets masked."""

    @abc.abstractmethod
    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        """One result per structure of a batch of valid structures."""

    def label(self, atoms_list: Sequence[Atoms]) -> list[LabelResult]:
        """One result per structure, in order; invalid structures fail with their reason."""
        settings = self.settings()
        results: list[LabelResult | None] = [None] * len(atoms_list)
        good = []
        for k, atoms in enumerate(atoms_list):
            why = check_structure(atoms, self.allowed_species)
            if why:
                results[k] = LabelResult(status="failed", reason=why)
            else:
                good.append(k)
        if good:
            t0 = time.time()
            try:
                batch = self._label_batch([atoms_list[k] for k in good])
            except Exception:  # noqa: BLE001 - a batch failure falls back to one structure at a time
                batch = []
                for k in good:
                    try:
                        batch.extend(self._label_batch([atoms_list[k]]))
                    except Exception as one:  # noqa: BLE001 - recorded as the structure's reason
                        batch.append(LabelResult(status="failed", reason=f"{type(one).__name__}: {one}"))
            per = (time.time() - t0) / len(good)
            for k, res in zip(good, batch):
                if res.wall_time is None:
                    res.wall_time = per
                results[k] = res
        for res in results:
            res.settings = settings
        return results
