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
