"""The labeller protocol: label(structures) -> one LabelResult per structure, never all-or-nothing."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
from ase import Atoms

STATUSES = ("ok", "scf_unconverged", "failed")
UNITS = {"energy": "eV", "forces": "eV/A", "stress": "eV/A^3 (ASE Voigt, positive = tensile)"}


@dataclass
class LabelResult:
    status: str
    reason: str | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    wall_time: float | None = None
    units: dict[str, str] = field(default_factory=lambda: dict(UNITS))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("forces", "stress"):
            if d[k] is not None:
                d[k] = np.asarray(d[k]).tolist()
        return d


def check_structure(atoms: Atoms, allowed: Sequence[str] | None, min_distance: float = 0.5) -> str | None:
    """Why ``atoms`` cannot be labelled, or None."""
    if len(atoms) == 0:
        return "empty structure (0 atoms)"
    if allowed is not None:
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(allowed))
        if unknown:
            return f"species {', '.join(unknown)} not supported by this labeller ({', '.join(allowed)})"
    if len(atoms) > 1:
        from ase.neighborlist import neighbor_list

        d = neighbor_list("d", atoms, min_distance) if atoms.pbc.any() else None
        if d is None:
            dm = atoms.get_all_distances()
            np.fill_diagonal(dm, np.inf)
            close = dm.min()
        else:
            close = d.min() if d.size else np.inf
        if close < min_distance:
            return f"overlapping atoms ({close:.3f} A apart, below {min_distance} A)"
    return None


class Labeller:
    """Base class: subclasses implement ``_label_batch`` for structures that passed the checks."""

    name = "labeller"
    allowed_species: Sequence[str] | None = None

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        raise NotImplementedError  # pragma: no cover - abstract

    def label(self, atoms_list: Sequence[Atoms]) -> list[LabelResult]:
        """One result per structure, in order; invalid structures fail with their reason."""
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
            except Exception as exc:  # noqa: BLE001 - a batch failure becomes per-structure labelling
                batch = []
                for k in good:
                    try:
                        batch.extend(self._label_batch([atoms_list[k]]))
                    except Exception as one:  # noqa: BLE001 - recorded as the structure's reason
                        batch.append(LabelResult(status="failed", reason=f"{type(one).__name__}: {one}"))
                del exc
            per = (time.time() - t0) / len(good)
            for k, res in zip(good, batch):
                if res.wall_time is None:
                    res.wall_time = per
                results[k] = res
        return [r for r in results if r is not None]
