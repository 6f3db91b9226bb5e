"""``Potential``: an MTP with its species list, evaluated by motep's compiled C engine.

motep stays behind this interface: the rest of seilearn asks a Potential for energies, forces,
stresses, per-atom energies and the parameter Jacobians that selection and training need.
Neighbour lists come from ``vesin`` (compiled) with a 0.3 A skin instead of motep's ASE list; motep's
per-call min-distance warning is dropped (``Potential.check_distances`` refuses short contacts where
that is wanted, e.g. ``seilearn mtp calc-efs``). Jacobian parameter order: moment coefficients,
species coefficients, radial coefficients (C-order of shape (species, species, radial funcs, basis)).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_numbers
from motep.potentials.mtp.cext import _mtp_cext
from motep.potentials.mtp.cext.engine import CExtMTPEngine
from vesin import NeighborList

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel, n_params

_SKIN = 0.3  # A; like motep's ASE list: rebuild only after an atom moved more than skin/2


def neighbour_pairs(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, shift vectors in A) of all ordered pairs closer than ``cutoff`` (vesin, compiled)."""
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.any() and atoms.cell.rank < 3:
        raise InputError("a periodic structure needs three cell vectors; set the cell or pbc=False")
    box = np.asarray(atoms.cell.array if pbc.any() else np.zeros((3, 3)), dtype=float)
    i, j, shifts = NeighborList(cutoff=float(cutoff), full_list=True).compute(
        np.asarray(atoms.positions, dtype=float), box, pbc if pbc.any() else False, quantities="ijS")
    return i, j, shifts @ box


class _VesinEngine(CExtMTPEngine):
    """motep's C engine with vesin's compiled neighbour list in place of ASE's (51 of 59 us/atom)."""

    def _initiate_neighbor_list(self, atoms: Atoms) -> None:
        cutoff = float(self.mtp_data.radial_basis.max) + _SKIN
        i, j, offsets = neighbour_pairs(atoms, cutoff)
        n = len(atoms)
        if i.size > 1 and np.any(i[1:] < i[:-1]):  # vesin usually returns pairs grouped by centre already
            order = np.argsort(i, kind="stable")
            i, j, offsets = i[order], j[order], offsets[order]
        counts = np.bincount(i, minlength=n)
        width = max(int(counts.max()) if counts.size else 0, 1)
        slot = np.arange(i.size) - np.repeat(np.cumsum(counts) - counts, counts)
        js = np.full((n, width), -1, dtype=np.int32)
        offs = np.zeros((n, width, 3))
        js[i, slot] = j
        offs[i, slot] = offsets
        self._neighbors, self._offsets = js, offs
        self._padding = js < 0
        self._ref = (atoms.positions.copy(), atoms.cell.array.copy(), atoms.pbc.copy())
        self.neighbor_list = True  # marks the list as built for motep's base class

    def update_neighbor_list(self, atoms: Atoms) -> bool:
        if "train" in self.mode:
            return super().update_neighbor_list(atoms)
        ref = getattr(self, "_ref", None)
        if ref is not None and ref[0].shape == atoms.positions.shape and np.array_equal(ref[1], atoms.cell.array) \
                and np.array_equal(ref[2], atoms.pbc):
            moved = np.max(np.sum((atoms.positions - ref[0]) ** 2, axis=1), initial=0.0)
            if moved <= (0.5 * _SKIN) ** 2:
                return False
        self._initiate_neighbor_list(atoms)
        return True

    def _types(self, atoms: Atoms) -> np.ndarray:
        key = atoms.numbers.tobytes()
        if getattr(self, "_types_key", None) != key:
            lookup = {int(z): t for t, z in enumerate(self.mtp_data.species)}
            self._itypes = np.array([lookup[int(z)] for z in atoms.numbers], dtype=np.int32)
            self._types_key = key
        return self._itypes

    def _calc_run(self, atoms: Atoms) -> tuple[np.ndarray, ...]:
        # motep's _calc_run, minus its per-call Python overhead (type lookup, min-distance warning, einsum);
        # the short-distance check is Potential.check_distances, called where a refusal is wanted
        js = self._neighbors
        pos = atoms.positions
        rij = getattr(self, "_rij", None)
        if rij is None or rij.shape != self._offsets.shape:
            rij = self._rij = np.empty_like(self._offsets)
        # in place into one buffer: three temporaries of (atoms x neighbours x 3) cost 0.4 ms at 416 atoms
        np.take(pos, js, axis=0, out=rij)
        np.add(rij, self._offsets, out=rij)
        np.subtract(rij, pos[:, None, :], out=rij)
        rij[self._padding] = self.mtp_data.radial_basis.max  # padding slots sit at the cutoff: no contribution
        itypes = self._types(atoms)
        self.mbd.clean()
        self.rbd.clean()
        energies, gradient = _mtp_cext.calc_run(js, rij, itypes, itypes[js], self.mtp_data, self.mbd)
        forces = _mtp_cext.calc_forces_from_gradient(gradient, js)
        stress = gradient.reshape(-1, 3).T @ rij.reshape(-1, 3)
        return energies, forces, stress


