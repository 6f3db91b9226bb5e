"""MLIP's select_add: which candidates D-optimality adds to the active set of a training set.

1. build the active set from the training set (eps * I, threshold 1.001) -- or take a given one;
2. offer the candidates' rows and swap while a grade exceeds the select threshold;
3. offer the training rows again (rows displaced in 2 may come back and push out candidates that
   are no longer needed);
4. the candidates that still own rows of A are the selected ones.

Identical candidates (and candidates identical to a training configuration) are offered once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.selection.active_set import ActiveSet
from seilearn.selection.features import SelectionWeights, stack_rows
from seilearn.selection.maxvol import BUILD_THRESHOLD, MaxVolState, grades, maxvol


def structure_key(atoms: Atoms, decimals: int = 8) -> str:
    """A hash of numbers, positions and cell: equal for identical configurations."""
    h = hashlib.sha1()
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    if "mtp_type" in atoms.arrays:
        h.update(np.asarray(atoms.arrays["mtp_type"], dtype=np.int64).tobytes())
    for arr in (atoms.get_positions(), np.asarray(atoms.cell)):
        h.update((np.round(arr, decimals) + 0.0).tobytes())
    return h.hexdigest()


def unique_candidates(candidates: Sequence[Atoms], train: Sequence[Atoms] = ()) -> list[int]:
    """Indices of the candidates that are neither repeats of an earlier candidate nor training configurations."""
    seen = {structure_key(a) for a in train}
    keep = []
    for k, a in enumerate(candidates):
        key = structure_key(a)
        if key not in seen:
            seen.add(key)
            keep.append(k)
    return keep


@dataclass
class SelectAddResult:
    """Selected candidate indices, the MLIP equation indices each owns in A, and every candidate's grade
    against the training set's active set (-1 for candidates not offered: duplicates)."""

    indices: list[int]
    selected_eqn_inds: dict[int, list[int]] = field(default_factory=dict)
    grades: list[float] = field(default_factory=list)


def select_add(potential, train: Sequence[Atoms], candidates: Sequence[Atoms], **kwargs) -> list[int]:
    """Sorted indices of ``candidates`` that D-optimality adds to the training set's active set
    (keyword arguments as :func:`select_add_details`)."""
    return select_add_details(potential, train, candidates, **kwargs).indices


def select_add_details(potential, train: Sequence[Atoms], candidates: Sequence[Atoms], *,
               mode: str | SelectionWeights = "nbh", limit: int | None = None,
               threshold: float = BUILD_THRESHOLD, build_threshold: float = BUILD_THRESHOLD,
               active_set: ActiveSet | None = None, swap_limit: int | None = None,
               dedupe: bool = True) -> SelectAddResult:
    """MLIP's select_add (see the module docstring).

    ``limit`` keeps at most that many (those of highest grade against the training active set);
    ``active_set`` (built from ``train`` with the same weights) skips step 1.
    """
    if limit is not None and limit < 0:
        raise InputError(f"--limit {limit} must be >= 0")
    if threshold < 1.0:
        raise InputError(f"select threshold {threshold} must be >= 1")
    weights = mode if isinstance(mode, SelectionWeights) else SelectionWeights.for_mode(mode)
    if not candidates or limit == 0:
        return SelectAddResult([], {}, [-1.0] * len(candidates))
    offered = unique_candidates(candidates, train) if dedupe else list(range(len(candidates)))
    if not offered:
        return SelectAddResult([], {}, [-1.0] * len(candidates))
    cand = [candidates[k] for k in offered]
    cand_rows, cand_owner, cand_eqn = stack_rows(potential, cand, weights)
    train_rows, train_owner, _ = stack_rows(potential, list(train), weights)
    mc = len(cand_rows)
    if active_set is not None and active_set.weights == weights and active_set.n == potential.n_params:
        base = active_set.state.copy()
        base.source = np.where(base.source >= 0, -2, -1)  # training rows of unknown position
    else:
        base = maxvol(MaxVolState.identity(potential.n_params), train_rows, mc + np.arange(len(train_rows)),
                      build_threshold)
    state = maxvol(base.copy(), cand_rows, np.arange(mc), threshold, max_swaps=swap_limit)
    if len(train_rows):
        state = maxvol(state, train_rows, mc + np.arange(len(train_rows)), threshold, max_swaps=swap_limit)
    in_set = state.source[(state.source >= 0) & (state.source < mc)]
    chosen = sorted({int(cand_owner[s]) for s in in_set})
    best = np.zeros(len(cand))
    np.maximum.at(best, cand_owner, grades(cand_rows, base.A_inv))
    if limit is not None and len(chosen) > limit:
        chosen = sorted(sorted(chosen, key=lambda k: -best[k])[:limit])
    eqns: dict[int, list[int]] = {}
    for s in in_set:
        if int(cand_owner[s]) in chosen:
            eqns.setdefault(offered[int(cand_owner[s])], []).append(int(cand_eqn[s]))
    all_grades = [-1.0] * len(candidates)
    for k, g in zip(offered, best):
        all_grades[k] = float(g)
    return SelectAddResult([offered[k] for k in chosen], {k: sorted(v) for k, v in eqns.items()}, all_grades)
