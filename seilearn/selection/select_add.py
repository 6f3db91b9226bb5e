"""MLIP's select_add: which candidates D-optimality adds to the active set of a training set."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from seilearn.selection.active_set import BUILD_THRESHOLD, ActiveSet, build_active_set
from seilearn.selection.features import stack_rows
from seilearn.selection.maxvol import MaxVolState, grades, maxvol


def select_add(potential, train: list[Atoms], candidates: list[Atoms], *, mode: str = "nbh",
               limit: int | None = None, threshold: float = BUILD_THRESHOLD,
               active_set: ActiveSet | None = None) -> list[int]:
    """Indices of ``candidates`` to add: build the active set from ``train`` (or take ``active_set``),
    swap in candidate rows, re-offer the training rows, and return the candidates still in it.
    With ``limit``, the ones of highest grade against the original active set are kept."""
    if not candidates:
        return []
    base = active_set if active_set is not None and active_set.mode == mode else build_active_set(
        potential, train, mode, threshold)
    cand_rows, cand_owner = stack_rows(potential, candidates, mode)
    train_rows, train_owner = stack_rows(potential, train, mode) if train else (np.zeros((0, cand_rows.shape[1])),
                                                                                np.zeros(0, dtype=np.int64))
    state = MaxVolState(A=base.state.A.copy(), A_inv=base.state.A_inv.copy(),
                        source=np.where(base.state.source >= 0, -2, -1), log_abs_det=base.state.log_abs_det)
    # ids: candidates are >= 0; training rows are -(2 + k)
    state = maxvol(state, cand_rows, cand_owner, threshold)
    if len(train_rows):
        state = maxvol(state, train_rows, -(2 + train_owner), threshold)
    chosen = sorted({int(s) for s in state.source if s >= 0})
    if limit is not None and len(chosen) > limit:
        g = grades(cand_rows, base.state.A_inv)
        best = {}
        for owner, val in zip(cand_owner, g):
            best[int(owner)] = max(best.get(int(owner), 0.0), float(val))
        chosen = sorted(sorted(chosen, key=lambda k: -best[k])[:limit])
    return chosen
