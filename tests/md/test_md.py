"""Exploration and production MD: break/save logic, non-physical stops, restart after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

from seilearn.md.exploration import explore
from seilearn.md.production import run_production


def cu():
    return bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)


def test_save_and_break_with_a_controlled_grader():
    values = iter([1.2, 1.7, 2.5, 6.0, 9.0])
    res = explore(cu(), EMT(), lambda a: next(values), steps=100, temperature=300, ensemble="nvt", grade_every=5,
                  threshold_save=1.5, threshold_break=5.5, seed=1, frame_info={"stage": 2})
    assert res.status == "stopped_at_break" and res.steps_done == 20
    assert [f.info["grade"] for f in res.preselected] == [1.7, 2.5, 6.0]
    assert [f.info["md_step"] for f in res.preselected] == [10, 15, 20]
    assert res.preselected[0].info["stage"] == 2 and res.preselected[0].info["temperature_K"] == 300
    assert res.summary()["grades"] == [1.2, 1.7, 2.5, 6.0]


def test_quiet_run_completes_and_npt_runs():
    res = explore(cu(), EMT(), lambda a: 1.0, steps=30, temperature=300, pressure_bar=1.0, ensemble="npt",
                  grade_every=10)
    assert res.status == "completed" and res.steps_done == 30 and not res.preselected


def test_unphysical_state_stops_cleanly():
    atoms = cu()
    atoms.positions[1] = atoms.positions[0] + [0.1, 0, 0]  # two atoms on top of each other
    res = explore(atoms, EMT(), None, steps=10, temperature=300, ensemble="nvt", grade_every=1)
    assert res.status == "unphysical" and "closer than" in res.reason


class _EMTPotential:
    def calculator(self):
        return EMT()


def test_production_resumes_after_kill(tmp_path):
    out = tmp_path / "prod"
    steps, every = 600, 20
    code = (
        f"import sys; sys.path.insert(0, {os.getcwd()!r});"
        "from ase.build import bulk; from ase.calculators.emt import EMT;"
        "from seilearn.md.production import run_production;"
        "P = type('P', (), {'calculator': lambda self: EMT()});"
        f"run_production(bulk('Cu','fcc',a=3.6,cubic=True).repeat(2), P(), outdir={str(out)!r}, steps={steps},"
        f" temperature=300, dump_every={every}, seed=3)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    state_file = out / "checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        # kill between checkpoints, once a few exist (a partially written frame may follow the last one)
        if state_file.exists() and json.loads(state_file.read_text() or "{}").get("step", 0) >= 100:
            time.sleep(0.01)
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads(state_file.read_text())
    assert 100 <= state["step"] < steps
    res = run_production(bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2), _EMTPotential(), outdir=out, steps=steps,
                         temperature=300, dump_every=every, seed=3)
    assert res.status == "completed" and res.restarts == 1
    frames = read(out / "trajectory.extxyz", index=":")
    assert [f.info["step"] for f in frames] == list(range(0, steps + 1, every))  # nothing duplicated or lost
    assert np.all(np.diff([f.info["time_ps"] for f in frames]) > 0)


class _NaNAfter(EMT):
    """EMT that returns NaN forces from its 6th evaluation on (a blow-up the driver must catch)."""

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > 5:
            self.results["forces"] = self.results["forces"] * np.nan


def test_unstable_run_is_retried_at_half_the_timestep():
    from seilearn.md.exploration import run_exploration

    pot = type("P", (), {"calculator": lambda self: _NaNAfter()})()
    aset = type("A", (), {"grade": lambda self, p, a: (1.0, None)})()
    res = run_exploration(cu(), pot, aset, steps=50, temperature=300, ensemble="nvt", grade_every=1,
                          timestep_fs=1.0, min_timestep_fs=0.25)
    assert res.status == "unphysical" and "non-finite" in res.reason
    assert [h["timestep_fs"] for h in res.timestep_history] == [1.0, 0.5, 0.25]
    assert res.timestep_fs == 0.25 and res.summary()["timestep_history"][0]["status"] == "unphysical"


def test_production_halves_the_timestep_when_unstable(tmp_path):
    pot = type("P", (), {"calculator": lambda self: _NaNAfter()})()
    res = run_production(cu(), pot, outdir=tmp_path, steps=20, temperature=300, dump_every=10, seed=1,
                         ensemble="nvt")
    assert res.status.startswith("unphysical") and "non-finite" in res.status
    assert [h["timestep_fs"] for h in res.timestep_history] == [1.0, 0.5, 0.25, 0.125]
