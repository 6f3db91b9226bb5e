"""Untrained MTP templates generated from the level rule level(M_{mu,nu}) = 2 + 4 mu + nu.

The basis of a level-L template is, as in MLIP's MTP_templates (06..28.almtp, checked by count and
spanned function space), one scalar for every contraction of at most four basic moment tensors
M_{mu,nu} (mu <= 5, nu <= 10) of summed level <= L: a labelled multigraph on <= 4 vertices (vertex =
tensor, edge multiplicity = number of indices contracted between two tensors, no self-contractions,
vertex degree = nu), counted up to isomorphism. Disconnected graphs are products of the scalars of
their components.

Levels below 10 are built the way MLIP's own templates are (full contractions of pairs of basic moments
of equal rank, then rounds of products with basic scalars) and reproduce them exactly (tested on
level 8). From level 10 on each connected component is contracted tensor by tensor: two tensors into an
intermediate whose free indices are grouped by the tensor they will be contracted with, each group
stored summed over its index orderings (W[e] = sum over index sequences with exponent e), so that the
next contraction with a symmetric tensor needs only integer multiplicities and no symmetrisation.
"""

from __future__ import annotations

from functools import cache
from itertools import permutations, product
from math import factorial

import numpy as np

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel

MAX_LEVEL = 28
MIN_GRAPH_LEVEL = 10  # from here on the graph construction below; lower levels keep the round construction
MAX_MU, MAX_NU, MAX_TENSORS = 5, 10, 4  # MLIP's template limits (radial functions <= 6, rank <= 10)


def moment_level(mu: int, nu: int) -> int:
    return 2 + 4 * mu + nu


@cache
def _components(nu: int) -> tuple[tuple[int, int, int], ...]:
    comps = [c for c in product(range(nu, -1, -1), repeat=3) if sum(c) == nu]
    return tuple(sorted(comps, reverse=True))


def make_template(level: int, species_count: int, min_dist: float, max_dist: float, radial_basis_size: int = 8,
                  radial_funcs_count: int | None = None) -> MTPModel:
    """The untrained MTP of ``level`` for ``species_count`` species (coefficients unset)."""
    if not isinstance(level, int) or isinstance(level, bool) or level < 2:
        raise InputError(f"MTP level {level!r} must be an integer >= 2")
    if level > MAX_LEVEL:
        raise InputError(f"MTP level {level} is not supported: levels 2..{MAX_LEVEL} (the highest MLIP template); "
                         "use an MLIP template file for higher levels")
    if not 0 < min_dist < max_dist:
        raise InputError(f"min_dist {min_dist} must be positive and below max_dist {max_dist}")
    if level >= MIN_GRAPH_LEVEL:
        basic, times, n_moments, mapping, max_mu = _GraphBuilder(level).build()
        return _model(species_count, min_dist, max_dist, radial_basis_size,
                      int(radial_funcs_count or (max_mu + 1)), basic, times, n_moments, mapping)
    return _round_template(level, species_count, min_dist, max_dist, radial_basis_size, radial_funcs_count)


def _model(species_count, min_dist, max_dist, radial_basis_size, radial_funcs_count, basic, times, n_moments,
           mapping) -> MTPModel:
    return MTPModel(
        version="1.1.0", potential_name="MTP1m", scaling=1.0, species_count=species_count, potential_tag="",
        radial_basis={"type": "RBChebyshev", "min": float(min_dist), "max": float(max_dist),
                      "size": int(radial_basis_size)},
        radial_funcs_count=int(radial_funcs_count),
        alpha_moments_count=int(n_moments), alpha_index_basic_count=len(basic),
        alpha_index_basic=np.array(basic, dtype=np.int32).reshape(-1, 4), alpha_index_times_count=len(times),
        alpha_index_times=np.array(times, dtype=np.int32).reshape(-1, 4), alpha_scalar_moments=len(mapping),
        alpha_moment_mapping=np.array(mapping, dtype=np.int32),
    )


