"""Temperature/pressure schedules during MD (targets changed in place), the targets recorded with frames,
and the timestep fallback on a drift of the integrator's conserved energy (Cu with ASE's EMT)."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read
from ase.md.verlet import VelocityVerlet

from seilearn.md.exploration import explore, run_exploration
from seilearn.md.integrators import BAR, DriftMonitor, init_velocities, make_dynamics, retarget, targets
from seilearn.md.production import run_production


def cu():
    return bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)


def _emt_pot(cls=EMT):
    return type("P", (), {"calculator": lambda self: cls()})()


_ASET = type("A", (), {"grade": lambda self, p, a: (1.0, None)})()


def test_temperature_ramp_heats_the_run():
    temps = []

    def grader(a):
        temps.append(a.get_temperature())
        return 0.0

    res = explore(cu(), EMT(), grader, steps=600, temperature="300:900", ensemble="nvt", grade_every=5, seed=1)
    # the default drift bound holds over the ramp: the jumps of H at each retarget are not drift
    # (unaccounted they add up to ~0.12 eV/atom here)
    assert res.status == "completed" and res.steps_done == 600, res.reason
    first, last = np.mean(temps[:24]), np.mean(temps[-24:])
    # measured 118 K -> 812 K (a constant 300 K run: 117 K -> 334 K; the first part is the lattice taking
    # half the kinetic energy of the initial velocities)
    assert last > 600 and last > first + 400, (first, last)
    assert res.summary()["temperature_schedule_K"] == "300@0,900@1"


def test_preselected_frames_record_the_scheduled_targets():
    res = explore(cu(), EMT(), lambda a: 2.0, steps=40, temperature="300:700", pressure_bar="1:4001",
                  ensemble="npt", grade_every=10, threshold_save=1.5, threshold_break=5.5, seed=2)
    assert res.status == "completed"
    assert [f.info["md_step"] for f in res.preselected] == [10, 20, 30, 40]
    assert [f.info["temperature_K"] for f in res.preselected] == pytest.approx([400, 500, 600, 700])
    assert [f.info["pressure_bar"] for f in res.preselected] == pytest.approx([1001, 2001, 3001, 4001])
    assert all("temperature_inst_K" in f.info for f in res.preselected)


def test_plain_float_targets_still_work():
    res = explore(cu(), EMT(), lambda a: 2.0, steps=10, temperature=350.0, pressure_bar=2.0, ensemble="npt",
                  grade_every=10)
    f = res.preselected[0]
    assert f.info["temperature_K"] == 350.0 and f.info["pressure_bar"] == 2.0
    assert res.summary()["temperature_schedule_K"] == "350"


@pytest.mark.parametrize("ensemble", ["nvt", "npt"])
def test_retarget_changes_targets_and_keeps_the_chain_state(ensemble):
    atoms = cu()
    atoms.calc = EMT()
    init_velocities(atoms, 300, 1)
    dyn = make_dynamics(atoms, ensemble, 300, 1.0, 1.0)
    dyn.run(20)
    eta, p_eta = dyn._thermostat._eta.copy(), dyn._thermostat._p_eta.copy()
    Q = dyn._thermostat._Q.copy()
    assert np.any(eta != 0)
    retarget(dyn, 600, 5000)
    assert np.array_equal(dyn._thermostat._eta, eta) and np.array_equal(dyn._thermostat._p_eta, p_eta)
    assert np.array_equal(dyn._thermostat._Q, Q)
    assert dyn._thermostat._kT == pytest.approx(units.kB * 600)
    T, P = targets(dyn)
    assert T == pytest.approx(600)
    if ensemble == "npt":
        assert P == pytest.approx(5000) and dyn._pressure_au == pytest.approx(5000 * BAR)
        assert dyn._barostat._kT == dyn._kT == dyn._thermostat._kT and dyn._temperature_K == 600
    else:
        assert P is None
    dyn.run(5)  # still runs


def test_retarget_refuses_integrators_it_does_not_know():
    atoms = cu()
    atoms.calc = EMT()
    with pytest.raises(RuntimeError, match="unsupported integrator VelocityVerlet"):
        retarget(VelocityVerlet(atoms, units.fs), 300, 1.0)
    dyn = make_dynamics(atoms, "npt", 300, 1.0, 1.0)
    del dyn._pressure_au  # as if a newer ASE renamed it
    with pytest.raises(RuntimeError, match=r"has no _pressure_au.*ASE 3\.29"):
        retarget(dyn, 400, 1.0)
    dyn = make_dynamics(atoms, "nvt", 300, 1.0, 1.0)
    del dyn._thermostat._kT
    with pytest.raises(RuntimeError, match=r"has no _thermostat\._kT"):
        retarget(dyn, 400, None)


def test_drift_monitor_moves_its_reference_by_the_jump_of_a_retarget():
    atoms = cu()
    atoms.calc = EMT()
    init_velocities(atoms, 300, 1)
    dyn = make_dynamics(atoms, "nvt", 300, 1.0, 1.0)
    mon = DriftMonitor(dyn, 0.01)
    dyn.run(100)
    h = dyn.get_conserved_energy()
    assert mon.retarget(900, None) and not mon.retarget(900, None)
    assert abs(dyn.get_conserved_energy() - h) / len(atoms) > 0.01  # H itself jumps...
    assert mon.drift() < 1e-3 and mon.check() is None               # ...the monitor does not count it
    with pytest.raises(ValueError, match="must be positive"):
        DriftMonitor(dyn, 0.0)


class _EnergyJump(EMT):
    """EMT whose energy gains 0.002 eV/atom per evaluation after its 30th (forces and stress unchanged):
    a drift of the conserved energy with a sane-looking state."""

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > 30:
            offset = 0.002 * (self.calls - 30) * len(self.atoms)
            self.results["energy"] += offset
            self.results["free_energy"] += offset


def test_energy_drift_triggers_the_timestep_fallback_in_exploration():
    res = run_exploration(cu(), _emt_pot(_EnergyJump), _ASET, steps=100, temperature=300, ensemble="nvt",
                          grade_every=5, timestep_fs=1.0, min_timestep_fs=0.25)
    assert res.status == "unphysical"
    assert [h["timestep_fs"] for h in res.timestep_history] == [1.0, 0.5, 0.25]
    for h in res.timestep_history:
        assert h["status"] == "unphysical" and h["reason"].startswith("energy drift ")
        assert h["reason"].endswith("eV/atom above bound 0.01")
        assert 30 < h["steps_done"] <= 45  # caught at the first grading after the bound is passed
    # switched off, the same calculator runs to the end
    res = run_exploration(cu(), _emt_pot(_EnergyJump), _ASET, steps=100, temperature=300, ensemble="nvt",
                          grade_every=5, max_drift_ev_per_atom=None)
    assert res.status == "completed" and len(res.timestep_history) == 1


def test_a_normal_run_does_not_trigger_the_drift_fallback():
    res = run_exploration(cu(), _emt_pot(), _ASET, steps=200, temperature="300:600", pressure_bar="1:1000",
                          ensemble="npt", grade_every=10, max_drift_ev_per_atom=0.001)
    assert res.status == "completed" and res.timestep_history == [
        {"timestep_fs": 1.0, "status": "completed", "steps_done": 200, "reason": None}]


def test_energy_drift_triggers_the_timestep_fallback_in_production(tmp_path):
    res = run_production(cu(), _emt_pot(_EnergyJump), outdir=tmp_path, steps=100, temperature=300, dump_every=20,
                         seed=1, ensemble="nvt")
    reasons = [h.get("reason") for h in res.timestep_history[1:]]
    assert reasons and all(r.startswith("energy drift ") and r.endswith("above bound 0.01") for r in reasons)
    assert res.status.startswith("unphysical") and "energy drift" in res.status
    assert [h["timestep_fs"] for h in res.timestep_history] == [1.0, 0.5, 0.25, 0.125]


def test_production_follows_a_schedule_and_records_the_targets(tmp_path):
    res = run_production(cu(), _emt_pot(), outdir=tmp_path, steps=60, temperature="300:900", pressure_bar="1:601",
                         dump_every=20, seed=1, ensemble="npt")
    assert res.status == "completed" and len(res.timestep_history) == 1
    frames = read(tmp_path / "trajectory.extxyz", index=":")
    assert [f.info["step"] for f in frames] == [0, 20, 40, 60]
    assert [f.info["temperature_K"] for f in frames] == pytest.approx([300, 500, 700, 900])
    assert [f.info["pressure_bar"] for f in frames] == pytest.approx([1, 201, 401, 601])


class _Offset(EMT):
    """EMT with a constant energy offset of 1 eV/atom: a different zero of energy, no drift."""

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.results["energy"] += len(self.atoms)
        self.results["free_energy"] += len(self.atoms)


def test_drift_reference_starts_over_after_a_production_restart(tmp_path):
    res = run_production(cu(), _emt_pot(), outdir=tmp_path, steps=40, temperature=300, dump_every=20, seed=1,
                         ensemble="nvt")
    assert res.status == "completed"
    state = tmp_path / "checkpoint.json"
    state.write_text(state.read_text().replace('"step": 40', '"step": 20').replace('"time_fs": 40.0',
                                                                                   '"time_fs": 20.0'))
    # resumed with another zero of energy: H differs by 1 eV/atom from the first run's, which is no drift
    res = run_production(cu(), _emt_pot(_Offset), outdir=tmp_path, steps=40, temperature=300, dump_every=20,
                         seed=1, ensemble="nvt")
    assert res.status == "completed" and res.restarts == 1 and len(res.timestep_history) == 1
