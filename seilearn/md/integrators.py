"""Thermostat/barostat choice and the physical-sanity checks shared by exploration and production."""

from __future__ import annotations

import numpy as np
from ase import Atoms, units
from ase.md.nose_hoover_chain import MTKNPT, IsotropicMTKNPT, NoseHooverChainNVT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

BAR = 1e-4 * units.GPa
# steps between two updates of the thermostat/barostat targets when a schedule changes them
RETARGET_EVERY = 10
# default bound on |H - H_ref| / N of the integrator's conserved quantity before a state counts as unphysical
MAX_DRIFT_EV_PER_ATOM = 0.01


def make_dynamics(atoms: Atoms, ensemble: str, temperature: float, pressure_bar: float, timestep_fs: float):
    """Nose-Hoover chain NVT or isotropic MTK NPT (Nose-Hoover thermostat and barostat)."""
    dt = timestep_fs * units.fs
    if ensemble == "nvt":
        return NoseHooverChainNVT(atoms, timestep=dt, temperature_K=temperature, tdamp=100 * dt)
    if ensemble == "npt":
        return IsotropicMTKNPT(atoms, timestep=dt, temperature_K=temperature, pressure_au=pressure_bar * BAR,
                               tdamp=100 * dt, pdamp=1000 * dt)
    raise ValueError(f"ensemble {ensemble!r} must be nvt or npt")


def retarget(dyn, temperature_K: float, pressure_bar: float | None = None) -> None:
    """Set the thermostat (and barostat) targets of a running ``make_dynamics`` integrator in place, keeping
    its chain variables (no rebuild). The thermostat/barostat masses stay those of the starting temperature.
    ``pressure_bar`` is ignored by NVT. Relies on private attributes of ASE's Nose-Hoover/MTK classes
    (checked against ASE 3.29); a RuntimeError names the missing one if a newer ASE renamed them."""
    kT = units.kB * float(temperature_K)
    thermostat = getattr(dyn, "_thermostat", None)
    needed: list[tuple[object, str, str]] = [(thermostat, "_kT", "_thermostat._kT")]
    npt = isinstance(dyn, (IsotropicMTKNPT, MTKNPT))
    if npt:
        if pressure_bar is None:
            raise ValueError(f"retarget: {type(dyn).__name__} needs a pressure")
        needed += [(getattr(dyn, "_barostat", None), "_kT", "_barostat._kT"), (dyn, "_kT", "_kT"),
                   (dyn, "_temperature_K", "_temperature_K"), (dyn, "_pressure_au", "_pressure_au")]
    elif not isinstance(dyn, NoseHooverChainNVT):
        raise RuntimeError(f"retarget: unsupported integrator {type(dyn).__name__} (NoseHooverChainNVT or "
                           "IsotropicMTKNPT expected)")
    missing = [label for obj, attr, label in needed if obj is None or not hasattr(obj, attr)]
    if missing:
        import ase

        raise RuntimeError(f"retarget: {type(dyn).__name__} of ASE {ase.__version__} has no {', '.join(missing)}; "
                           "the schedules were written against ASE 3.29's nose_hoover_chain module: update "
                           "seilearn.md.integrators.retarget or pin ase==3.29")
    thermostat._kT = kT
    if npt:
        dyn._barostat._kT = kT
        dyn._kT = kT
        dyn._temperature_K = float(temperature_K)
        dyn._pressure_au = float(pressure_bar) * BAR


def targets(dyn) -> tuple[float, float | None]:
    """(temperature K, pressure bar or None for NVT) the integrator currently aims at."""
    T = dyn._thermostat._kT / units.kB
    return T, (dyn._pressure_au / BAR if hasattr(dyn, "_pressure_au") else None)


class DriftMonitor:
    """Watches the integrator's conserved quantity H (``dyn.get_conserved_energy()``): ``check()`` gives a
    reason when |H - H_ref| / N exceeds ``bound`` eV/atom (None: never). ``retarget`` changes the targets
    and moves H_ref by the jump this makes in H, so a schedule is not taken for drift; ``reset`` starts over
    from the current H (after a rebuild of the dynamics)."""

    def __init__(self, dyn, bound: float | None = MAX_DRIFT_EV_PER_ATOM):
        if bound is not None and not bound > 0:
            raise ValueError(f"max_drift_ev_per_atom {bound!r} must be positive (or None to switch it off)")
        self.dyn, self.bound = dyn, bound
        self.n = len(dyn.atoms)
        self.ref: float | None = None
        self.reset()

    def _h(self) -> float:
        return float(self.dyn.get_conserved_energy())

    def reset(self) -> None:
        self.ref = self._h() if self.bound is not None else None

    def retarget(self, temperature_K: float, pressure_bar: float | None) -> bool:
        """Set new targets when they differ from the current ones; True when they changed."""
        T, P = targets(self.dyn)
        if abs(T - temperature_K) < 1e-12 and (P is None or pressure_bar is None or abs(P - pressure_bar) < 1e-12):
            return False
        before = self._h() if self.ref is not None else 0.0
        retarget(self.dyn, temperature_K, pressure_bar)
        if self.ref is not None:
            self.ref += self._h() - before
        return True

    def drift(self) -> float:
        """|H - H_ref| / N in eV/atom (0 when switched off)."""
        return abs(self._h() - self.ref) / self.n if self.ref is not None else 0.0

    def check(self) -> str | None:
        if self.ref is None:
            return None
        d = self.drift()
        if not np.isfinite(d):
            return "non-finite conserved energy"
        if d > self.bound:
            return f"energy drift {d:.3g} eV/atom above bound {self.bound:g}"
        return None


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
