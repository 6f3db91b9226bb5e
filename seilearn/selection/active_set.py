"""The active set: the MaxVol submatrix A of the training set's selection rows, its inverse, which
configuration and equation each row came from, and those configurations.

Persisted in MLIP-3's ``.almtp`` layout (what ``mlp train``/``select_add`` write and its LAMMPS
interface reads)::

    <.mtp text>\\n#MVS_v1.1\\n
    energy_weight %.16e\\n force_weight ... stress_weight ... site_en_weight ... weight_scaling %d\\n
    #<A: n*n float64, native byte order, row-major><A^-1 as MLIP stores it: the transpose of inv(A)>\\n#\\n
    <n lines "cfg_index equation_index" (-1 -1 for an eps row)>#\\n
    <the selected configurations, full precision, with Feature selected_eqn_inds>

n is not stored: it is the potential's parameter count. Grades always use the stored inverse.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.fileio import atomic_write
from seilearn.mtp.cfg import PLUS_STRESS_HEADER, plus_stress
from seilearn.selection.features import SelectionWeights, stack_rows
from seilearn.selection.maxvol import BUILD_THRESHOLD, EPS, MaxVolState, grades, maxvol
from seilearn.species import type_indices

MVS_MARKER = b"#MVS_v1.1"
_WEIGHT_KEYS = ("energy_weight", "force_weight", "stress_weight", "site_en_weight", "weight_scaling")
_NATIVE = "<f8" if sys.byteorder == "little" else ">f8"


@dataclass
class ActiveSet:
    """MaxVol active set with MLIP's bookkeeping (weights, row links, selected configurations)."""

    weights: SelectionWeights
    state: MaxVolState
    links: np.ndarray  # (n, 2): index into ``configurations`` and MLIP equation index; -1 -1 for eps rows
    configurations: list[Atoms] = field(default_factory=list)
    mtp_text: str | None = None
    cfg_text: str | None = None  # the configurations' text as read from a file (written back verbatim)
    species: list[str] | None = None  # chemical symbol of each MTP type
    seeded: int = 0  # rows of A that started from a parent active set (update_active_set); 0: built from eps I

    @property
    def mode(self) -> str:
        return self.weights.mode

    @property
    def A(self) -> np.ndarray:
        return self.state.A

    @property
    def A_inv(self) -> np.ndarray:
        return self.state.A_inv

    @property
    def n(self) -> int:
        return self.state.n

    @property
    def filled(self) -> int:
        """Rows of A taken from data (the rest are eps rows)."""
        return int((self.links[:, 0] >= 0).sum())

    def grade(self, potential, atoms: Atoms) -> tuple[float, np.ndarray]:
        """(configuration grade, per-row grades: per atom in nbh mode, one value in cfg mode)."""
        from seilearn.selection.features import rows_of

        self._check(potential)
        g = grades(rows_of(potential, atoms, self.weights), self.state.A_inv)
        return float(g.max()), g

    def _check(self, potential) -> None:
        if potential.n_params != self.n:
            raise InputError(f"the active set has {self.n} rows but the potential has {potential.n_params} "
                             "parameters; rebuild the active set for this potential")

    # -- persistence ----------------------------------------------------------------------------
    def to_bytes(self, mtp_text: str | None = None, species: Sequence[str] | None = None) -> bytes:
        """The ``.almtp`` file contents (MLIP-3 layout)."""
        text = mtp_text if mtp_text is not None else self.mtp_text
        if text is None:
            raise InputError("an .almtp needs the potential's .mtp text; pass mtp_text")
        out = [text.rstrip("\n").encode(), b"\n", MVS_MARKER, b"\n"]
        w = self.weights
        for key in _WEIGHT_KEYS[:4]:
            out.append(f"{key} {getattr(w, key):.16e}\n".encode())
        out.append(f"weight_scaling {int(w.weight_scaling)}\n#".encode())
        out.append(np.ascontiguousarray(self.state.A, dtype=_NATIVE).tobytes())
        out.append(np.ascontiguousarray(self.state.A_inv.T, dtype=_NATIVE).tobytes())  # MLIP stores inv(A)^T
        out.append(b"\n#\n")
        out.append("".join(f"{int(c)} {int(e)}\n" for c, e in self.links).encode())
        out.append(b"#\n")
        if self.cfg_text is not None:
            out.append(self.cfg_text.encode())
        else:
            sp = species if species is not None else self.species
            out.append("".join(_format_no_loss(a, self._selected_eqns(k), sp)
                               for k, a in enumerate(self.configurations)).encode())
        return b"".join(out)

    def _selected_eqns(self, k: int) -> list[int]:
        return sorted(int(e) for c, e in self.links if c == k)

    def write(self, path: str | os.PathLike, mtp_text: str | None = None,
              species: Sequence[str] | None = None) -> None:
        """Write the ``.almtp`` atomically."""
        data = self.to_bytes(mtp_text, species)
        with atomic_write(path, "wb") as handle:
            handle.write(data)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<almtp>", species: Sequence[str] | None = None) -> ActiveSet:
        """Parse an ``.almtp`` (raises InputError when it has no active set or is malformed)."""
        from seilearn.mtp.mtpfile import n_params, read_mtp

        mark = data.find(MVS_MARKER)
        if mark < 0:
            raise InputError(f"{name}: no active set (#MVS_v1.1 section); build one with `seilearn grade` "
                             "from the training set or with `mlp train`")
        mtp_text = data[:mark].decode("utf-8", errors="replace").rstrip("\n")
        n = n_params(read_mtp(mtp_text, name=name))
        pos = mark + len(MVS_MARKER) + 1
        values: dict[str, float] = {}
        for key in _WEIGHT_KEYS:
            end = data.find(b"\n", pos)
            parts = data[pos:end].decode(errors="replace").split()
            if len(parts) != 2 or parts[0] != key:
                raise InputError(f"{name}: malformed #MVS_v1.1 header (expected {key!r}, got "
                                 f"{' '.join(parts)!r}); the file is not an MLIP-3 .almtp")
            try:
                values[key] = float(parts[1])
            except ValueError:
                values[key] = float("nan")
            if not np.isfinite(values[key]):
                raise InputError(f"{name}: #MVS_v1.1 {key} {parts[1][:30]!r} is not a finite number; rebuild the "
                                 "active set (seilearn grade POT TRAIN.cfg ... --rebuild)")
            pos = end + 1
        weights = SelectionWeights(**{k: values[k] for k in _WEIGHT_KEYS[:4]},
                                   weight_scaling=int(values["weight_scaling"]))
        if data[pos:pos + 1] != b"#":
            raise InputError(f"{name}: malformed #MVS_v1.1 section (no '#' before the matrices)")
        start = pos + 1
        size = 8 * n * n
        if len(data) < start + 2 * size + 3 or data[start + 2 * size:start + 2 * size + 3] != b"\n#\n":
            raise InputError(f"{name}: the active-set matrices are not {n} x {n} float64 (truncated file, or a "
                             "potential with another parameter count)")
        A = np.frombuffer(data, _NATIVE, n * n, start).reshape(n, n).astype(float)
        A_inv = np.frombuffer(data, _NATIVE, n * n, start + size).reshape(n, n).T.astype(float)
        if not (np.isfinite(A).all() and np.isfinite(A_inv).all()):
            raise InputError(f"{name}: the active-set matrices hold nan or inf (a damaged file); rebuild the active "
                             "set (seilearn grade POT TRAIN.cfg ... --rebuild)")
        pos = start + 2 * size + 3
        end = data.find(b"#\n", pos)
        if end < 0:
            raise InputError(f"{name}: truncated active set (no end of the row links)")
        try:
            links = np.array([[int(x) for x in ln.split()] for ln in data[pos:end].decode().splitlines()],
                             dtype=np.int64).reshape(-1, 2)
        except ValueError as exc:
            raise InputError(f"{name}: malformed active-set row links ({exc})") from exc
        if len(links) != n:
            raise InputError(f"{name}: {len(links)} active-set row links for {n} rows")
        try:
            cfg_text = data[end + 2:].decode()
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: the selected configurations are not text ({exc.reason})") from exc
        configs = _parse_cfgs(cfg_text, species, name)
        if len(links) and (links.min() < -1 or links[:, 0].max() >= len(configs)):
            raise InputError(f"{name}: an active-set row refers to configuration {int(links[:, 0].max())} of "
                             f"{len(configs)} stored; rebuild the active set (seilearn grade ... --rebuild)")
        with np.errstate(divide="ignore"):
            log_det = float(np.linalg.slogdet(A)[1])
        state = MaxVolState(A=A, A_inv=A_inv, source=links[:, 0].copy(), log_abs_det=log_det)
        return cls(weights=weights, state=state, links=links, configurations=configs, mtp_text=mtp_text,
                   cfg_text=cfg_text, species=list(species) if species is not None else None)

    @classmethod
    def read(cls, path: str | os.PathLike, species: Sequence[str] | None = None) -> ActiveSet:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read active set {path}: {exc.strerror}") from exc
        return cls.from_bytes(data, str(path), species)


