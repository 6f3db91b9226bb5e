"""Temperature/pressure schedules: parsing, values, errors that name the input and show a valid example."""

from __future__ import annotations

import pytest

from seilearn.errors import InputError
from seilearn.md.schedules import Schedule, ScheduleError, pressure_schedule, temperature_schedule


@pytest.mark.parametrize("spec, expected", [
    (300, [300, 300, 300]),
    (300.5, [300.5, 300.5, 300.5]),
    ("300", [300, 300, 300]),
    ("300:900", [300, 600, 900]),
    (" 300 : 900 ", [300, 600, 900]),
    ("300:900:300", [300, 900, 300]),
    ("300@0,600@0.5,600@1", [300, 600, 600]),
    ("600@0.5,900@1", [600, 600, 900]),              # held before the first point
    ("300@0,900@50step", [300, 900, 900]),           # an absolute step
    ([(0, 300), (1, 900)], [300, 600, 900]),
])
def test_values_at_start_middle_end(spec, expected):
    s = temperature_schedule(spec)
    s.check(100)
    assert [s.value(k, 100) for k in (0, 50, 100)] == pytest.approx(expected)


def test_interpolation_jumps_and_round_trip():
    s = temperature_schedule("300@0,300@0.5,600@0.5,900@1")
    assert [s.value(k, 100) for k in (0, 49, 50, 75, 100, 150)] == pytest.approx([300, 300, 600, 750, 900, 900])
    assert temperature_schedule(str(s)) == s and str(temperature_schedule(300.0)) == "300"
    assert temperature_schedule(300).is_constant and not s.is_constant
    assert temperature_schedule(s) is s
    assert pressure_schedule("-1000:1000").value(50, 100) == pytest.approx(0.0)  # negative pressures are allowed


@pytest.mark.parametrize("spec, words", [
    ("300:abc", "'abc' is not a number"),
    ("", "empty"),
    ("300@0,600@1.5", "fraction '1.5' is outside [0, 1]"),
    ("300@0,600@2000", "written 2000step"),
    ("300@x", "'x' is not a fraction"),
    ("300@0,600", "'600' is not VALUE@WHERE"),
    ("300@0,600@2.5step", "not a step count"),
    ("300@0:1", "mixes a ramp"),
    ("300@0.5,600@0.2", "in order"),
    ("-5", "-5 K is not positive"),
    ("300:0", "0 K is not positive"),
    ("nan", "not a finite number"),
    ([(0, 300), (2, 600)], "fraction 2 is outside"),
    ([(0, 300), (1, "hot")], "list of (fraction, value) pairs"),
    (True, "not a number"),
])
def test_errors_name_the_input_and_show_an_example(spec, words):
    with pytest.raises(ScheduleError) as exc:
        temperature_schedule(spec, "--temperature")
    msg = str(exc.value)
    assert msg.startswith("--temperature") and words in msg
    assert "300:600" in msg and "300@0,600@0.5,600@1" in msg  # a valid example
    assert isinstance(exc.value, InputError) and isinstance(exc.value, ValueError)


def test_step_points_are_checked_against_the_run_length():
    s = temperature_schedule("300@0,900@500step,900@1")
    s.check(1000)
    assert s.value(250, 1000) == pytest.approx(600)
    with pytest.raises(ScheduleError, match="not in order"):
        s.check(400)  # 500step lies after the end fraction (step 400)
    with pytest.raises(ScheduleError, match="after the last step"):
        temperature_schedule("300@0,900@500step").check(100)


def test_empty_schedule_is_refused():
    with pytest.raises(ScheduleError, match="at least one point"):
        Schedule([], "temperature")
