import json

import pytest

from seilearn.errors import ConfigError
from seilearn.selection.schedule import ThresholdSchedule


def test_defaults_are_the_papers():
    s = ThresholdSchedule()
    assert s.save == 1.5 and s.breaks == (5.5, 4.5, 3.5, 2.5)
    assert s.thresholds() == (1.5, 5.5) and s.next_break == 4.5 and not s.finished


def test_stage_converges_after_k_quiet_iterations():
    s = ThresholdSchedule(breaks=(5.5, 2.5), converge_after=2)
    assert s.record(3) is False and s.quiet_iterations == 0
    assert s.record(0) is False and s.quiet_iterations == 1
    assert s.record(1) is False and s.quiet_iterations == 0  # a selection resets the count
    assert s.record(0) is False
    assert s.record(0) is True  # two consecutive quiet iterations: stage 5.5 converged
    assert s.current_break == 2.5 and s.next_break is None and s.quiet_iterations == 0
    s.record(0)
    assert s.record(0) is True and s.finished and s.current_break is None
    with pytest.raises(ConfigError, match="finished"):
        s.thresholds()
    with pytest.raises(ConfigError, match="finished"):
        s.record(0)
    assert [h["n_selected"] for h in s.history] == [3, 0, 1, 0, 0, 0, 0]


def test_round_trip_through_json():
    s = ThresholdSchedule.stepped(save=1.5, first=5.5, last=2.5, step=0.5, converge_after=3)
    assert s.breaks == (5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.5)
    s.record(0)
    back = ThresholdSchedule.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s and back.quiet_iterations == 1


def test_stepped_ends_at_last():
    assert ThresholdSchedule.stepped(first=5.5, last=2.0, step=1.0).breaks == (5.5, 4.5, 3.5, 2.5, 2.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"save": 3.0, "breaks": (5.5, 2.5)}, r"breaks\[1\] = 2.5 must be >= save"),
    ({"save": 0.5}, "save 0.5"),
    ({"breaks": ()}, "at least one"),
    ({"breaks": (2.5, 5.5)}, "must not increase"),
    ({"converge_after": 0}, "converge_after"),
    ({"stage": 9}, "stage 9"),
])
def test_validation(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ThresholdSchedule(**kwargs)


def test_from_dict_rejects_unknown_and_malformed():
    with pytest.raises(ConfigError, match="unknown key"):
        ThresholdSchedule.from_dict({"brakes": [5.5]})
    with pytest.raises(ConfigError, match="list of numbers"):
        ThresholdSchedule.from_dict({"breaks": "5.5"})
    with pytest.raises(ConfigError, match="malformed"):
        ThresholdSchedule.from_dict({"save": "high"})
    with pytest.raises(ConfigError, match="step"):
        ThresholdSchedule.stepped(step=0)