def has_active_set(path: str | os.PathLike) -> bool:
    """True when the file holds an #MVS_v1.1 section (an .almtp with an active set)."""
    with open(path, "rb") as handle:
        return MVS_MARKER in handle.read()


def _parse_cfgs(text: str, species, name: str) -> list[Atoms]:
    if not text.strip():
        return []
    from seilearn.mtp.cfg import parse_cfg

    return parse_cfg(text, species, f"{name}: selected configurations")


def _format_no_loss(atoms: Atoms, selected_eqns: list[int], species) -> str:
    """One configuration in MLIP's full-precision (SAVE_NO_LOSS) layout."""
    f = "{:.16e}".format
    types = type_indices(atoms, species, "active set configuration")
    out = ["BEGIN_CFG", " Size", f"    {len(atoms)}"]
    if atoms.pbc.any():
        out.append(" Supercell")
        out.extend("    " + " ".join(f(x) for x in v) for v in np.asarray(atoms.cell))
    res = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    forces, energy, stress = res.get("forces"), res.get("energy"), res.get("stress")
    head = " AtomData:  id type       cartes_x      cartes_y      cartes_z"
    if forces is not None:
        head += "           fx          fy          fz"
    out.append(head)
    pos = atoms.get_positions()
    for i in range(len(atoms)):
        row = f"    {i + 1} {types[i]} " + "".join(" " + f(x) for x in pos[i])
        if forces is not None:
            row += " " + "".join(" " + f(x) for x in forces[i])
        out.append(row)
    if energy is not None:
        out += [" Energy", "    " + f(float(energy))]
    if stress is not None and atoms.pbc.all():
        out += [PLUS_STRESS_HEADER, "    " + "".join(" " + f(x) for x in plus_stress(atoms, stress))]
    feats = {k: v for k, v in atoms.info.get("mlip_features", {}).items() if k != "selected_eqn_inds"}
    if selected_eqns:
        feats["selected_eqn_inds"] = ",".join(str(e) for e in selected_eqns)
    out.extend(f" Feature   {k}\t{v}" for k, v in feats.items())
    out.append("END_CFG\n\n")
    return "\n".join(out)


