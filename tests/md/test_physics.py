"""Physics of the local engine with a trained MTP (tests/data/mlip3/li: a level-8 Li MTP, 54 atoms):
energy conservation in NVE and NPT reaching its target pressure."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.md.verlet import VelocityVerlet

from seilearn.md.integrators import BAR, init_velocities, make_dynamics


@pytest.fixture
def cell(golden):
    from seilearn.commands.selection import load_potential
    from seilearn.mtp.cfg import read_cfg

    d = golden / "li"
    pot, _ = load_potential(str(d / "pot.almtp"))
    atoms = read_cfg(d / "train.cfg", pot.species)[0]
    atoms.calc = pot.calculator()
    return atoms


def _nve_drift(atoms, ps: float) -> tuple[float, float]:
    """(peak-to-peak total energy, linear drift per ps), both eV/atom."""
    init_velocities(atoms, 300, 1)
    dyn = VelocityVerlet(atoms, 1.0 * units.fs)
    n = int(round(ps * 20))
    energies = []
    for _ in range(n):
        dyn.run(50)
        energies.append(atoms.get_total_energy() / len(atoms))
    return float(np.ptp(energies)), float(np.polyfit(np.arange(n) * 0.05, energies, 1)[0])


# bounds: measured 4e-6 eV/atom peak-to-peak and 8e-7 eV/atom/ps drift over 1 ps at 1 fs, 300 K
def test_nve_conserves_energy_1ps(cell):
    ptp, drift = _nve_drift(cell, 1.0)
    assert ptp < 1e-4 and abs(drift) < 1e-4


@pytest.mark.slow
def test_nve_conserves_energy_10ps(cell):
    ptp, drift = _nve_drift(cell, 10.0)
    assert ptp < 1e-3 and abs(drift) < 1e-5


@pytest.mark.slow
def test_npt_reaches_target_pressure(cell):
    target_bar = 5000.0
    dyn = make_dynamics(cell, "npt", 300, target_bar, 1.0)
    init_velocities(cell, 300, 2)
    dyn.run(4000)  # equilibrate (barostat period 1 ps)
    pressures = []
    for _ in range(200):
        dyn.run(20)
        p = -np.trace(cell.get_stress(voigt=False, include_ideal_gas=True)) / 3
        pressures.append(p / BAR)
    mean, sd = np.mean(pressures), np.std(pressures)
    # the mean of 200 samples of a fluctuating pressure: within 2 standard deviations of one sample
    # divided by sqrt(number of independent blocks, ~10 over 4 ps)
    assert abs(mean - target_bar) < 2 * sd / np.sqrt(10), (mean, sd)
