"""Exploration and production MD: break/save logic, non-physical stops, restart after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
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
    code = (
        "import sys; sys.path.insert(0, {repo!r});"
        "from ase.build import bulk; from ase.calculators.emt import EMT;"
        "from seilearn.md.production import run_production;"
        "P = type('P', (), {{'calculator': lambda self: EMT()}});"
        "run_production(bulk('Cu','fcc',a=3.6,cubic=True).repeat(3), P(), outdir={out!r}, steps=4000,"
        " temperature=300, dump_every=20, seed=3)"
    ).format(repo=os.getcwd(), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "checkpoint.json").exists():
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads((out / "checkpoint.json").read_text())
    assert 0 < state["step"] < 4000
    res = run_production(bulk("Cu", "fcc", a=3.6, cubic=True).repeat(3), _EMTPotential(), outdir=out, steps=4000,
                         temperature=300, dump_every=20, seed=3)
    assert res.status == "completed" and res.restarts == 1
    steps = [f.info["step"] for f in read(out / "trajectory.extxyz", index=":")]
    assert steps == list(range(0, 4001, 20))  # nothing duplicated, nothing lost
    assert np.all(np.diff([f.info["time_ps"] for f in read(out / "trajectory.extxyz", index=":")]) > 0)
