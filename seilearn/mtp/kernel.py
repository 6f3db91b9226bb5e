"""Python side of the compiled MTP kernels (``seilearn/mtp/_kernel.c``): neighbour lists, energies/forces/stresses
and site-energy Jacobians, threaded over atoms with OpenMP.

Threads: ``$SEILEARN_THREADS`` if set, else OpenMP's default (``$OMP_NUM_THREADS``, else every core this process
may run on). Processes that share a machine set one of them to their share of the cores (the local launcher
gives each rocket its own). Training and active-set builds are the loop's serial steps (nothing else of the
campaign runs beside them), so they may use more: ``$SEILEARN_TRAIN_THREADS`` (the local launcher sets it to
every core), applied with ``serial_step_threads()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

# Threads that wait at a barrier sleep instead of spinning (OpenMP reads this when the kernel loads; an explicit
# setting wins): on a machine shared with other work, spinning threads burned ~60 % more CPU for no gain here,
# while on a quiet one the wake-up costs microseconds per call.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from seilearn.mtp import _kernel
except ImportError as exc:  # pragma: no cover - the extension is built by `pip install -e .`
    raise ImportError("seilearn's compiled MTP kernel is not built; run `pip install -e .` (or "
                      "`python setup.py build_ext --inplace`) in the repository, with gcc and Python headers") from exc


_OVERRIDE: list[int] = []  # set by serial_step_threads() for the duration of a training


def _env_threads(name: str) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return 0
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 1:
        from seilearn.errors import InputError

        raise InputError(f"{name}={value!r} must be a positive integer (threads per process)")
    return n


def threads() -> int:
    """Threads a kernel call uses (0 means OpenMP's default)."""
    return _OVERRIDE[-1] if _OVERRIDE else _env_threads("SEILEARN_THREADS")


@contextmanager
def serial_step_threads() -> Iterator[int]:
    """Within: kernel calls use ``$SEILEARN_TRAIN_THREADS`` threads when it is set (else as outside)."""
    n = _env_threads("SEILEARN_TRAIN_THREADS")
    if not n:
        yield default_threads()
        return
    _OVERRIDE.append(n)
    try:
        yield n
    finally:
        _OVERRIDE.pop()


def default_threads() -> int:
    """Threads a kernel call uses now."""
    return threads() or int(_kernel.max_threads())


@dataclass
class NeighbourList:
    """Ordered pairs (i, j) closer than ``cutoff``, grouped by i (CSR): ``first[i]:first[i+1]`` are i's pairs;
    ``offsets`` the Cartesian lattice shift of each pair (r_ij = x_j + offset - x_i); ``rfirst``/``rpairs`` the
    same pairs grouped by j."""

    cutoff: float
    first: np.ndarray
    j: np.ndarray
    shifts: np.ndarray
    offsets: np.ndarray
    rfirst: np.ndarray
    rpairs: np.ndarray

    @property
    def width(self) -> int:
        """Largest number of neighbours of one atom."""
        return int(np.diff(self.first).max(initial=0))

    @property
    def i(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.first) - 1), np.diff(self.first))

    def shortest(self, positions: np.ndarray) -> tuple[int, float]:
        """(pair index, length) of the shortest pair; (-1, inf) without pairs."""
        return _kernel.min_pair(np.ascontiguousarray(positions, dtype=np.float64), self.first, self.j, self.offsets)

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """r_ij of every pair for ``positions``."""
        return positions[self.j] + self.offsets - np.repeat(positions, np.diff(self.first), axis=0)


