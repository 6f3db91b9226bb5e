"""MaxVol on selection-matrix rows (D-optimality), as MLIP does it.

The active set A (n x n) starts as eps * I: rows that no data fills stay at eps, which keeps A
invertible when the Jacobian is rank deficient (normal for MTPs). Each swap puts
the candidate row i with the largest |C_ij| (C = B A^-1) into row j of A while |C_ij| exceeds the
threshold; A^-1 and C are updated by Sherman-Morrison (rank one), so |det A| is multiplied by
|C_ij| > threshold > 1 at every swap and never decreases. As in MLIP, the row that leaves A goes back
into the candidate pool in the place of the one that entered, so it can come back later.

Speed: the only O(m n) work per swap is one pass over C (compiled, threaded over rows: seilearn.mtp.kernel)
that makes the rank-one update and finds the next largest |C| (BLAS idamax's choice: the first on ties); no
temporaries of C's size are made. While A still
has eps rows, the columns of C that belong to them hold residual / eps (huge), so the greedy choice is
made among those columns: a first phase updates only them (the filled columns are recomputed with
one matrix product when it ends), which halves the work of building from eps * I. The phase ends when
the largest such entry falls below ``FILL_SWITCH``; from then on every column competes, as in MLIP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seilearn.mtp import _kernel, kernel

EPS = 1e-6
BUILD_THRESHOLD = 1.001
FILL_SWITCH = 1e4  # |C| of an eps column above this always beats the O(1)-O(10) entries of filled ones


@dataclass
class MaxVolState:
    """A, its inverse, and where each of A's rows came from (-1: an eps row)."""

    A: np.ndarray
    A_inv: np.ndarray
    source: np.ndarray  # caller's id of the row in each row of A; -1 for eps rows
    log_abs_det: float = 0.0
    swaps: int = 0
    det_history: list[float] = field(default_factory=list)

    @classmethod
    def identity(cls, n: int, eps: float = EPS) -> MaxVolState:
        """The starting active set eps * I."""
        return cls(A=np.eye(n) * eps, A_inv=np.eye(n) / eps, source=np.full(n, -1, dtype=np.int64),
                   log_abs_det=n * float(np.log(eps)))

    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    def copy(self) -> MaxVolState:
        return MaxVolState(A=self.A.copy(), A_inv=self.A_inv.copy(), source=self.source.copy(),
                           log_abs_det=self.log_abs_det, swaps=self.swaps, det_history=list(self.det_history))


def maxvol(state: MaxVolState, rows: np.ndarray, row_ids: np.ndarray, threshold: float = BUILD_THRESHOLD,
           max_swaps: int | None = None, track_det: bool = False, consume: bool = False) -> MaxVolState:
    """Swap ``rows`` (m x n, caller ids ``row_ids``) into ``state`` while max |B A^-1| > ``threshold``.

    ``state`` is updated in place and returned. ``max_swaps`` caps the number of swaps of this call
    (MLIP's swap_limit); ``track_det`` records log|det A| after every swap in ``state.det_history``;
    ``consume`` lets the call reorder ``rows`` in place (a C-contiguous float64 array the caller no longer needs)
    instead of copying it.
    """
    if threshold < 1.0:
        raise ValueError(f"MaxVol threshold {threshold} must be >= 1")
    rows = np.asarray(rows, dtype=float)
    if rows.size == 0:
        return state
    n = state.n
    if rows.ndim != 2 or rows.shape[1] != n:
        raise ValueError(f"rows have shape {rows.shape}, the active set needs {n} columns")
    # rows that leave A come back here
    pool = rows if consume and rows.flags.c_contiguous else np.array(rows, dtype=float, order="C", copy=True)
    pool_ids = np.array(row_ids, dtype=np.int64, copy=True)
    A_inv = state.A_inv
    # each swap multiplies |det A| by more than the threshold, so the loop ends; the cap guards against
    # a threshold of 1 with rounding noise
    limit = max_swaps if max_swaps is not None else 50 * (n + len(pool))
    done = _fill_eps_rows(state, pool, pool_ids, max(threshold, FILL_SWITCH), limit, track_det)
    C = np.ascontiguousarray(pool @ A_inv)
    nt = kernel.threads()
    flat = _kernel.ger_argmax(C, None, None, 0.0, -1, nt)
    refreshes = 0
    while done < limit:
        i, j = divmod(flat, n)
        cij = float(C[i, j])
        if not abs(cij) > threshold:
            # rank-one updates accumulate rounding error in C (its entries start near |B| / eps); check
            # against a fresh C = B A^-1 before stopping, as grading will use exactly that
            if refreshes >= 3:
                break
            refreshes += 1
            np.matmul(pool, A_inv, out=C)
            flat = _kernel.ger_argmax(C, None, None, 0.0, -1, nt)
            if not abs(C.flat[flat]) > threshold:
                break
            continue
        ci = C[i].copy()
        ci[j] -= 1.0  # (b_i - a_j) A^-1 = C_i - e_j
        col_inv = A_inv[:, j].copy()
        col_c = C[:, j].copy()
        # A^-1 <- A^-1 - A^-1[:, j] (C_i - e_j) / C_ij ; C <- C - C[:, j] (C_i - e_j) / C_ij, one pass over C
        # that also finds the next largest |C| (row i is replaced below, so it is left out and checked apart)
        A_inv -= np.outer(col_inv, ci) / cij
        flat = _kernel.ger_argmax(C, col_c, ci, -1.0 / cij, i, nt)
        # the displaced row a_j takes row i's place in the pool: a_j A'^-1 = e_j - (C_i - e_j) / C_ij
        C[i] = -ci / cij
        C[i, j] += 1.0
        flat = _first_largest(C, flat, i)
        _swap_rows(state, pool, pool_ids, i, j, cij, track_det)
        done += 1
    return state


