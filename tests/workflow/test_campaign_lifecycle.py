"""Campaign create/status/pause/resume against the real server, without running any science."""

from __future__ import annotations

from pathlib import Path

import pytest

from seilearn.cli import main
from seilearn.errors import SeilearnError
from seilearn.store import Store, get_launchpad
from seilearn.workflows.campaign import create_campaign, pause, resume, status
from seilearn.workflows.spec import load_spec

SPEC = Path(__file__).with_name("tiny_campaign.yaml")


def test_create_is_idempotent_and_pause_resume(settings, capsys):
    spec = load_spec(SPEC)
    cid, created = create_campaign(settings, spec)
    assert (cid, created) == ("tiny", True)
    assert create_campaign(settings, spec) == ("tiny", False)  # a rerun of the main job resumes, adds nothing
    lp = get_launchpad(settings)
    assert lp.fireworks.count_documents({"spec._seilearn.campaign_id": "tiny"}) == 1
    assert pause(settings, "tiny") == 1
    assert lp.fireworks.find_one({"spec._seilearn.key": "seed"})["state"] == "PAUSED"
    assert Store.open(settings).get_campaign("tiny")["state"] == "paused"
    assert resume(settings, "tiny") == 1
    assert lp.fireworks.find_one({"spec._seilearn.key": "seed"})["state"] == "READY"
    assert main(["campaign", "status", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "campaign tiny" in out and "break threshold 5.5" in out and "READY 1" in out
    spec.max_iterations = 99
    with pytest.raises(SeilearnError, match="different spec"):
        create_campaign(settings, spec)
    # after `campaign extend`, running the same spec file again resumes the extended campaign
    from seilearn.workflows.campaign import extend

    assert "max_iterations raised" in extend(settings, "tiny", 5)
    assert create_campaign(settings, load_spec(SPEC)) == ("tiny", False)


def test_status_of_unknown_campaign(settings):
    Store.open(settings)
    with pytest.raises(SeilearnError, match="no campaign 'nope'"):
        status(settings, "nope")




@pytest.mark.parametrize("argv", [["campaign", "status"], ["campaign", "status", "--json"]])
def test_first_contact_on_a_fresh_store(settings, capsys, argv):
    """A new user's first read command: a hint and exit 0, not an error about the database."""
    from seilearn.cli import main

    assert main(argv) == 0
    out = capsys.readouterr()
    assert "no campaigns yet" in out.out and "seilearn campaign" in out.out and not out.err


def test_first_contact_after_db_init(settings, capsys):
    from seilearn.cli import main

    Store.open(settings)
    assert main(["campaign", "status"]) == 0
    assert "no campaigns yet" in capsys.readouterr().out


def test_no_debug_lines_by_default(settings, tmp_path):
    """FireWorks' DEBUG 'Updating indices' must not reach the terminal unless -v."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    spec = Path(__file__).with_name("tiny_campaign.yaml")
    exe = Path(sys.executable).with_name("seilearn")
    env = {**os.environ}
    quiet = subprocess.run([str(exe), "campaign", "create", str(spec)], capture_output=True, text=True, env=env,
                           timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert "DEBUG" not in quiet.stdout + quiet.stderr
