"""Thermostat/barostat choice and the physical-sanity checks shared by exploration and production."""

from __future__ import annotations

import numpy as np
from ase import Atoms, units
from ase.md.nose_hoover_chain import IsotropicMTKNPT, NoseHooverChainNVT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

BAR = 1e-4 * units.GPa


def make_dynamics(atoms: Atoms, ensemble: str, temperature: float, pressure_bar: float, timestep_fs: float):
    """Nose-Hoover chain NVT or isotropic MTK NPT (Nose-Hoover thermostat and barostat)."""
    dt = timestep_fs * units.fs
    if ensemble == "nvt":
        return NoseHooverChainNVT(atoms, timestep=dt, temperature_K=temperature, tdamp=100 * dt)
    if ensemble == "npt":
        return IsotropicMTKNPT(atoms, timestep=dt, temperature_K=temperature, pressure_au=pressure_bar * BAR,
                               tdamp=100 * dt, pdamp=1000 * dt)
    raise ValueError(f"ensemble {ensemble!r} must be nvt or npt")


def init_velocities(atoms: Atoms, temperature: float, seed: int) -> None:
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=np.random.default_rng(seed))
    Stationary(atoms)
    ZeroRotation(atoms)


def unphysical(atoms: Atoms, initial_volume: float, min_distance: float = 0.5) -> str | None:
    """Why the state is not physical (NaN, atoms too close, box collapse/explosion), or None."""
    pos = atoms.get_positions()
    if not np.all(np.isfinite(pos)):
        return "non-finite positions"
    calc = atoms.calc
    if calc is not None and "forces" in calc.results and not np.all(np.isfinite(calc.results["forces"])):
        return "non-finite forces"
    vol = atoms.get_volume() if atoms.cell.rank == 3 else None
    if vol is not None and not 0.5 * initial_volume < vol < 2.0 * initial_volume:
        return f"box volume {vol:.1f} A^3 left [0.5, 2] x the initial {initial_volume:.1f} A^3"
    from ase.neighborlist import neighbor_list

    d = neighbor_list("d", atoms, min_distance)
    if d.size:
        return f"atoms closer than {min_distance} A ({d.min():.3f} A)"
    return None
