"""The one model of the active-learning schedule: threshold stages, the exploration ladder, the decision rule."""

import pytest

from seilearn.errors import InputError
from seilearn.selection.schedule import Decision, ExplorationLadder, ThresholdSchedule, decide


def test_defaults_are_the_papers():
    s = ThresholdSchedule()
    assert s.save == 1.5 and s.breaks == (5.5, 4.5, 3.5, 2.5) and s.n_stages == 4
    assert s.break_at(0) == 5.5 and s.break_at(3) == 2.5
    with pytest.raises(IndexError):
        s.break_at(4)


def test_stepped_ends_at_last():
    assert ThresholdSchedule.stepped(first=5.5, last=2.0, step=1.0).breaks == (5.5, 4.5, 3.5, 2.5, 2.0)
    assert ThresholdSchedule.stepped(step=0.5).breaks == (5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.5)


@pytest.mark.parametrize("kwargs, key", [
    ({"save": 3.0, "breaks": (5.5, 2.5)}, "thresholds.breaks"),
    ({"save": 3.0, "breaks": (5.5, 3.0)}, "thresholds.breaks"),  # a break at the save threshold stops at once
    ({"save": 0.5}, "thresholds.save"),
    ({"save": float("nan")}, "thresholds.save"),
    ({"breaks": ()}, "thresholds.breaks"),
    ({"breaks": (2.5, 5.5)}, "thresholds.breaks"),
    ({"breaks": (5.5, float("inf"))}, "thresholds.breaks"),
    ({"converge_after": 0}, "thresholds.converge_after"),
])
def test_validation_names_the_key(kwargs, key):
    with pytest.raises(InputError, match=rf"^{key}:"):
        ThresholdSchedule(**kwargs)


def test_ladder_lengths_and_top_rung():
    lad = ExplorationLadder(factor=4, max_steps=1000)
    assert [lad.steps(40, r) for r in range(5)] == [40, 160, 640, 1000, 1000]
    assert lad.top_rung([40, 30]) == 3 and lad.top_rung([2000]) == 0
    assert ExplorationLadder(factor=2).top_rung([100]) == 0  # no max_steps: no ladder
    with pytest.raises(InputError, match="exploration_ladder.factor"):
        ExplorationLadder(factor=1)


S4 = ThresholdSchedule()


@pytest.mark.parametrize("history, it, stage, rung, n_sel, top, expected", [
    ([], 0, 0, 0, 3, 0, Decision("label", 0, 0)),
    ([], 0, 0, 0, 0, 0, Decision("next_stage", 1, 0)),
    ([], 3, 3, 0, 0, 0, Decision("converged", 3, 0)),
    ([], 3, 3, 0, 0, 2, Decision("next_rung", 3, 1)),
    ([], 4, 3, 1, 2, 2, Decision("label", 3, 1)),
    ([], 5, 3, 2, 0, 2, Decision("converged", 3, 2)),
    ([], 7, 0, 0, 2, 0, Decision("max_iterations", 0, 0)),
])
def test_decision_rule_k1(history, it, stage, rung, n_sel, top, expected):
    assert decide(S4, history, iteration=it, stage=stage, rung=rung, n_selected=n_sel, top_rung=top,
                  max_iterations=8) == expected


def test_decision_needs_k_consecutive_empty_iterations_on_the_same_rung():
    s = ThresholdSchedule(breaks=(5.5, 2.5), converge_after=3)
    kw = {"top_rung": 1, "max_iterations": 40}
    hist = [{"iteration": 0, "stage": 0, "n_selected": 5}, {"iteration": 1, "stage": 0, "n_selected": 0}]
    assert decide(s, hist, iteration=2, stage=0, rung=0, n_selected=0, **kw).action == "repeat"
    hist.append({"iteration": 2, "stage": 0, "n_selected": 0})
    assert decide(s, hist, iteration=3, stage=0, rung=0, n_selected=0, **kw) == Decision("next_stage", 1, 0)
    # a selection in between resets the count
    hist2 = [{"iteration": 0, "stage": 0, "n_selected": 0}, {"iteration": 1, "stage": 0, "n_selected": 1}]
    assert decide(s, hist2, iteration=2, stage=0, rung=0, n_selected=0, **kw).action == "repeat"
    # quiet iterations on a lower rung do not count for the next rung
    hist3 = [{"iteration": i, "stage": 1, "rung": 0, "n_selected": 0} for i in range(3)]
    assert decide(s, hist3, iteration=3, stage=1, rung=1, n_selected=0, **kw).action == "repeat"
    assert decide(s, hist3, iteration=2, stage=1, rung=0, n_selected=0, **kw) == Decision("next_rung", 1, 1)