class Potential:
    """An MTP model plus the chemical species its type indices stand for."""

    def __init__(self, model: MTPModel, species: Sequence[str]) -> None:
        species = list(species)[: model.species_count] if len(species) >= model.species_count else list(species)
        if len(species) != model.species_count:
            raise InputError(f"the potential has {model.species_count} species but {len(species)} were given "
                             f"({species}); pass one chemical symbol per MTP type")
        for s in species:
            if s not in atomic_numbers:
                raise InputError(f"unknown species {s!r}")
        self.model = model
        self.species = species
        model.species = [atomic_numbers[s] for s in species]
        if model.species_coeffs is None or model.moment_coeffs is None or model.radial_coeffs is None:
            raise InputError("the potential is an untrained template (no coefficients); train it first")
        self._run_engine: CExtMTPEngine | None = None
        self._engine_key: tuple | None = None

    @property
    def cutoff(self) -> float:
        return float(self.model.radial_basis.max)

    @property
    def min_dist(self) -> float:
        return float(self.model.radial_basis.min)

    @property
    def n_params(self) -> int:
        return n_params(self.model)

    def check(self, atoms: Atoms, where: str = "structure") -> None:
        """Unknown species raise InputError naming them."""
        key = atoms.numbers.tobytes()
        if key == getattr(self, "_checked_numbers", None):
            return
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(self.species))
        if unknown:
            raise InputError(f"{where}: species {', '.join(unknown)} not in the potential's {self.species}")
        self._checked_numbers = key

    def calculate(self, atoms: Atoms) -> dict[str, np.ndarray]:
        """energy, energies, forces, stress (ASE units and Voigt order)."""
        self.check(atoms)
        key = (len(atoms), atoms.numbers.tobytes(), tuple(atoms.pbc))
        if self._run_engine is None or key != self._engine_key:
            # motep's engine keeps its neighbour list: a new system needs a new engine
            self._run_engine = _VesinEngine(self.model, mode="run")
            self._engine_key = key
        res = self._run_engine.calculate(atoms)
        return {k: np.array(v, copy=True) for k, v in res.items()}

    def check_distances(self, atoms: Atoms, where: str = "structure") -> None:
        """Atoms closer than the potential's min_dist raise InputError (MLIP refuses them too)."""
        i, j, offsets = neighbour_pairs(atoms, self.min_dist)
        if i.size:
            d = np.linalg.norm(atoms.positions[j] + offsets - atoms.positions[i], axis=1)
            k = int(np.argmin(d))
            raise InputError(f"{where}: atoms {int(i[k])} and {int(j[k])} are {d[k]:.3f} A apart, closer than the "
                             f"potential's min_dist {self.min_dist:.3f} A; remove or relax this configuration")

    def min_distance(self, atoms: Atoms) -> float | None:
        """Shortest interatomic distance within the cutoff (MLIP's ``mindist`` feature), None if no pair."""
        i, j, offsets = neighbour_pairs(atoms, self.model.radial_basis.max)
        if not i.size:
            return None
        return float(np.linalg.norm(atoms.positions[j] + offsets - atoms.positions[i], axis=1).min())

    def calculator(self) -> "MTPCalculator":
        return MTPCalculator(self)

    def _train_engine(self, atoms: Atoms) -> CExtMTPEngine:
        self.check(atoms)
        engine = _VesinEngine(self.model, mode="train")
        engine.calculate(atoms)
        return engine

    def energy_jacobian(self, atoms: Atoms) -> np.ndarray:
        """dE/dtheta, shape (n_params,), order: moment, species, radial coefficients."""
        engine = self._train_engine(atoms)
        jac = engine.jac_energy(atoms)
        return np.concatenate([np.ravel(jac.moment_coeffs), np.ravel(jac.species_coeffs),
                               np.ravel(jac.radial_coeffs)])

    def site_energy_jacobian(self, atoms: Atoms) -> np.ndarray:
        """dV_i/dtheta, shape (n_atoms, n_params), same parameter order as energy_jacobian."""
        engine = self._train_engine(atoms)
        jac = engine.jac_energies(atoms)
        n = len(atoms)
        radial = np.asarray(jac.radial_coeffs).reshape(-1, n)
        return np.concatenate([np.asarray(jac.moment_coeffs).reshape(-1, n), np.asarray(jac.species_coeffs),
                               radial], axis=0).T.copy()


class MTPCalculator(Calculator):
    """ASE calculator of a seilearn Potential."""

    implemented_properties = ("energy", "free_energy", "energies", "forces", "stress")

    def __init__(self, potential: Potential, **kwargs) -> None:
        super().__init__(**kwargs)
        self.potential = potential

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        """Exact comparison of what an MTP depends on (numbers, pbc, cell, positions): ASE's generic one
        (isclose over every array, charges and magnetic moments included) costs ~0.5 ms per call at
        416 atoms, a tenth of the evaluation."""
        old = self.atoms
        if old is None or len(old) != len(atoms) or not np.array_equal(old.numbers, atoms.numbers) \
                or not np.array_equal(old.pbc, atoms.pbc) or not np.array_equal(old.cell.array, atoms.cell.array):
            return super().check_state(atoms, tol)
        return [] if np.array_equal(old.positions, atoms.positions) else ["positions"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        res = self.potential.calculate(self.atoms)
        self.results = {"energy": float(res["energy"]), "free_energy": float(res["energy"]),
                        "energies": res["energies"], "forces": res["forces"]}
        if self.atoms.cell.rank == 3:
            self.results["stress"] = res["stress"]
