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


def test_status_of_unknown_campaign(settings):
    Store.open(settings)
    with pytest.raises(SeilearnError, match="no campaign 'nope'"):
        status(settings, "nope")


