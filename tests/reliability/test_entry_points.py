"""Finding 1 of issue 15: concurrent `seilearn lpad|rlaunch|qlaunch` must not read a half-written settings file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seilearn.commands.fireworks_tools import launchpad_file

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "launchers" / "templates"

KINDS = {
    "lpad": ["lpad", "get_fws", "-d", "count"],
    "rlaunch": ["rlaunch", "singleshot"],
    "qlaunch": ["qlaunch", "-q", str(TEMPLATES / "qadapter_slurm_explore.yaml"),
                "-w", str(TEMPLATES / "fworker_explore.yaml"), "singleshot"],
}


def test_launchpad_file_is_written_once_and_private(settings):
    first = Path(launchpad_file())
    before = first.stat()
    assert before.st_mode & 0o777 == 0o600
    again = Path(launchpad_file())
    after = again.stat()
    # an unchanged file is not touched: no reader can ever see it truncated
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert "host:" in first.read_text()


def test_changed_settings_replace_the_file_atomically(settings, monkeypatch):
    path = Path(launchpad_file())
    inode = path.stat().st_ino
    monkeypatch.setenv("SEILEARN_DB_NAME", settings.db_name + "_other")
    launchpad_file()
    assert path.stat().st_ino != inode  # a new file renamed into place, never rewritten in place
    assert settings.db_name + "_other" in path.read_text()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def _rounds(settings, tmp_path, per_kind: int, rounds: int) -> list[str]:
    """Start ``per_kind`` commands of every kind at once, ``rounds`` times; returns the failures."""
    env = {**os.environ, "SEILEARN_HOME": str(settings.home), "OPENBLAS_NUM_THREADS": "1"}
    failures = []
    for r in range(rounds):
        # each round begins without the file (first-use race) or with it (the rewrite race)
        if r % 2 == 0:
            (settings.home / "my_launchpad.yaml").unlink(missing_ok=True)
        procs = []
        for kind, args in KINDS.items():
            for i in range(per_kind):
                wd = tmp_path / f"r{r}-{kind}-{i}"
                wd.mkdir()
                procs.append((kind, subprocess.Popen([sys.executable, "-m", "seilearn.cli", *args], cwd=wd, env=env,
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        for kind, p in procs:
            _, err = p.communicate(timeout=300)
            if p.returncode != 0:
                failures.append(f"round {r} {kind}: exit {p.returncode}: {err.strip()[-300:]}")
    return failures


def test_concurrent_entry_points_all_succeed(settings, tmp_path):
    failures = _rounds(settings, tmp_path, per_kind=6, rounds=1)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_sixteen_concurrent_entry_points_of_each_kind_ten_rounds(settings, tmp_path):
    failures = _rounds(settings, tmp_path, per_kind=16, rounds=10)
    assert not failures, f"{len(failures)} of {16 * len(KINDS) * 10} failed:\n" + "\n".join(failures[:10])