def _box(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """The cell, or an orthogonal box around the atoms when there is none (no periodic direction)."""
    if abs(np.linalg.det(cell)) > 1e-12:
        return cell
    if pbc.any():
        from seilearn.errors import InputError

        raise InputError("a periodic structure needs three independent cell vectors; set the cell or pbc=False")
    extent = np.ptp(positions, axis=0) if len(positions) else np.zeros(3)
    return np.diag(np.maximum(extent, 1.0))


def neighbour_list(positions: np.ndarray, cell: np.ndarray, pbc, cutoff: float) -> NeighbourList:
    """All ordered pairs closer than ``cutoff`` (cell lists, compiled, threaded)."""
    pos = np.ascontiguousarray(positions, dtype=np.float64)
    pbc_arr = np.ascontiguousarray(np.broadcast_to(np.asarray(pbc, dtype=bool), (3,)), dtype=np.uint8)
    box = np.ascontiguousarray(_box(pos, np.asarray(cell, dtype=np.float64).reshape(3, 3), pbc_arr.astype(bool)))
    n = len(pos)
    counts = np.empty(n, dtype=np.int64)
    raw_j, raw_shifts, raw_offsets = _kernel.neighbours(pos, box, pbc_arr, float(cutoff), counts, threads())
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    j = np.frombuffer(raw_j, dtype=np.int32)
    shifts = np.frombuffer(raw_shifts, dtype=np.int32).reshape(-1, 3)
    offsets = np.frombuffer(raw_offsets, dtype=np.float64).reshape(-1, 3)
    total = len(j)
    rfirst = np.empty(n + 1, dtype=np.int64)
    rpairs = np.empty(total, dtype=np.int64)
    _kernel.transpose(first, j, rfirst, rpairs)
    return NeighbourList(float(cutoff), first, j, shifts, offsets, rfirst, rpairs)


class ModelArrays:
    """An MTP's coefficients as the contiguous arrays the kernels take (built once per model)."""

    def __init__(self, model) -> None:
        S, R = int(model.species_count), int(model.radial_funcs_count)
        rb = model.radial_basis
        K = int(rb.size)
        self.radial = np.ascontiguousarray(np.asarray(model.radial_coeffs, dtype=np.float64).reshape(S, S, R, K))
        self.species = np.ascontiguousarray(model.species_coeffs, dtype=np.float64).ravel()
        self.moments = np.ascontiguousarray(model.moment_coeffs, dtype=np.float64).ravel()
        self.basic = np.ascontiguousarray(model.alpha_index_basic, dtype=np.int32).reshape(-1, 4)
        self.times = np.ascontiguousarray(model.alpha_index_times, dtype=np.int32).reshape(-1, 4)
        self.mapping = np.ascontiguousarray(model.alpha_moment_mapping, dtype=np.int32).ravel()
        self.dims = (S, R, K, int(model.alpha_moments_count))
        scaling = float(model.scaling) if model.scaling is not None else 1.0
        self.dist = (float(rb.min), float(rb.max), scaling)
        self.n_params = S * S * R * K + S + len(self.mapping)

    @property
    def args(self) -> tuple:
        return (self.radial, self.species, self.moments, self.basic, self.times, self.mapping, self.dims, self.dist)


def _checked_types(arrays: ModelArrays, types: np.ndarray, n: int) -> np.ndarray:
    """Types as int32, each a species of the model (the kernel indexes coefficient tables with them)."""
    t = np.ascontiguousarray(types, dtype=np.int32)
    if t.shape != (n,):
        raise ValueError(f"{t.shape[0] if t.ndim else 0} types for {n} atoms")
    if n and (int(t.min()) < 0 or int(t.max()) >= arrays.dims[0]):
        from seilearn.errors import InputError

        raise InputError(f"MTP type {int(t.max()) if t.max() >= arrays.dims[0] else int(t.min())} outside the "
                         f"potential's {arrays.dims[0]} species; check the configuration's types or --species")
    return t


def efs(arrays: ModelArrays, positions: np.ndarray, types: np.ndarray,
        nl: NeighbourList) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site energies, forces, virial sum_pairs dV_i/dr_ij (x) r_ij as a 3x3 matrix [a, b] = sum g_a r_b)."""
    pos = np.ascontiguousarray(positions, dtype=np.float64)
    n = len(pos)
    grad = np.empty((len(nl.j), 3))  # per call, not cached: calls from several Python threads stay independent
    energies = np.empty(n)
    forces = np.empty((n, 3))
    virial = np.empty((n, 9))
    _kernel.efs(*arrays.args, pos, _checked_types(arrays, types, n), nl.first, nl.j, nl.offsets,
                nl.rfirst, nl.rpairs, energies, forces, virial, grad, nl.width, threads())
    return energies, forces, virial.sum(axis=0).reshape(3, 3)


def site_rows(arrays: ModelArrays, positions: np.ndarray, types: np.ndarray, nl: NeighbourList,
              centres: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """dV_i/dtheta of the ``centres`` (default all atoms), MLIP parameter order, shape (len(centres), n_params);
    written into ``out`` (C-contiguous float64 of that shape) when given."""
    pos = np.ascontiguousarray(positions, dtype=np.float64)
    idx = np.arange(len(pos), dtype=np.int32) if centres is None else np.ascontiguousarray(centres, dtype=np.int32)
    shape = (len(idx), arrays.n_params)
    if out is None:
        rows = np.empty(shape)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
    else:
        rows = out
    _kernel.site_rows(*arrays.args, pos, _checked_types(arrays, types, len(pos)), nl.first, nl.j, nl.offsets,
                      idx, rows, nl.width, threads())
    return rows