def build_active_set(potential, atoms_list: Sequence[Atoms], mode: str | SelectionWeights = "nbh",
                     threshold: float = BUILD_THRESHOLD, eps: float = EPS, max_swaps: int | None = None,
                     progress: bool = False) -> ActiveSet:
    """MaxVol over the training set's selection rows, starting from eps * I (MLIP's train/select)."""
    weights = mode if isinstance(mode, SelectionWeights) else SelectionWeights.for_mode(mode)
    _ = weights.mode  # the property validates the mode
    rows, owners, eqns = stack_rows(potential, atoms_list, weights, progress=progress)
    state = maxvol(MaxVolState.identity(potential.n_params, eps), rows, np.arange(len(rows)), threshold,
                   max_swaps=max_swaps, consume=True)
    return _from_state(potential, state, owners, eqns, list(atoms_list), weights)


def update_active_set(potential, atoms_list: Sequence[Atoms], parent: ActiveSet,
                      threshold: float = BUILD_THRESHOLD, eps: float = EPS, progress: bool = False) -> ActiveSet:
    """The active set of ``potential`` on ``atoms_list``, MaxVol started from ``parent``'s rows.

    After a warm retrain the parent's active rows (re-evaluated with the new potential) are almost a MaxVol set
    already, so a few swaps replace the hundreds of a build from eps * I. The result is the same kind of set:
    every row of ``atoms_list`` grades at most ``threshold`` against it. It need not be the set a build from
    eps * I (MLIP's ``mlp train``) reaches, as both are local maxima of |det A|. Falls back to
    :func:`build_active_set` when the parent cannot seed (other weights or parameter count, none of its
    configurations in ``atoms_list``, or a singular start).
    """
    weights = parent.weights
    if parent.n != potential.n_params:
        return build_active_set(potential, atoms_list, weights, threshold, eps, progress=progress)
    rows, owners, eqns = stack_rows(potential, atoms_list, weights, progress=progress)
    start = _parent_rows(parent, atoms_list, owners, eqns)
    state = _seeded_state(rows, start, parent, eps) if (start >= 0).any() else None
    if state is None:
        state = MaxVolState.identity(potential.n_params, eps)
    seeded = int((state.source >= 0).sum())
    state = maxvol(state, rows, np.arange(len(rows)), threshold, consume=True)
    aset = _from_state(potential, state, owners, eqns, list(atoms_list), weights)
    aset.seeded = seeded
    return aset


