"""``Potential``: an MTP with its species list, evaluated by motep's compiled C engine.

motep stays behind this interface: the rest of seilearn asks a Potential for energies, forces,
stresses, per-atom energies and the parameter Jacobians that selection and training need.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_numbers
from motep.potentials.mtp.cext.engine import CExtMTPEngine

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel, n_params


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
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(self.species))
        if unknown:
            raise InputError(f"{where}: species {', '.join(unknown)} not in the potential's {self.species}")

    def calculate(self, atoms: Atoms) -> dict[str, np.ndarray]:
        """energy, energies, forces, stress (ASE units and Voigt order)."""
        self.check(atoms)
        key = (len(atoms), atoms.numbers.tobytes(), tuple(atoms.pbc))
        if self._run_engine is None or key != self._engine_key:
            # motep's engine keeps its neighbour list: a new system needs a new engine
            self._run_engine = CExtMTPEngine(self.model, mode="run")
            self._engine_key = key
        res = self._run_engine.calculate(atoms)
        return {k: np.array(v, copy=True) for k, v in res.items()}

    def calculator(self) -> "MTPCalculator":
        return MTPCalculator(self)

    def _train_engine(self, atoms: Atoms) -> CExtMTPEngine:
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

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        res = self.potential.calculate(self.atoms)
        self.results = {"energy": float(res["energy"]), "free_energy": float(res["energy"]),
                        "energies": res["energies"], "forces": res["forces"]}
        if self.atoms.cell.rank == 3:
            self.results["stress"] = res["stress"]
