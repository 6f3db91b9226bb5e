"""Production grade watch: stop cleanly above the break threshold, keep the frames for learning, resume
from the checkpoint with another potential and record the switch; reruns repeat nothing."""

from __future__ import annotations

import json

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

from seilearn.md.production import run_production


class _EMTPotential:
    def calculator(self):
        return EMT()


def _cu():
    return bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)


def _grader(values):
    it = iter(values)
    return lambda atoms: (next(it), None)


def _run(out, grader, potential_id, **kw):
    return run_production(_cu(), _EMTPotential(), outdir=out, steps=100, temperature=300, dump_every=20, seed=2,
                          ensemble="nvt", grader=grader, grade_every=10, threshold_save=1.5, threshold_break=5.0,
                          potential_id=potential_id, **kw)


def test_break_stops_cleanly_and_keeps_frames_and_checkpoint(tmp_path):
    res = _run(tmp_path, _grader([1.0, 1.7, 1.2, 2.0, 1.0, 6.0]), "p1")
    assert res.status == "extrapolating"
    assert res.steps_done == 40  # the last checkpoint before the crossing at step 60
    ex = res.extrapolation
    assert ex["step"] == 60 and ex["grade"] == 6.0 and ex["potential_id"] == "p1" and ex["checkpoint_step"] == 40
    frames = read(ex["frames_file"], index=":")
    assert [f.info["step"] for f in frames] == [20, 40, 60] and {f.info["potential_id"] for f in frames} == {"p1"}
    assert [f.info["grade"] for f in frames] == [1.7, 2.0, 6.0]
    assert read(ex["snapshot_file"]).get_momenta().any()  # the last good state, velocities included
    assert [f.info["step"] for f in read(res.trajectory, index=":")] == [0, 20, 40]
    assert json.loads((tmp_path / "checkpoint.json").read_text())["extrapolation"]["step"] == 60

    # a rerun with the potential that extrapolated runs nothing again and reports the same stop
    again = _run(tmp_path, _grader([]), "p1")
    assert again.status == "extrapolating" and again.extrapolation == ex and again.steps_done == 40

    # resumed with a new potential: from the checkpoint, the switch recorded, nothing duplicated
    done = _run(tmp_path, _grader([1.0] * 6), "p2")
    assert done.status == "completed" and done.steps_done == 100
    traj = read(done.trajectory, index=":")
    assert [f.info["step"] for f in traj] == [0, 20, 40, 60, 80, 100]
    assert [f.info["potential_id"] for f in traj] == ["p1"] * 3 + ["p2"] * 3
    switch = done.potentials[-1]
    assert switch == {"from_step": 40, "potential_id": "p2", "previous_potential_id": "p1", "stopped_at_step": 60,
                      "grade": 6.0}
    assert done.summary()["potentials"][0] == {"from_step": 0, "potential_id": "p1"}
    # frames above save written after the checkpoint by the old potential were dropped from the running file;
    # the copy for learning keeps them
    assert [f.info["step"] for f in read(tmp_path / "preselected.extxyz", index=":")] == [20, 40]
    assert len(read(ex["frames_file"], index=":")) == 3


def test_crossing_before_the_first_checkpoint_restarts_from_the_start(tmp_path):
    res = _run(tmp_path, _grader([7.0]), "p1")
    assert res.status == "extrapolating" and res.steps_done == 0 and res.extrapolation["snapshot_file"] is None
    done = _run(tmp_path, _grader([1.0] * 10), "p2")
    assert done.status == "completed"
    assert [f.info["step"] for f in read(done.trajectory, index=":")] == [0, 20, 40, 60, 80, 100]


def test_without_a_grader_nothing_is_graded(tmp_path):
    res = run_production(_cu(), _EMTPotential(), outdir=tmp_path, steps=40, temperature=300, dump_every=20,
                         ensemble="nvt")
    assert res.status == "completed" and res.max_grade is None and not (tmp_path / "preselected.extxyz").exists()


def test_bad_watch_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="grade_every"):
        run_production(_cu(), _EMTPotential(), outdir=tmp_path, steps=10, temperature=300, grader=lambda a: 1.0,
                       grade_every=0)
    with pytest.raises(ValueError, match="threshold_break"):
        run_production(_cu(), _EMTPotential(), outdir=tmp_path, steps=10, temperature=300, grader=lambda a: 1.0,
                       threshold_save=2.0, threshold_break=1.5)


class _BlowsUp:
    """EMT that returns NaN forces from its ``after``-th evaluation on (an MTP far outside its training data)."""

    def __init__(self, after: int):
        self.after = after

    def calculator(self):
        after = self.after

        class _Calc(EMT):
            calls = 0

            def calculate(self, *args, **kwargs):
                super().calculate(*args, **kwargs)
                self.calls += 1
                if self.calls > after:
                    self.results["forces"] = self.results["forces"] * float("nan")

        return _Calc()


def test_watched_run_that_blows_up_between_checks_stops_for_learning(tmp_path):
    res = run_production(_cu(), _BlowsUp(30), outdir=tmp_path, steps=100, temperature=300, dump_every=20, seed=2,
                         ensemble="nvt", grader=_grader([1.0] * 10), grade_every=10, threshold_save=1.5,
                         threshold_break=5.0, potential_id="p1", learn_on_failure=True)
    assert res.status == "extrapolating" and res.steps_done == 20
    ex = res.extrapolation
    assert ex["grade"] is None and "non-finite" in ex["failure"] and ex["checkpoint_step"] == 20
    assert res.timestep_history == [{"from_step": 0, "timestep_fs": 1.0}]  # learning, not a smaller timestep
    assert read(ex["snapshot_file"]).get_momenta().any()
    # the potential learned from that failure fails again from the same checkpoint: only now is the timestep halved
    again = run_production(_cu(), _BlowsUp(3), outdir=tmp_path, steps=100, temperature=300, dump_every=20, seed=2,
                           ensemble="nvt", grader=_grader([1.0] * 10), grade_every=10, threshold_save=1.5,
                           threshold_break=5.0, potential_id="p2", learn_on_failure=True)
    assert again.status.startswith("unphysical at step") and again.extrapolation is None
    assert [(h["from_step"], h["timestep_fs"]) for h in again.timestep_history] == [
        (0, 1.0), (20, 0.5), (20, 0.25), (20, 0.125)]
    assert again.potentials[-1]["failure"] == ex["failure"] and again.potentials[-1]["previous_potential_id"] == "p1"


def test_new_potential_resumes_at_the_run_timestep(tmp_path):
    # p1 blows up unwatched-style (no learning on failure): halved to 0.5 fs, then its grade crosses the break
    res = run_production(_cu(), _BlowsUp(30), outdir=tmp_path, steps=100, temperature=300, dump_every=20, seed=2,
                         ensemble="nvt", grader=_grader([1.0, 1.0, 1.0, 1.0, 6.0]), grade_every=10,
                         threshold_save=1.5, threshold_break=5.0, potential_id="p1")
    assert res.status == "extrapolating" and res.timestep_fs == 0.5
    done = _run(tmp_path, _grader([1.0] * 20), "p2")
    assert done.status == "completed" and done.timestep_fs == 1.0
    assert done.timestep_history[-1] == {"from_step": res.steps_done, "timestep_fs": 1.0, "reason": "new potential p2"}
    # the simulated time counts each stretch at its own timestep
    assert res.time_ps == pytest.approx(res.steps_done * 1.0 / 1000)  # the halved stretch was never checkpointed
    assert done.time_ps == pytest.approx(res.time_ps + (100 - res.steps_done) * 1.0 / 1000)
