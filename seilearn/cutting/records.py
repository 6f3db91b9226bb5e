"""A cut's provenance as a JSON-able record (the store's ``source['cut']``) and as MLIP ``.cfg`` features."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from ase import Atoms

_FEATURE = "cut"  # one Feature line holding the JSON record; MLIP-3 keeps unknown features verbatim


def cut_record(cut: Atoms) -> dict[str, Any]:
    """``info['cut']`` plus the parent index of every atom and the indices of the core atoms."""
    rec = dict(cut.info["cut"])
    rec["parent_index"] = [int(i) for i in cut.arrays["parent_index"]]
    rec["core_atoms"] = [int(i) for i in np.flatnonzero(cut.arrays["core"])]
    rec["odd_electrons"] = bool(cut.info.get("odd_electrons", False))
    return rec


def restore(atoms: Atoms, rec: dict[str, Any]) -> Atoms:
    """Put a cut record back on ``atoms`` (arrays parent_index/core, info cut/odd_electrons); returns it."""
    if len(rec.get("parent_index", ())) != len(atoms):
        return atoms
    info = {k: v for k, v in rec.items() if k not in ("parent_index", "core_atoms")}
    atoms.info["cut"] = info
    atoms.info["odd_electrons"] = bool(rec.get("odd_electrons", False))
    atoms.arrays["parent_index"] = np.asarray(rec["parent_index"], dtype=np.int64)
    core = np.zeros(len(atoms), bool)
    core[np.asarray(rec.get("core_atoms", []), dtype=np.int64)] = True
    atoms.arrays["core"] = core
    return atoms


def to_features(cut: Atoms) -> Atoms:
    """A copy of the cut whose ``mlip_features`` carry the record (for ``.cfg`` files)."""
    out = cut.copy()
    feats = {"cut": json.dumps(cut_record(cut), separators=(",", ":"))}
    if cut.info.get("odd_electrons"):
        feats["odd_electrons"] = "1"
    out.info["mlip_features"] = feats
    out.info.pop("mv_grade", None)
    return out


def from_features(atoms: Atoms) -> Atoms:
    """Restore a cut read from a ``.cfg`` written by :func:`to_features` (other configurations pass unchanged)."""
    text = (atoms.info.get("mlip_features") or {}).get(_FEATURE)
    if text:
        restore(atoms, json.loads(text))
    return atoms
