"""The active set: the MaxVol submatrix of the training set, its inverse, and the configurations
that own its rows. Serialised as an ``.npz`` (A, A^-1, sources, mode) plus the selected
configurations in extxyz, in one zip: exact, portable, and read back bit for bit."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.io import read, write

from seilearn.errors import InputError
from seilearn.selection.features import stack_rows
from seilearn.selection.maxvol import MaxVolState, grades, maxvol

BUILD_THRESHOLD = 1.001


@dataclass
class ActiveSet:
    mode: str
    state: MaxVolState
    configurations: list[Atoms] = field(default_factory=list)  # owners of non-eps rows

    @property
    def A_inv(self) -> np.ndarray:
        return self.state.A_inv

    def grade(self, potential, atoms: Atoms) -> tuple[float, np.ndarray]:
        """(configuration grade, per-atom grades in nbh mode or [grade] in cfg mode)."""
        from seilearn.selection.features import rows_of

        g = grades(rows_of(potential, atoms, self.mode), self.state.A_inv)
        return float(g.max()), g

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            arr = io.BytesIO()
            np.savez(arr, A=self.state.A, A_inv=self.state.A_inv, source=self.state.source,
                     log_abs_det=self.state.log_abs_det, mode=np.array(self.mode))
            z.writestr("active_set.npz", arr.getvalue())
            text = io.StringIO()
            clean = [Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
                     for a in self.configurations]
            write(text, clean, format="extxyz")
            z.writestr("configurations.extxyz", text.getvalue())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ActiveSet":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                npz = np.load(io.BytesIO(z.read("active_set.npz")))
                text = z.read("configurations.extxyz").decode()
        except (zipfile.BadZipFile, KeyError) as exc:
            raise InputError(f"not a seilearn active-set file ({exc})") from exc
        configs = read(io.StringIO(text), index=":", format="extxyz") if text.strip() else []
        state = MaxVolState(A=npz["A"], A_inv=npz["A_inv"], source=npz["source"],
                            log_abs_det=float(npz["log_abs_det"]))
        return cls(mode=str(npz["mode"]), state=state, configurations=list(configs))


def build_active_set(potential, atoms_list: list[Atoms], mode: str = "nbh",
                     threshold: float = BUILD_THRESHOLD) -> ActiveSet:
    """MaxVol over the training set's rows, starting from eps * I."""
    rows, owners = stack_rows(potential, atoms_list, mode)
    state = maxvol(MaxVolState.identity(potential.n_params), rows, owners, threshold)
    used = sorted({int(s) for s in state.source if s >= 0})
    remap = {old: new for new, old in enumerate(used)}
    state.source = np.array([remap.get(int(s), -1) for s in state.source])
    return ActiveSet(mode=mode, state=state, configurations=[atoms_list[i] for i in used])
