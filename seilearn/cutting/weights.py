"""Training weights of cut configurations, from their stored core flags (set at training time, so the full
labels are always stored and the weights can change later).

Contract with the trainer: per-atom ``atoms.arrays['force_weight']`` multiplies the atom's force residuals,
``atoms.info['energy_weight']`` the configuration's energy residual; configurations without them weigh 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.errors import InputError


@dataclass(frozen=True)
class CutWeights:
    """Weights of a cut's rows (the defaults of the campaign spec's ``mtp.cut_weights``). In a periodic box every
    DFT force and the box energy are valid labels of that box, so all weigh 1 by default, as MLIP-3's paper fitted
    its cut clusters uniformly; weighting the core above the buffer (outside the centre's cutoff sphere) is an
    efficiency choice that stays open because the full labels are stored. Any object with ``core``, ``buffer``
    and ``energy`` attributes can stand in for this class."""

    core: float = 1.0
    buffer: float = 1.0
    energy: float = 1.0

    def __post_init__(self) -> None:
        for key, value in asdict(self).items():
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise InputError(f"mtp.cut_weights.{key}: {value!r} must be a finite number >= 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> CutWeights:
        """From a spec mapping ``{core, buffer, energy}``; unknown keys are rejected."""
        values = dict(values or {})
        unknown = sorted(set(values) - {"core", "buffer", "energy"})
        if unknown:
            raise InputError(f"mtp.cut_weights: unknown key(s) {', '.join(unknown)}; use core, buffer, energy")
        return cls(**{k: float(v) for k, v in values.items()})


def core_flags(atoms: Atoms) -> np.ndarray | None:
    """The per-atom core flags of a cut: ``arrays['core']``, or the stored source's ``cut.core_atoms``."""
    if "core" in atoms.arrays:
        return np.asarray(atoms.arrays["core"], bool)
    cut = (atoms.info.get("source") or {}).get("cut") or atoms.info.get("cut") or {}
    if "core_atoms" in cut:
        flags = np.zeros(len(atoms), bool)
        flags[np.asarray(cut["core_atoms"], dtype=np.int64)] = True
        return flags
    return None


def apply_cut_weights(atoms: Atoms, weights: CutWeights, core: np.ndarray | None = None) -> Atoms:
    """Set ``arrays['force_weight']`` and ``info['energy_weight']`` of a cut in place (returns it);
    a configuration that is not a cut is left unweighted."""
    flags = core_flags(atoms) if core is None else np.asarray(core, bool)
    if flags is None:
        return atoms
    if len(flags) != len(atoms):
        raise InputError(f"{len(flags)} core flags for a configuration of {len(atoms)} atoms")
    atoms.arrays["force_weight"] = np.where(flags, weights.core, weights.buffer).astype(float)
    atoms.info["energy_weight"] = float(weights.energy)
    return atoms
