"""MaxVol on selection-matrix rows (D-optimality), as MLIP does it.

The active set A (n x n) starts as eps * I: rows that no data fills stay at eps, which keeps A
invertible when the Jacobian is rank deficient (normal for MTPs; DESIGN.md section 4). A swap puts
the candidate row with the largest |C| = |B A^-1| into A when it exceeds the threshold; A^-1 and C
are updated by Sherman-Morrison (rank one), so |det A| grows by |C_ij| > 1 at every swap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPS = 1e-6


@dataclass
class MaxVolState:
    """A, its inverse, and where each of A's rows came from (-1: an eps row)."""

    A: np.ndarray
    A_inv: np.ndarray
    source: np.ndarray  # candidate-row id per row of A, -1 for eps rows
    log_abs_det: float = 0.0
    swaps: int = 0
    det_history: list[float] = field(default_factory=list)

    @classmethod
    def identity(cls, n: int, eps: float = EPS) -> "MaxVolState":
        return cls(A=np.eye(n) * eps, A_inv=np.eye(n) / eps, source=np.full(n, -1, dtype=np.int64),
                   log_abs_det=n * float(np.log(eps)))


def maxvol(state: MaxVolState, rows: np.ndarray, row_ids: np.ndarray, threshold: float = 1.001,
           max_swaps: int | None = None, track_det: bool = False) -> MaxVolState:
    """Swap ``rows`` (m x n, ids ``row_ids``) into the active set while max |C| > ``threshold``."""
    rows = np.ascontiguousarray(rows, dtype=float)
    if rows.size == 0:
        return state
    C = rows @ state.A_inv
    # every swap multiplies |det A| by more than the threshold, so the loop ends; the cap guards
    # against a threshold of 1 with rounding noise
    limit = state.swaps + (max_swaps if max_swaps is not None else 10 * (state.A.shape[0] + rows.shape[0]))
    while state.swaps < limit:
        flat = int(np.argmax(np.abs(C)))
        i, j = divmod(flat, C.shape[1])
        cij = C[i, j]
        if not abs(cij) > threshold:
            break
        ci = C[i].copy()
        ci[j] -= 1.0  # (b_i - a_j) A^-1 = C_i - e_j
        colA = state.A_inv[:, j].copy()
        colC = C[:, j].copy()
        state.A_inv -= np.outer(colA, ci) / cij
        C -= np.outer(colC, ci) / cij
        state.A[j] = rows[i]
        state.source[j] = row_ids[i]
        state.log_abs_det += float(np.log(abs(cij)))
        state.swaps += 1
        if track_det:
            state.det_history.append(state.log_abs_det)
    return state


def grades(rows: np.ndarray, A_inv: np.ndarray) -> np.ndarray:
    """Extrapolation grade of each row: max_j |(B A^-1)_j|."""
    if len(rows) == 0:
        return np.zeros(0)
    return np.abs(np.asarray(rows) @ A_inv).max(axis=1)