def _round_template(level: int, species_count: int, min_dist: float, max_dist: float, radial_basis_size: int,
                    radial_funcs_count: int | None) -> MTPModel:
    """Levels 2..9: MLIP's construction (pairs of equal-rank basic moments, then rounds of products)."""
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
        version="1.1.0", potential_name="MTP1m", scaling=1.0, species_count=species_count, potential_tag="",
        radial_basis={"type": "RBChebyshev", "min": float(min_dist), "max": float(max_dist),
                      "size": int(radial_basis_size)},
        radial_funcs_count=int(radial_funcs_count or (max(mu for mu, _ in tensors) + 1)),
        alpha_moments_count=next_id, alpha_index_basic_count=len(basic),
        alpha_index_basic=np.array(basic, dtype=np.int32), alpha_index_times_count=len(times),
        alpha_index_times=np.array(times, dtype=np.int32), alpha_scalar_moments=len(mapping),
        alpha_moment_mapping=np.array(mapping, dtype=np.int32),
    )
    return model


# ---- levels >= 10: one scalar per contraction graph of <= 4 basic tensors ---------------------------------

_Tensor = tuple[int, int]  # (mu, nu)


@cache
def _multinomial(e: tuple[int, int, int]) -> int:
    return factorial(sum(e)) // (factorial(e[0]) * factorial(e[1]) * factorial(e[2]))


