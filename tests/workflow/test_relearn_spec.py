"""Spec keys of self-healing production and validation: defaults, and one clear error per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from seilearn.errors import InputError
from seilearn.workflows.spec import PRODUCTION_BREAK, PRODUCTION_GRADE_EVERY, CampaignSpec

TINY = yaml.safe_load(Path(__file__).with_name("tiny_campaign.yaml").read_text())


def _spec(production=None, **top):
    data = {**TINY, **top}
    data["production"] = {**TINY["production"], **(production or {})}
    return CampaignSpec.from_dict(data, "spec")


def test_defaults_watch_local_production_and_validate_twenty_frames():
    spec = _spec()
    assert spec.production_watch == (PRODUCTION_GRADE_EVERY, PRODUCTION_BREAK) == (100, 10.0)
    assert spec.production.max_relearn == 3 and spec.validation.frames == 20
    assert _spec({"grade_every": 10, "threshold_break": 4.0}).production_watch == (10, 4.0)
    assert CampaignSpec.from_dict(spec.to_dict()).production_watch == spec.production_watch


@pytest.mark.parametrize("production, top, message", [
    ({"threshold_break": 1.2}, {}, "production.threshold_break: 1.2 must be above thresholds.save 1.5"),
    ({"grade_every": 0}, {}, "production.grade_every: 0 must be an integer from 1"),
    ({"max_relearn": -1}, {}, "production.max_relearn: -1 must be an integer from 0"),
    ({"engine": "lammps", "grade_every": 10}, {}, "production.grade_every: the grade watch of production runs with "
                                                  "engine: local only"),
    ({}, {"validation": {"frames": -2}}, "validation.frames: -2 must be an integer from 0"),
    ({}, {"validation": {"n": 5}}, "validation.n: unknown key; known: frames"),
])
def test_bad_values_name_the_key(production, top, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        _spec(production, **top)


def test_lammps_production_has_no_watch():
    spec = _spec({"engine": "lammps"})
    assert spec.production_watch is None


def test_relearning_episode_explores_with_every_replica():
    """An episode runs the interface task's replicas from the checkpoint, each its own firework and run id (the
    first keeps the single-run id, so an episode begun before replicas existed reruns as it was), at the last
    stage's thresholds; the selection pools all of them."""
    from seilearn.workflows.spec import production_runs
    from seilearn.workflows.tasks.relearn import relearn_exploration, relearn_workflow

    data = {**TINY, "production": {**TINY["production"], "threshold_break": 7.0}}
    data["exploration"] = [{**task, "replicas": 3} for task in TINY["exploration"]]
    spec = CampaignSpec.from_dict(data, "spec")
    run = production_runs(spec)[0]
    xrun = relearn_exploration(spec, run, "/tmp/snap.extxyz", 40)
    wf = relearn_workflow(spec, "c", run, 1, 9, "c-p008", xrun, {"threshold_break": 7.0, "frames_file": None})
    explores = [t for fw in wf.fws for t in fw.tasks if "run_id" in t and "stage" in t and "run" in t]
    assert [t["run_id"] for t in explores] == [f"c-{run.name}-r1-x0{k}".replace(".", "_") for k in range(3)]
    assert {t["stage"] for t in explores} == {spec.thresholds.n_stages - 1}
    assert [t["run"]["replica"] for t in explores] == [0, 1, 2]
    select = [t for fw in wf.fws for t in fw.tasks if "run_ids" in t][0]
    assert select["run_ids"] == [t["run_id"] for t in explores]
    assert len(wf.links) == 4 and all(wf.links[fw.fw_id] for fw in wf.fws if "explore" in fw.name)
