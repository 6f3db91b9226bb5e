"""Training-side MTP evaluation: energies, forces, virials and their parameter Jacobians in one compiled call.

Training evaluates the same fixed configurations hundreds of times with changing coefficients, so each
configuration's neighbour list (vesin, exact cutoff) is built once here and kept in CSR form; every
evaluation then runs ``seilearn.mtp._fitkernel`` (C, built by setup.py), which writes the energy row,
the 3N force rows and the 9 virial rows of the Jacobian in place. Parameter order is motep's (moment,
species, radial coefficients), the same as ``MTPModel.parameters``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel
from seilearn.mtp.potential import neighbour_pairs

try:
    from seilearn.mtp import _fitkernel
except ImportError as exc:  # pragma: no cover - only without a compiler at install time
    raise ImportError("seilearn.mtp._fitkernel is not built; reinstall with `pip install -e .` "
                      "(needs a C compiler) or run `python setup.py build_ext --inplace`") from exc


class ModelArrays:
    """The integer tables and sizes of an MTP, as the kernel wants them (fixed while training)."""

    def __init__(self, model: MTPModel) -> None:
        self.spc = int(model.species_count)
        self.rfc = int(model.radial_funcs_count)
        self.rbs = int(model.radial_basis.size)
        self.nasm = int(model.alpha_scalar_moments)
        self.aib = np.ascontiguousarray(model.alpha_index_basic, dtype=np.int32)
        self.ait = np.ascontiguousarray(model.alpha_index_times, dtype=np.int32).reshape(-1, 4)
        self.amap = np.ascontiguousarray(model.alpha_moment_mapping, dtype=np.int32)
        self.nam = int(model.alpha_moments_count)
        self.rmin = float(model.radial_basis.min)
        self.rmax = float(model.radial_basis.max)
        self.scaling = float(model.scaling) if model.scaling else 1.0
        self.n_par = self.nasm + self.spc + self.spc * self.spc * self.rfc * self.rbs
        if len(self.ait) and np.any(np.diff(self.ait[:, 3]) < 0):
            raise InputError("the potential's alpha_index_times is not ordered by target moment; "
                             "regenerate it with seilearn's templates")

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(moment, species, radial) coefficient arrays of a parameter vector, contiguous float64."""
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        a, s = self.nasm, self.spc
        return theta[:a], theta[a:a + s], theta[a + s:]


class ConfigKernel:
    """One configuration's fixed neighbour list and species types, evaluated for any parameter vector."""

    def __init__(self, atoms: Atoms, arrays: ModelArrays, species_numbers: list[int]) -> None:
        lookup = {int(z): t for t, z in enumerate(species_numbers)}
        self.arrays = arrays
        self.n_atoms = len(atoms)
        self.types = np.array([lookup[int(z)] for z in atoms.numbers], dtype=np.int32)
        i, j, shifts = neighbour_pairs(atoms, arrays.rmax)
        rs = atoms.positions[j] + shifts - atoms.positions[i]
        order = np.argsort(i, kind="stable")
        self.js = np.ascontiguousarray(j[order], dtype=np.int32)
        self.rs = np.ascontiguousarray(rs[order], dtype=np.float64)
        self.offsets = np.zeros(self.n_atoms + 1, dtype=np.int32)
        np.cumsum(np.bincount(i, minlength=self.n_atoms), out=self.offsets[1:])
        self.dims = np.array([self.n_atoms, arrays.rbs, arrays.spc, arrays.rfc, len(arrays.aib), len(arrays.ait),
                              arrays.nam, arrays.nasm], dtype=np.int32)
        self.counts = np.bincount(self.types, minlength=arrays.spc).astype(float)

    def evaluate(self, coeffs: tuple[np.ndarray, np.ndarray, np.ndarray], jac_e: np.ndarray | None = None,
                 jac_f: np.ndarray | None = None, jac_v: np.ndarray | None = None
                 ) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy, forces (N, 3), virial (3, 3) = sum_k dE/dr_k r_k^T); fills the zeroed Jacobian blocks
        ``jac_e`` (n_par,), ``jac_f`` (3N, n_par) and ``jac_v`` (9, n_par) when given (all three or none)."""
        ar = self.arrays
        moment, species, radial = coeffs
        energy = np.zeros(1)
        forces = np.zeros((self.n_atoms, 3))
        virial = np.zeros((3, 3))
        _fitkernel.evaluate(self.dims, ar.scaling, ar.rmin, ar.rmax, radial, species, moment, ar.aib, ar.ait,
                            ar.amap, self.types, self.offsets, self.js, self.rs, energy, forces, virial,
                            jac_e, jac_f, jac_v)
        return float(energy[0]), forces, virial
