"""``run_erlang``: the pure function behind ``frontdesk erlang``."""

import json
import math

import pytest

from frontdesk.science.cli_erlang import run_erlang
from frontdesk.science.erlang import agents_needed, erlang_a


def test_sizes_for_default_service_level():
    output = run_erlang(200, 3, None, 20)
    assert output["model"] == "erlang_c"
    assert output["agents"] == agents_needed(arrivals_per_hour=200, service_seconds=180, target_seconds=20)
    achieved = output["service_level"]
    assert isinstance(achieved, float)
    assert achieved >= 0.8
    assert output["service_level_target"] == 0.8
    assert output["meets_service_level"] is True
    assert output["traffic_erlangs"] == pytest.approx(10.0)
    json.dumps(output, allow_nan=False)


def test_evaluates_given_agents_with_reference_values():
    output = run_erlang(200, 3, 14, 20)
    assert output["agents"] == 14
    assert output["probability_waiting"] == pytest.approx(0.1741319, abs=1e-6)
    assert output["service_level"] == pytest.approx(0.8883500, abs=1e-6)
    assert output["average_wait_seconds"] == pytest.approx(7.8359, abs=1e-4)
    assert output["occupancy"] == pytest.approx(10 / 14)
    assert output["stable"] is True


def test_unstable_queue_is_json_safe():
    output = run_erlang(200, 3, 9, 20)
    assert output["stable"] is False
    assert output["average_wait_seconds"] is None
    assert output["meets_service_level"] is False
    json.dumps(output, allow_nan=False)


def test_erlang_a_with_patience_and_explicit_level():
    output = run_erlang(200, 3, None, 20, 5, 0.9)
    assert output["model"] == "erlang_a"
    expected = agents_needed(
        arrivals_per_hour=200, service_seconds=180, target_seconds=20, service_level=0.9, patience_seconds=300
    )
    assert output["agents"] == expected
    reference = erlang_a(
        arrivals_per_hour=200, service_seconds=180, agents=expected, target_seconds=20, patience_seconds=300
    )
    assert output["abandonment_probability"] == reference.probability_abandoning
    assert output["service_level"] == reference.service_level
    assert reference.service_level >= 0.9
    assert output["patience_minutes"] == 5.0


def test_keyword_call_and_target_check_for_given_agents():
    output = run_erlang(
        arrivals_per_hour=30, service_minutes=10, agents=6, target_seconds=600, service_level=0.95
    )
    assert output["service_level_target"] == 0.95
    achieved = output["service_level"]
    assert isinstance(achieved, float)
    assert output["meets_service_level"] == (achieved >= 0.95)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((200, 0, None, 20), "service_minutes"),
        ((200, math.nan, None, 20), "service_minutes"),
        ((-5, 3, None, 20), "arrivals_per_hour"),
        ((200, 3, -1, 20), "agents"),
        ((200, 3, None, -20), "target_seconds"),
        ((200, 3, None, 20, 0), "patience_minutes"),
        ((200, 3, None, 20, None, 1.0), "service_level"),
    ],
)
def test_invalid_input(arguments, message):
    with pytest.raises(ValueError, match=message):
        run_erlang(*arguments)