def _config_key(atoms: Atoms) -> bytes:
    """Identity of a configuration across a store round trip and an .almtp's full-precision text."""
    pos = np.round(np.asarray(atoms.positions, float), 8) + 0.0  # + 0.0: no -0.0
    cell = np.round(np.asarray(atoms.cell.array, float), 8) + 0.0
    return np.asarray(atoms.numbers, np.int64).tobytes() + pos.tobytes() + cell.tobytes()


def _parent_rows(parent: ActiveSet, atoms_list: Sequence[Atoms], owners: np.ndarray,
                 eqns: np.ndarray) -> np.ndarray:
    """Index into the stacked rows of each parent active-set row (-1: eps, or not in ``atoms_list``)."""
    where: dict[bytes, int] = {}
    for k, a in enumerate(atoms_list):
        where.setdefault(_config_key(a), k)
    in_list = [where.get(_config_key(a), -1) for a in parent.configurations]
    first = np.searchsorted(owners, np.arange(len(atoms_list)))  # stack_rows keeps each configuration's rows together
    last = np.searchsorted(owners, np.arange(len(atoms_list)), side="right")
    start = np.full(parent.n, -1, dtype=np.int64)
    for j, (c, e) in enumerate(parent.links):
        k = in_list[c] if c >= 0 else -1
        if k < 0:
            continue
        hit = np.flatnonzero(eqns[first[k]:last[k]] == e)
        if len(hit):
            start[j] = first[k] + hit[0]
    _, once = np.unique(start, return_index=True)  # a row twice would make A singular: later copies start as eps
    dup = np.ones(parent.n, bool)
    dup[once] = False
    start[dup & (start >= 0)] = -1
    return start


def _seeded_state(rows: np.ndarray, start: np.ndarray, parent: ActiveSet, eps: float) -> MaxVolState | None:
    """A from the given rows with its inverse; None when that A is numerically singular.

    Where ``start`` is -1, the parent's eps rows stay as they are (swaps move eps * e_i between rows of A), and the
    rows whose configuration is gone become eps * e_i for the i that best span what the other rows miss."""
    n = len(start)
    A = np.zeros((n, n))
    data = start >= 0
    A[data] = rows[start[data]]
    was_eps = parent.links[:, 0] < 0
    A[was_eps] = parent.A[was_eps]
    gone = np.flatnonzero(~data & ~was_eps)
    if len(gone):
        from scipy.linalg import qr

        missed = np.linalg.svd(np.delete(A, gone, axis=0))[2][n - len(gone):]  # null space of the other rows
        pivots = qr(missed, pivoting=True, mode="r")[1]  # the coordinates that carry it best
        A[gone, pivots[:len(gone)]] = eps
    sign, log_det = np.linalg.slogdet(A)
    if sign == 0 or not np.isfinite(log_det):
        return None
    try:
        A_inv = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        return None
    # eps rows beside O(100) data rows: the build from eps I holds A A^-1 = I to ~1e-5 (tests); much worse means
    # the parent's rows have become dependent under the new potential
    if not np.isfinite(A_inv).all() or np.abs(A @ A_inv - np.eye(n)).max() > 1e-3:
        return None
    return MaxVolState(A=A, A_inv=A_inv, source=start.copy(), log_abs_det=float(log_det))


def _from_state(potential, state: MaxVolState, owners: np.ndarray, eqns: np.ndarray, atoms_list: list[Atoms],
                weights: SelectionWeights) -> ActiveSet:
    """Turn row ids (indices into owners/eqns, -1 eps) into MLIP's links and selected configurations."""
    src = state.source
    used = sorted({int(owners[s]) for s in src if s >= 0})
    remap = {old: new for new, old in enumerate(used)}
    links = np.array([[remap[int(owners[s])], int(eqns[s])] if s >= 0 else [-1, -1] for s in src],
                     dtype=np.int64).reshape(-1, 2)
    state.source = links[:, 0].copy()
    from seilearn.mtp.mtpfile import to_text

    return ActiveSet(weights=weights, state=state, links=links, configurations=[atoms_list[i] for i in used],
                     mtp_text=to_text(potential.model), species=list(potential.species))
