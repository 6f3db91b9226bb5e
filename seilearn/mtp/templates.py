"""Untrained MTP templates generated from the level rule level(M_{mu,nu}) = 2 + 4 mu + nu.

Scalar moments are built the way MLIP's templates are: first the full contractions of pairs of basic
moments of equal rank (ordered by summed radial index, then rank), then, round after round, products
of a basic scalar with the scalars of the previous round, each up to the requested level. Levels up to
9 need nothing more and reproduce MLIP's templates exactly (tested on level 8); from level 10 on MLIP
also contracts three tensors (e.g. M01 . M02 . M01), which this generator does not build yet, so it
refuses those levels rather than return a smaller basis than MLIP's.
"""

from __future__ import annotations

from itertools import product
from math import factorial

import numpy as np

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel

MAX_LEVEL = 9


def moment_level(mu: int, nu: int) -> int:
    return 2 + 4 * mu + nu


def _components(nu: int) -> list[tuple[int, int, int]]:
    comps = [c for c in product(range(nu, -1, -1), repeat=3) if sum(c) == nu]
    return sorted(comps, reverse=True)


def make_template(level: int, species_count: int, min_dist: float, max_dist: float, radial_basis_size: int = 8,
                  radial_funcs_count: int | None = None) -> MTPModel:
    """The untrained MTP of ``level`` for ``species_count`` species (coefficients unset)."""
    if not isinstance(level, int) or level < 2:
        raise InputError(f"MTP level {level!r} must be an integer >= 2")
    if level > MAX_LEVEL:
        raise InputError(f"MTP level {level} needs three-tensor contractions that this generator does not build "
                         f"(levels 2..{MAX_LEVEL}); use an MLIP template file for higher levels")
    if not 0 < min_dist < max_dist:
        raise InputError(f"min_dist {min_dist} must be positive and below max_dist {max_dist}")
    # rank-nu tensors can only enter scalars through a contraction with another rank-nu tensor
    tensors = [(mu, nu) for mu in range(level) for nu in range(level)
               if (nu == 0 and moment_level(mu, 0) <= level) or (nu > 0 and 2 * moment_level(0, nu) <= level
                                                                  and moment_level(mu, nu) + moment_level(0, nu) <= level)]
    tensors.sort()
    basic: list[list[int]] = []
    first: dict[tuple[int, int], int] = {}
    for mu, nu in tensors:
        first[(mu, nu)] = len(basic)
        basic.extend([mu, *c] for c in _components(nu))
    levels: dict[int, int] = {first[t]: moment_level(*t) for t in tensors if t[1] == 0}
    times: list[list[int]] = []
    next_id = len(basic)
    factors: dict[int, tuple[int, ...]] = {first[t]: (first[t],) for t in tensors if t[1] == 0}
    seen: set[tuple[int, ...]] = set(factors.values())
    # round 1: contractions of pairs of basic tensors of equal rank
    pairs = [(a, b) for i, a in enumerate(tensors) for b in tensors[i:] if a[1] == b[1]
             and moment_level(*a) + moment_level(*b) <= level]
    pairs.sort(key=lambda p: (p[0][0] + p[1][0], p[0][1], p[0][0]))
    last_round: list[int] = []
    for a, b in pairs:
        nu = a[1]
        key = tuple(sorted((first[a], first[b]))) if nu == 0 else ("c", first[a], first[b])
        for k, comp in enumerate(_components(nu)):
            mult = factorial(nu) // (factorial(comp[0]) * factorial(comp[1]) * factorial(comp[2]))
            times.append([first[a] + k, first[b] + k, mult, next_id])
        levels[next_id] = moment_level(*a) + moment_level(*b)
        factors[next_id] = key if nu == 0 else (key,)
        seen.add(factors[next_id])
        last_round.append(next_id)
        next_id += 1
    basic_scalars = [first[t] for t in tensors if t[1] == 0]
    while last_round:
        new_round = []
        for b in basic_scalars:
            for s in last_round:
                lvl = levels[b] + levels[s]
                key = tuple(sorted((*factors[b], *factors[s]), key=str))
                if lvl > level or key in seen:
                    continue
                times.append([b, s, 1, next_id])
                levels[next_id] = lvl
                factors[next_id] = key
                seen.add(key)
                new_round.append(next_id)
                next_id += 1
        last_round = new_round
    mapping = basic_scalars + list(range(len(basic), next_id))
    model = MTPModel(
        version="1.1.0", potential_name=f"MTP1m", scaling=1.0, species_count=species_count, potential_tag="",
        radial_basis={"type": "RBChebyshev", "min": float(min_dist), "max": float(max_dist),
                      "size": int(radial_basis_size)},
        radial_funcs_count=int(radial_funcs_count or (max(mu for mu, _ in tensors) + 1)),
        alpha_moments_count=next_id, alpha_index_basic_count=len(basic),
        alpha_index_basic=np.array(basic, dtype=np.int32), alpha_index_times_count=len(times),
        alpha_index_times=np.array(times, dtype=np.int32), alpha_scalar_moments=len(mapping),
        alpha_moment_mapping=np.array(mapping, dtype=np.int32),
    )
    return model
