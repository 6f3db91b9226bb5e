"""`seilearn explore`, `seilearn md produce` and `seilearn md decks` end to end with a trained MTP
(tests/data/mlip3/li: a level-8 Li MTP with the active set MLIP-3 built for it)."""

from __future__ import annotations

import json
import subprocess
import sys

from ase.io import read

from seilearn.mtp.cfg import read_cfg


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "seilearn.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_explore_writes_trajectory_preselected_and_summary(tmp_path, golden):
    d = golden / "li"
    r = _cli("explore", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", 300, "--pressure", 1,
             "--grade-every", 5, "--save", 0.8, "--break", 1.0, "--stage", 2, "--out", tmp_path / "ex",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "ex" / "summary.json").read_text())
    # its own training frame heated to 300 K leaves the active set's span: grade ~1.06 at step 15
    assert summary["status"] == "stopped_at_break" and summary["max_grade"] > 1.0
    assert summary["n_preselected"] == len(summary["grades"]) >= 1
    assert sum(summary["grade_histogram"]["counts"]) == len(summary["grades"])
    frames = read_cfg(tmp_path / "ex" / "preselected.cfg", ["Li"])
    assert len(frames) == summary["n_preselected"]
    text = (tmp_path / "ex" / "preselected.cfg").read_text()
    assert "Feature   stage\t2" in text and "Feature   MV_grade" in text and "EFS_by" not in text
    traj = read(tmp_path / "ex" / "trajectory.extxyz", index=":")
    assert [f.info["md_step"] for f in traj] == list(range(5, summary["steps_done"] + 1, 5))


def test_explore_without_active_set_is_a_one_line_error(tmp_path, golden):
    pot = tmp_path / "plain.mtp"
    data = (golden / "li" / "pot.almtp").read_bytes()
    pot.write_bytes(data[: data.index(b"#MVS")])  # the potential without its (binary) active set
    r = _cli("explore", "li", pot, "--steps", 2, "--temperature", 300, "--out", tmp_path / "ex", cwd=tmp_path)
    assert r.returncode == 2 and "--active-set" in r.stderr and "Traceback" not in r.stderr


def test_produce_and_decks(tmp_path, golden):
    d = golden / "li"
    r = _cli("md", "produce", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", 300,
             "--dump-every", 10, "--out", tmp_path / "prod", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    frames = read(tmp_path / "prod" / "trajectory.extxyz", index=":")
    assert [f.info["time_ps"] for f in frames] == [0.0, 0.01, 0.02]
    assert "completed: 20 steps, 0.02 ps, 3 frames" in r.stdout and "timestep" not in r.stdout
    r = _cli("md", "decks", "li", "pot.mtp", "--supercell", "2,2,2", "--out", tmp_path / "decks", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    runs = sorted(p.name for p in (tmp_path / "decks").iterdir())
    assert len(runs) == 12
    run_sh = (tmp_path / "decks" / runs[0] / "run.sh").read_text()
    assert "srun -n 64 lmp -in in.lammps" in run_sh
    assert (tmp_path / "decks" / runs[0] / "mlip.ini").exists()


def test_explore_and_produce_accept_schedules(tmp_path, golden):
    d = golden / "li"
    r = _cli("explore", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", "300:600", "--pressure",
             "1:1000", "--grade-every", 5, "--save", 0.5, "--break", 1e9, "--out", tmp_path / "ex", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "ex" / "summary.json").read_text())
    assert summary["temperature_schedule_K"] == "300@0,600@1" and summary["pressure_schedule_bar"] == "1@0,1000@1"
    text = (tmp_path / "ex" / "preselected.cfg").read_text()
    assert "Feature   temperature_K\t375" in text and "Feature   pressure_bar\t250.75" in text  # step 5 of 20
    r = _cli("md", "produce", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", "300@0,400@1",
             "--pressure", "1:1001", "--dump-every", 10, "--out", tmp_path / "prod", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    frames = read(tmp_path / "prod" / "trajectory.extxyz", index=":")
    assert [f.info["temperature_K"] for f in frames] == [300, 350, 400]
    assert [f.info["pressure_bar"] for f in frames] == [1, 501, 1001]


def test_a_bad_schedule_is_a_one_line_error(tmp_path, golden):
    d = golden / "li"
    r = _cli("explore", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", "300:hot",
             "--out", tmp_path / "ex", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--temperature '300:hot'" in r.stderr and "300@0,600@0.5,600@1" in r.stderr
    r = _cli("md", "produce", d / "train.cfg", d / "pot.almtp", "--steps", 20, "--temperature", 300,
             "--pressure", "1@0,1000@50step", "--out", tmp_path / "prod", cwd=tmp_path)
    assert r.returncode == 2 and "after the last step (20)" in r.stderr and "Traceback" not in r.stderr
