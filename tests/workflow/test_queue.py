"""Queue submission through fake sbatch/squeue/qsub/qstat on PATH that record what they were given."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fireworks import Firework, ScriptTask

from seilearn.launchers.queue import TEMPLATES, our_jobs, submit
from seilearn.store import get_launchpad

FAKE_SBATCH = """#!/bin/bash
echo "$@" >> "{log}/sbatch.args"
cp "${{@: -1}}" "{log}/script.$(date +%s%N)"
echo "Submitted batch job $RANDOM"
"""
FAKE_SQUEUE = """#!/bin/bash
echo "$@" >> "{log}/squeue.args"
for a in "$@"; do if [ "$prev" = "--name" ]; then name="$a"; fi; prev="$a"; done
if [ "$name" = "sl-explore" ]; then printf 'PENDING\\nRUNNING\\n'; fi
"""
FAKE_QSUB = """#!/bin/bash
echo "$@" >> "{log}/qsub.args"
cp "${{@: -1}}" "{log}/pbs.$(date +%s%N)"
echo "1234.pbsserver"
"""
FAKE_QSTAT = """#!/bin/bash
echo "$@" >> "{log}/qstat.args"
cat <<'OUT'
Job Id: 11.server
    Job_Name = sl-dft
    Job_Owner = {user}@login1
    job_state = Q

Job Id: 12.server
    Job_Name = someone-elses-job
    Job_Owner = {user}@login1
    job_state = Q

Job Id: 13.server
    Job_Name = sl-dft
    Job_Owner = {user}@login1
    job_state = R
OUT
"""


@pytest.fixture
def fake_queue(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    logdir = tmp_path / "log"
    bindir.mkdir()
    logdir.mkdir()
    import getpass

    for name, text in (("sbatch", FAKE_SBATCH), ("squeue", FAKE_SQUEUE), ("qsub", FAKE_QSUB), ("qstat", FAKE_QSTAT)):
        f = bindir / name
        f.write_text(text.format(log=logdir, user=getpass.getuser()))
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return logdir


def test_counts_only_our_jobs(fake_queue):
    c = our_jobs("SLURM", "sl-explore")
    assert (c.queued, c.running) == (1, 1)
    assert "--name sl-explore" in (fake_queue / "squeue.args").read_text()
    c = our_jobs("PBS", "sl-dft")
    assert (c.queued, c.running) == (1, 1)  # the other job of the same user is not counted


def test_slurm_submission_respects_caps_and_ready_count(settings, fake_queue, tmp_path):
    lp = get_launchpad(settings)
    for i in range(5):
        lp.add_wf(Firework(ScriptTask.from_str("true"), spec={"_category": "explore"}, name=f"x{i}"))
    lp.add_wf(Firework(ScriptTask.from_str("true"), spec={"_category": "dft"}, name="d"))
    n = submit(lp, TEMPLATES / "fworker_explore.yaml", TEMPLATES / "qadapter_slurm_explore.yaml",
               max_queued=3, max_running=10, launch_dir=tmp_path / "blocks")
    assert n == 2  # 3 allowed queued, 1 already queued; 5 ready
    scripts = sorted(fake_queue.glob("script.*"))
    assert len(scripts) == 2
    text = scripts[0].read_text()
    assert "#SBATCH --job-name=sl-explore" in text and "#SBATCH --ntasks=1" in text
    assert f"seilearn rlaunch -w {(TEMPLATES / 'fworker_explore.yaml').resolve()} singleshot" in text
    assert "source ~/.seilearn/env.sh" in text
    assert submit(lp, TEMPLATES / "fworker_explore.yaml", TEMPLATES / "qadapter_slurm_explore.yaml",
                  max_queued=1, max_running=10, launch_dir=tmp_path / "blocks", dry_run=True) == 0


def test_pbs_submission(settings, fake_queue, tmp_path):
    lp = get_launchpad(settings)
    for i in range(4):
        lp.add_wf(Firework(ScriptTask.from_str("true"), spec={"_category": "dft"}, name=f"d{i}"))
    n = submit(lp, TEMPLATES / "fworker_dft.yaml", TEMPLATES / "qadapter_pbs_dft.yaml", max_queued=3,
               max_running=10, launch_dir=tmp_path / "blocks")
    assert n == 2
    script = sorted(fake_queue.glob("pbs.*"))[0].read_text()
    assert "#PBS -N sl-dft" in script and "seilearn rlaunch -w" in script


def test_every_template_loads():
    from fireworks import FWorker

    from seilearn.launchers.queue import load_qadapter

    for q in TEMPLATES.glob("qadapter_*.yaml"):
        qa = load_qadapter(q, TEMPLATES / "fworker_local.yaml")
        assert qa["job_name"].startswith("sl-") and "FWORKER_FILE" not in qa["rocket_launch"]
        assert qa.get_script_str(str(Path("/tmp"))).count("seilearn rlaunch") == 1
    for w in TEMPLATES.glob("fworker_*.yaml"):
        FWorker.from_file(str(w))
