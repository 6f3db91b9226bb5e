"""``Potential``: an MTP with its species list, evaluated by seilearn's compiled, threaded kernel.

Energies, forces and stresses come from ``seilearn.mtp.kernel`` (C, OpenMP over atoms; its own cell-list
neighbour list with a 0.3 A skin, so an MD step that moved no atom by more than skin/2 reuses the list). The
parameter Jacobians that training uses still come from motep's engine, imported only when asked for. The
per-call min-distance refusal is ``Potential.check_distances`` (e.g. ``seilearn mtp calc-efs``). Jacobian
parameter order: moment coefficients, species coefficients, radial coefficients (C-order of shape
(species, species, radial funcs, basis)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.mtp import kernel
from seilearn.mtp.mtpfile import MTPModel, n_params

if TYPE_CHECKING:
    from motep.potentials.mtp.cext.engine import CExtMTPEngine

_SKIN = 0.3  # A: rebuild the list only after an atom moved more than skin/2


def neighbour_pairs(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, shift vectors in A) of all ordered pairs closer than ``cutoff`` (compiled cell lists)."""
    nl = kernel.neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    return nl.i, nl.j.astype(np.int64), nl.offsets


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
        self._nl: kernel.NeighbourList | None = None
        self._nl_key: tuple | None = None
        self._nl_positions: np.ndarray | None = None

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
        """energy, energies, forces, stress (ASE units and Voigt order; NaN without a 3-D cell)."""
        self.check(atoms)
        nl = self._neighbours(atoms)
        energies, forces, virial = kernel.efs(kernel.ModelArrays(self.model), atoms.positions, self._types(atoms),
                                              nl)
        if atoms.cell.rank == 3:
            sym = 0.5 * (virial + virial.T) / atoms.get_volume()
            stress = sym.flat[[0, 4, 8, 5, 2, 1]]
        else:
            stress = np.full(6, np.nan)
        return {"energy": float(energies.sum()), "energies": energies, "forces": forces, "stress": stress}

    def _neighbours(self, atoms: Atoms) -> kernel.NeighbourList:
        """The skin list of ``atoms``: reused while cell, pbc and numbers are the same and no atom moved more
        than skin/2 since it was built."""
        key = (len(atoms), atoms.numbers.tobytes(), atoms.pbc.tobytes(), atoms.cell.array.tobytes(), self.cutoff)
        if self._nl is not None and key == self._nl_key:
            moved = np.max(np.sum((atoms.positions - self._nl_positions) ** 2, axis=1), initial=0.0)
            if moved <= (0.5 * _SKIN) ** 2:
                return self._nl
        self._nl = kernel.neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, self.cutoff + _SKIN)
        self._nl_key = key
        self._nl_positions = atoms.positions.copy()
        return self._nl

    def _types(self, atoms: Atoms) -> np.ndarray:
        key = atoms.numbers.tobytes()
        if getattr(self, "_types_key", None) != key:
            lookup = np.full(max(int(atoms.numbers.max(initial=0)), max(self.model.species)) + 1, -1, dtype=np.int32)
            lookup[list(self.model.species)] = np.arange(len(self.model.species), dtype=np.int32)
            self._itypes = lookup[atoms.numbers]
            self._types_key = key
        return self._itypes

    def check_distances(self, atoms: Atoms, where: str = "structure") -> None:
        """Atoms closer than the potential's min_dist raise InputError (MLIP refuses them too)."""
        nl = self._neighbours(atoms)  # the evaluation's own list: min_dist < cutoff
        p, d = nl.shortest(atoms.positions)
        if p >= 0 and d < self.min_dist:
            i = int(np.searchsorted(nl.first, p, side="right")) - 1
            raise InputError(f"{where}: atoms {i} and {int(nl.j[p])} are {d:.3f} A apart, closer than the "
                             f"potential's min_dist {self.min_dist:.3f} A; remove or relax this configuration")

    def min_distance(self, atoms: Atoms) -> float | None:
        """Shortest interatomic distance within the cutoff (MLIP's ``mindist`` feature), None if no pair."""
        p, d = self._neighbours(atoms).shortest(atoms.positions)  # the skin list holds every pair within the cutoff
        return d if p >= 0 and d < self.cutoff else None

    def calculator(self) -> MTPCalculator:
        return MTPCalculator(self)

    def _train_engine(self, atoms: Atoms) -> CExtMTPEngine:
        # motep (and through it SciPy's sparse graphs) only where parameter Jacobians are needed
        from motep.potentials.mtp.cext.engine import CExtMTPEngine

        self.check(atoms)
        engine = CExtMTPEngine(self.model, mode="train")
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