def _first_largest(C: np.ndarray, flat: int, i: int) -> int:
    """The flat index of the largest |C| given ``flat``, that of every row but i (-1: none): BLAS idamax's
    choice (the first one on ties)."""
    k = int(np.argmax(np.abs(C[i])))
    v, here = abs(C[i, k]), i * C.shape[1] + k
    if flat < 0:
        return here
    best = abs(C.flat[flat])
    return here if v > best or (v == best and here < flat) else flat


def _swap_rows(state: MaxVolState, pool: np.ndarray, pool_ids: np.ndarray, i: int, j: int, cij: float,
               track_det: bool) -> None:
    """Put pool row i into A's row j; the displaced row goes back into the pool in its place."""
    old_row, old_id = state.A[j].copy(), int(state.source[j])
    state.A[j] = pool[i]
    state.source[j] = pool_ids[i]
    pool[i] = old_row
    pool_ids[i] = old_id
    state.log_abs_det += float(np.log(abs(cij)))
    state.swaps += 1
    if track_det:
        state.det_history.append(state.log_abs_det)


def _fill_eps_rows(state: MaxVolState, pool: np.ndarray, pool_ids: np.ndarray, switch: float, limit: int,
                   track_det: bool) -> int:
    """Greedy swaps restricted to the columns of A's eps rows while their |C| exceeds ``switch``."""
    A_inv = state.A_inv
    cols = np.flatnonzero(state.source == -1)
    if len(cols) == 0 or limit <= 0:
        return 0
    CE = np.ascontiguousarray(pool @ A_inv[:, cols])
    nt = kernel.threads()
    done = 0
    while done < limit and len(cols):
        flat = _kernel.ger_argmax(CE, None, None, 0.0, -1, nt)
        i, c = divmod(flat, len(cols))
        cij = float(CE[i, c])
        if not abs(cij) > switch:
            break
        j = int(cols[c])
        ci = pool[i] @ A_inv  # the full row of C for the A^-1 update
        ci[j] -= 1.0
        ci_e = ci[cols]
        ci_e[state.source[cols] != -1] = 0.0  # filled columns not yet dropped stay out
        col_c = CE[:, c].copy()
        A_inv -= np.outer(A_inv[:, j], ci) / cij
        _kernel.ger_argmax(CE, col_c, ci_e, -1.0 / cij, i, nt)  # CE -= col_c ci_e / cij; row i is replaced next
        CE[i] = -ci_e / cij
        _swap_rows(state, pool, pool_ids, i, j, cij, track_det)
        done += 1
        CE[:, c] = 0.0  # column j is filled: it leaves the competition of this phase
        keep = state.source[cols] == -1
        if (~keep).sum() * 4 >= len(cols):  # drop filled columns now and then (a copy of CE)
            cols = cols[keep]
            CE = np.ascontiguousarray(CE[:, keep])
    return done


def grades(rows: np.ndarray, A_inv: np.ndarray) -> np.ndarray:
    """Extrapolation grade of each row: max_j |(B A^-1)_ij|."""
    rows = np.asarray(rows, dtype=float)
    if len(rows) == 0:
        return np.zeros(0)
    return np.abs(rows @ A_inv).max(axis=1)