def _add(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _size(rank: int) -> int:
    """Number of exponent triples (stored components) of a symmetric rank-``rank`` index group."""
    return (rank + 1) * (rank + 2) // 2


@cache
def _group_parts(ranks: tuple[int, ...]) -> tuple[tuple[tuple, tuple[int, int, int], int], ...]:
    """Every choice of one exponent triple per group of ``ranks``: (the triples, their sum, the product of
    their multinomials = number of index sequences)."""
    out = []
    for parts in product(*(_components(r) for r in ranks)):
        total, mult = (0, 0, 0), 1
        for p in parts:
            total = _add(total, p)
            mult *= _multinomial(p)
        out.append((parts, total, mult))
    return tuple(out)


def _graphs(labels: tuple[_Tensor, ...]) -> list[tuple[tuple[int, int, int], ...]]:
    """The distinct loop-free multigraphs on vertices ``labels`` (sorted) with degree(v) = nu(v), each as
    its canonical sorted edge list ((i, j, multiplicity), ...) under the label-preserving permutations."""
    k = len(labels)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    perms = [p for p in permutations(range(k)) if all(labels[p[v]] == labels[v] for v in range(k))]
    found: set[tuple[tuple[int, int, int], ...]] = set()
    free = [nu for _, nu in labels]

    def rec(idx: int, edges: list[tuple[int, int, int]]) -> None:
        if idx == len(pairs):
            if not any(free):
                found.add(min(tuple(sorted((min(p[i], p[j]), max(p[i], p[j]), c) for i, j, c in edges))
                              for p in perms))
            return
        i, j = pairs[idx]
        # the last pair touching i (or j) must use up what is left of it
        for c in range(min(free[i], free[j]) + 1):
            free[i] -= c
            free[j] -= c
            if not (idx + 1 < len(pairs) and _stuck(pairs, idx + 1, free)):
                rec(idx + 1, edges + [(i, j, c)] if c else edges)
            free[i] += c
            free[j] += c

    rec(0, [])
    return sorted(found)


def _stuck(pairs: list[tuple[int, int]], start: int, free: list[int]) -> bool:
    """True when some vertex with free indices has no pair left (pairs[start:]) to spend them on."""
    reach = [0] * len(free)
    for i, j in pairs[start:]:
        reach[i] += free[j]
        reach[j] += free[i]
    return any(f > r for f, r in zip(free, reach))


class _GraphBuilder:
    """alpha_index_basic/times and the moment mapping of a level >= 10 template.

    Stored tensors are dicts {component key: moment id}. A basic tensor's key is its exponent triple. An
    intermediate's key is a tuple of exponent triples, one per group of free indices bound for the same
    later tensor; its value is the sum of the contraction over all index sequences with those exponents
    (so contracting a group with a symmetric tensor weighs each component by 1)."""

    def __init__(self, level: int):
        self.level = level
        self.tensors = sorted((mu, nu) for mu in range(MAX_MU + 1) for nu in range(MAX_NU + 1)
                              if moment_level(mu, nu) <= level)
        self.times: list[list[int]] = []
        self.cache: dict[tuple, object] = {}

    # -- moments -------------------------------------------------------------------------------------------
    def _moment(self, products: dict[tuple[int, int], int]) -> int:
        k = self.next_id
        for (i, j), mult in products.items():
            if mult:
                if not -2 ** 31 < mult < 2 ** 31:
                    raise OverflowError(f"multiplicity {mult} does not fit alpha_index_times")
                self.times.append([i, j, mult, k])
        self.next_id += 1
        return k

    @staticmethod
    def _acc(products: dict[tuple[int, int], int], i: int, j: int, mult: int) -> None:
        key = (i, j) if i <= j else (j, i)
        products[key] = products.get(key, 0) + mult

    def _basic(self, t: _Tensor, e: tuple[int, int, int]) -> int:
        return self.first[t] + self.comp_pos[t[1]][e]

    # -- contractions of one connected component -----------------------------------------------------------
    def _pair(self, a: _Tensor, b: _Tensor) -> int:
        """Full contraction of two basic tensors of equal rank."""
        key = ("pair", *sorted((a, b)))
        if key not in self.cache:
            products: dict[tuple[int, int], int] = {}
            for d in _components(a[1]):
                self._acc(products, self._basic(a, d), self._basic(b, d), _multinomial(d))
            self.cache[key] = self._moment(products)
        return self.cache[key]

    @staticmethod
    def _two_key(v1: _Tensor, v2: _Tensor, c12: int, out1: tuple[int, ...], out2: tuple[int, ...]) -> tuple:
        if (v2, out2) < (v1, out1):
            v1, v2, out1, out2 = v2, v1, out2, out1
        return ("two", v1, v2, c12, out1, out2)

    def _two_cost(self, v1: _Tensor, v2: _Tensor, c12: int, out1: tuple[int, ...], out2: tuple[int, ...]) -> int:
        """Rows a new _two tensor adds (0 when it exists already)."""
        if self._two_key(v1, v2, c12, out1, out2) in self.cache:
            return 0
        rows = _size(c12)
        for r in (*out1, *out2):
            rows *= _size(r)
        return rows

    def _two(self, v1: _Tensor, v2: _Tensor, c12: int, out1: tuple[int, ...], out2: tuple[int, ...]) -> dict:
        """v1 and v2 contracted over c12 indices; their other indices go, per group g, out1[g] of v1's and
        out2[g] of v2's into group g of the result."""
        key = self._two_key(v1, v2, c12, out1, out2)
        if key in self.cache:
            return self.cache[key]
        _, v1, v2, c12, out1, out2 = key
        groups = range(len(out1))
        acc: dict[tuple, dict[tuple[int, int], int]] = {}
        contracted = [(d, _multinomial(d)) for d in _components(c12)]
        for parts1, sum1, m1 in _group_parts(out1):
            for parts2, sum2, m2 in _group_parts(out2):
                target = acc.setdefault(tuple(_add(parts1[g], parts2[g]) for g in groups), {})
                for d, md in contracted:
                    self._acc(target, self._basic(v1, _add(d, sum1)), self._basic(v2, _add(d, sum2)), md * m1 * m2)
        tensor = {out: self._moment(acc[out]) for out in sorted(acc, reverse=True)}
        self.cache[key] = tensor
        return tensor

    def _connected(self, labels: tuple[_Tensor, ...], edges: dict[tuple[int, int], int]) -> int:
        k = len(labels)

        def c(i: int, j: int) -> int:
            return edges.get((min(i, j), max(i, j)), 0)

        if k == 2:
            return self._pair(labels[0], labels[1])
        if k == 3:
            # contract two into a tensor of the third's rank, then fully with the third (fewest new rows)
            def cost3(last: int) -> tuple[int, int]:
                u, w = [v for v in range(3) if v != last]
                return (self._two_cost(labels[u], labels[w], c(u, w), (c(u, last),), (c(w, last),))
                        + _size(labels[last][1]), last)

            best = min(range(3), key=cost3)
            v1, v2 = [v for v in range(3) if v != best]
            t = self._two(labels[v1], labels[v2], c(v1, v2), (c(v1, best),), (c(v2, best),))
            key = ("full", id(t), labels[best])
            if key not in self.cache:
                self.cache[key] = self._moment({(m, self._basic(labels[best], out[0])): 1 for out, m in t.items()})
            return self.cache[key]
        # four tensors: (v1 v2) -> groups bound for v3 and v4; then with v3 -> one group bound for v4; then v4

        def cost4(order: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
            a, b, x, y = order
            new12 = self._two_cost(labels[a], labels[b], c(a, b), (c(a, x), c(a, y)), (c(b, x), c(b, y)))
            # with a new (v1 v2) tensor the (v1 v2 v3) one is new too
            new123 = _size(c(a, x) + c(b, x)) * _size(c(a, y) + c(b, y)) * _size(c(x, y)) if new12 else 0
            return new12 + new123 + _size(labels[y][1]), order

        a, b, x, y = min((o for o in permutations(range(4)) if o[0] < o[1]), key=cost4)
        t12 = self._two(labels[a], labels[b], c(a, b), (c(a, x), c(a, y)), (c(b, x), c(b, y)))
        key3 = ("three", id(t12), labels[x], c(x, y))
        if key3 not in self.cache:
            acc: dict[tuple, dict[tuple[int, int], int]] = {}
            for (e3, e4), m in t12.items():
                for f in _components(c(x, y)):
                    self._acc(acc.setdefault(_add(e4, f), {}), m, self._basic(labels[x], _add(e3, f)),
                              _multinomial(f))
            self.cache[key3] = {out: self._moment(acc[out]) for out in sorted(acc, reverse=True)}
        t123 = self.cache[key3]
        key = ("full", id(t123), labels[y])
        if key not in self.cache:
            self.cache[key] = self._moment({(m, self._basic(labels[y], out)): 1 for out, m in t123.items()})
        return self.cache[key]

    def _product(self, scalars: list[int]) -> int:
        scalars = sorted(scalars)
        result = scalars[0]
        for n in range(2, len(scalars) + 1):
            key = ("prod", tuple(scalars[:n]))
            if key not in self.cache:
                self.cache[key] = self._moment({(result, scalars[n - 1]): 1})
            result = self.cache[key]
        return result

    def _multisets(self, start: int, budget: int, prefix: tuple[_Tensor, ...]):
        """Sorted tuples of 1..MAX_TENSORS basic tensors (from self.tensors[start:] on) of summed level <= budget."""
        for n in range(start, len(self.tensors)):
            t = self.tensors[n]
            if moment_level(*t) > budget:
                continue
            labels = (*prefix, t)
            yield labels
            if len(labels) < MAX_TENSORS:
                yield from self._multisets(n, budget - moment_level(*t), labels)

    # -- the template --------------------------------------------------------------------------------------
    def build(self) -> tuple[list[list[int]], list[list[int]], int, list[int], int]:
        level = self.level
        graphs: list[tuple[int, int, tuple[_Tensor, ...], tuple]] = []
        for labels in self._multisets(0, level, ()):
            if sum(nu for _, nu in labels) % 2 == 0:
                for edges in _graphs(labels):
                    graphs.append((sum(moment_level(*t) for t in labels), len(labels), labels, edges))
        used = sorted({t for g in graphs for t in g[2]})
        basic: list[list[int]] = []
        self.first: dict[_Tensor, int] = {}
        for mu, nu in used:
            self.first[(mu, nu)] = len(basic)
            basic.extend([mu, *e] for e in _components(nu))
        self.comp_pos = {nu: {e: n for n, e in enumerate(_components(nu))} for nu in {nu for _, nu in used}}
        self.next_id = len(basic)
        # basic scalars first (as MLIP), then by level, number of tensors, tensors, graph
        graphs.sort(key=lambda g: (g[1] != 1, g[0], g[1], g[2], g[3]))
        mapping = []
        for _, k, labels, edge_list in graphs:
            edges = {(i, j): c for i, j, c in edge_list}
            # connected components
            comp = list(range(k))
            for i, j, _ in edge_list:
                ri, rj = comp[i], comp[j]
                comp = [ri if x == rj else x for x in comp]
            scalars = []
            for root in sorted(set(comp)):
                members = [v for v in range(k) if comp[v] == root]
                if len(members) == 1:
                    scalars.append(self.first[labels[members[0]]])  # a basic scalar (nu = 0)
                    continue
                sub = {(members.index(i), members.index(j)): c for (i, j), c in edges.items() if i in members}
                scalars.append(self._connected(tuple(labels[v] for v in members), sub))
            mapping.append(self._product(scalars))
        return basic, self.times, self.next_id, mapping, max(mu for mu, _ in used)
