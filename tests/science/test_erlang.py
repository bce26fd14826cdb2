"""Erlang B/C: published reference values, exact rational arithmetic, exhaustive staffing search."""

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.science.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    erlang_c_probability,
    halfin_whitt_delay_probability,
    occupancy,
    offered_traffic,
    service_level,
    square_root_staffing,
)

# 3600 s / 180 s = 20 arrivals per hour per Erlang.
PER_ERLANG = 20.0


def _exact_erlang_c(traffic: Fraction, servers: int) -> Fraction:
    """Textbook factorial formula in exact rational arithmetic: an independent reference."""
    head = sum(traffic**k / math.factorial(k) for k in range(servers))
    tail = traffic**servers / math.factorial(servers) * servers / (servers - traffic)
    return tail / (head + tail)


def _exact_erlang_b(traffic: Fraction, servers: int) -> Fraction:
    top = traffic**servers / math.factorial(servers)
    return top / sum(traffic**k / math.factorial(k) for k in range(servers + 1))


def test_published_reference_ten_erlangs_fourteen_agents():
    # "10 Erlangs, 14 agents, 20-second target: P(wait) 0.1741319, service level 0.8883500, ASA 7.8359 s".
    # ASA = P(wait)·AHT/(n - A) = 7.8359 s with n - A = 4 gives AHT = 180 s, hence 200 arrivals/hour.
    result = erlang_c(arrivals_per_hour=200, service_seconds=180, agents=14, target_seconds=20)
    assert result.traffic_erlangs == pytest.approx(10.0, abs=1e-12)
    assert result.probability_waiting == pytest.approx(0.1741319, abs=1e-6)
    assert result.service_level == pytest.approx(0.8883500, abs=1e-6)
    assert result.average_wait_seconds == pytest.approx(7.8359, abs=1e-4)
    assert result.occupancy == pytest.approx(10 / 14, abs=1e-12)
    assert result.stable


def test_convenience_functions_agree_with_result():
    kwargs: dict[str, Any] = {"arrivals_per_hour": 200.0, "service_seconds": 180.0, "agents": 14}
    result = erlang_c(**kwargs, target_seconds=20)
    assert service_level(**kwargs, target_seconds=20) == result.service_level
    assert average_speed_of_answer(**kwargs) == result.average_wait_seconds
    assert occupancy(**kwargs) == result.occupancy
    assert erlang_c_probability(10.0, 14) == result.probability_waiting
    assert offered_traffic(200, 180) == pytest.approx(10.0)


@pytest.mark.parametrize("servers", [1, 2, 3, 5, 8, 13, 21, 34])
@pytest.mark.parametrize(
    "traffic", [Fraction(1, 10), Fraction(1, 2), Fraction(7, 4), Fraction(9, 1), Fraction(61, 3)]
)
def test_erlang_b_and_c_match_exact_rational_formulas(traffic, servers):
    assert erlang_b(float(traffic), servers) == pytest.approx(
        float(_exact_erlang_b(traffic, servers)), rel=1e-12
    )
    if servers > traffic:
        exact = float(_exact_erlang_c(traffic, servers))
        assert erlang_c_probability(float(traffic), servers) == pytest.approx(exact, rel=1e-12)
    else:
        assert erlang_c_probability(float(traffic), servers) == 1.0


def test_service_level_and_wait_formulas():
    result = erlang_c(arrivals_per_hour=300, service_seconds=240, agents=23, target_seconds=45)
    traffic = 20.0
    spare = 23 - traffic
    assert result.service_level == pytest.approx(1 - result.probability_waiting * math.exp(-spare * 45 / 240))
    assert result.average_wait_seconds == pytest.approx(result.probability_waiting * 240 / spare)
    assert result.average_wait_if_waiting_seconds == pytest.approx(240 / spare)
    # Little's law: queue length = arrival rate x mean wait.
    assert result.average_queue_length == pytest.approx(300 / 3600 * result.average_wait_seconds)


def test_zero_traffic():
    result = erlang_c(arrivals_per_hour=0, service_seconds=300, agents=0, target_seconds=60)
    assert (result.probability_waiting, result.service_level, result.average_wait_seconds) == (0.0, 1.0, 0.0)
    assert result.occupancy == 0.0
    assert result.stable
    assert agents_needed(arrivals_per_hour=0, service_seconds=300, target_seconds=60) == 0
    assert erlang_b(0.0, 0) == 1.0
    assert erlang_b(0.0, 3) == 0.0
    assert erlang_c_probability(0.0, 3) == 0.0


@pytest.mark.parametrize("agents", [0, 5, 9, 10])
def test_unstable_queue_never_meets_a_target(agents):
    result = erlang_c(arrivals_per_hour=200, service_seconds=180, agents=agents, target_seconds=20)
    assert not result.stable
    assert result.probability_waiting == 1.0
    assert result.service_level == 0.0
    assert math.isinf(result.average_wait_seconds)
    assert result.occupancy == (1.0 if agents else 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrivals_per_hour": -1.0},
        {"arrivals_per_hour": math.nan},
        {"arrivals_per_hour": math.inf},
        {"arrivals_per_hour": True},
        {"arrivals_per_hour": "200"},
        {"service_seconds": 0.0},
        {"service_seconds": -5.0},
        {"agents": 3.0},
        {"agents": -1},
        {"agents": True},
        {"target_seconds": -1.0},
    ],
)
def test_invalid_input_raises_value_error(kwargs):
    arguments: dict[str, Any] = {
        "arrivals_per_hour": 200.0,
        "service_seconds": 180.0,
        "agents": 14,
        "target_seconds": 20.0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match="must be"):
        erlang_c(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service_level": 1.0}, "service_level"),
        ({"service_level": -0.1}, "service_level"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"max_occupancy": 1.5}, "max_occupancy"),
        ({"max_average_wait_seconds": 0.0}, "max_average_wait_seconds"),
        ({"max_abandonment": 0.1}, "patience_seconds"),
        ({"patience_seconds": -3.0}, "patience_seconds"),
        ({"patience_seconds": 600.0, "max_abandonment": 2.0}, "max_abandonment"),
    ],
)
def test_invalid_staffing_targets(kwargs, message):
    with pytest.raises(ValueError, match=message):
        agents_needed(arrivals_per_hour=200, service_seconds=180, target_seconds=20, **kwargs)


def test_erlang_b_validation():
    with pytest.raises(ValueError, match="servers"):
        erlang_b(3.0, -1)
    with pytest.raises(ValueError, match="traffic"):
        erlang_b(-3.0, 1)
    with pytest.raises(ValueError, match="beta"):
        halfin_whitt_delay_probability(0.0)


def _exhaustive(
    arrivals: float,
    service: float,
    target: float,
    level: float,
    max_occupancy: float | None = None,
    max_wait: float | None = None,
) -> int:
    """Smallest n meeting every target, by trying n = 1, 2, 3, ... through the public API."""
    n = 1
    while True:
        result = erlang_c(
            arrivals_per_hour=arrivals, service_seconds=service, agents=n, target_seconds=target
        )
        if (
            result.stable
            and result.service_level >= level
            and (max_occupancy is None or result.occupancy <= max_occupancy + 1e-12)
            and (max_wait is None or result.average_wait_seconds <= max_wait)
        ):
            return n
        n += 1


LOADS = (
    [round(0.1 * k, 10) for k in range(1, 101)]  # 0.1 .. 10 Erlangs by 0.1
    + [10 + 0.5 * k for k in range(1, 181)]  # .. 100 by 0.5
    + [100 + 2.0 * k for k in range(1, 201)]  # .. 500 by 2
)


@pytest.mark.parametrize(("target", "level"), [(20.0, 0.8), (600.0, 0.95), (0.0, 0.5), (60.0, 0.2)])
def test_agents_needed_equals_exhaustive_search(target, level):
    assert len(LOADS) >= 450
    mismatches = []
    for load in LOADS:
        arrivals = load * PER_ERLANG
        found = agents_needed(
            arrivals_per_hour=arrivals, service_seconds=180, target_seconds=target, service_level=level
        )
        expected = _exhaustive(arrivals, 180.0, target, level)
        if found != expected:
            mismatches.append((load, found, expected))
    assert mismatches == []


def test_agents_needed_with_occupancy_and_wait_caps_equals_exhaustive_search():
    mismatches = []
    for load in LOADS[::7]:
        arrivals = load * PER_ERLANG
        for max_occupancy, max_wait in [(0.85, None), (None, 15.0), (0.9, 5.0), (0.7, 120.0)]:
            found = agents_needed(
                arrivals_per_hour=arrivals,
                service_seconds=180,
                target_seconds=20,
                service_level=0.8,
                max_occupancy=max_occupancy,
                max_average_wait_seconds=max_wait,
            )
            expected = _exhaustive(arrivals, 180.0, 20.0, 0.8, max_occupancy, max_wait)
            if found != expected:
                mismatches.append((load, max_occupancy, max_wait, found, expected))
    assert mismatches == []


def test_occupancy_cap_is_met_exactly_at_the_boundary():
    # 8.5 Erlangs at 85% occupancy needs exactly 10 counters; 8.5/0.85 is 10.000000000000002 in floats.
    needed = agents_needed(
        arrivals_per_hour=8.5 * PER_ERLANG,
        service_seconds=180,
        target_seconds=20,
        service_level=0.0,
        max_occupancy=0.85,
    )
    assert needed == 10


@pytest.mark.parametrize("traffic", [1000.0, 2500.0, 4000.0])
def test_thousands_of_agents_are_stable(traffic):
    arrivals = traffic * PER_ERLANG
    needed = agents_needed(
        arrivals_per_hour=arrivals, service_seconds=180, target_seconds=20, service_level=0.9
    )
    assert traffic < needed < traffic + 5 * math.sqrt(traffic)
    for agents in (needed - 1, needed, needed + 1, math.ceil(traffic) + 1, 2 * needed):
        result = erlang_c(arrivals_per_hour=arrivals, service_seconds=180, agents=agents, target_seconds=20)
        for value in (
            result.probability_waiting,
            result.service_level,
            result.average_wait_seconds,
            result.occupancy,
        ):
            assert math.isfinite(value)
            assert value >= 0
        assert 0 <= result.probability_waiting <= 1
        assert 0 <= result.service_level <= 1
    assert (
        erlang_c(
            arrivals_per_hour=arrivals, service_seconds=180, agents=needed, target_seconds=20
        ).service_level
        >= 0.9
    )
    assert (
        erlang_c(
            arrivals_per_hour=arrivals, service_seconds=180, agents=needed - 1, target_seconds=20
        ).service_level
        < 0.9
    )


def test_tiny_load_with_many_servers_underflows_to_zero_not_nan():
    assert erlang_b(0.01, 2000) == 0.0
    result = erlang_c(arrivals_per_hour=0.2, service_seconds=180, agents=2000, target_seconds=20)
    assert result.probability_waiting == 0.0
    assert result.service_level == 1.0


@pytest.mark.parametrize("beta", [0.5, 1.0, 1.5])
def test_erlang_c_converges_to_halfin_whitt(beta):
    traffic = 20_000.0
    servers = round(traffic + beta * math.sqrt(traffic))
    exact_beta = (servers - traffic) / math.sqrt(traffic)
    assert erlang_c_probability(traffic, servers) == pytest.approx(
        halfin_whitt_delay_probability(exact_beta), abs=0.01
    )


def test_square_root_staffing_is_close_to_exact_requirement():
    for load in [5.0, 20.0, 50.0, 100.0, 300.0, 1000.0]:
        for target, level in [(20.0, 0.8), (600.0, 0.9), (60.0, 0.95)]:
            kwargs: dict[str, Any] = {
                "arrivals_per_hour": load * PER_ERLANG,
                "service_seconds": 180.0,
                "target_seconds": target,
            }
            exact = agents_needed(**kwargs, service_level=level)
            estimate = square_root_staffing(**kwargs, service_level=level)
            assert abs(exact - estimate) <= 2, (load, target, level, exact, estimate)
    assert square_root_staffing(arrivals_per_hour=0, service_seconds=180, target_seconds=20) == 0


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    traffic=st.floats(min_value=0.01, max_value=300),
    service=st.floats(min_value=10, max_value=3600),
    target=st.floats(min_value=0, max_value=3600),
    level=st.floats(min_value=0, max_value=0.999),
)
def test_agents_needed_is_the_smallest_count_meeting_the_target(traffic, service, target, level):
    arrivals = traffic * 3600 / service
    needed = agents_needed(
        arrivals_per_hour=arrivals, service_seconds=service, target_seconds=target, service_level=level
    )
    met = erlang_c(arrivals_per_hour=arrivals, service_seconds=service, agents=needed, target_seconds=target)
    assert met.stable
    assert met.service_level >= level
    below = erlang_c(
        arrivals_per_hour=arrivals, service_seconds=service, agents=needed - 1, target_seconds=target
    )
    assert not below.stable or below.service_level < level


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    traffic=st.floats(min_value=0.01, max_value=800),
    extra=st.integers(min_value=1, max_value=60),
    target=st.floats(min_value=0, max_value=1800),
)
def test_more_agents_never_hurt(traffic, extra, target):
    base = math.floor(traffic) + extra
    previous = erlang_c(
        arrivals_per_hour=traffic * PER_ERLANG, service_seconds=180, agents=base, target_seconds=target
    )
    following = erlang_c(
        arrivals_per_hour=traffic * PER_ERLANG, service_seconds=180, agents=base + 1, target_seconds=target
    )
    assert 0 <= following.probability_waiting <= previous.probability_waiting <= 1
    assert previous.service_level <= following.service_level <= 1
    assert following.average_wait_seconds <= previous.average_wait_seconds
    # Waiting is at least as likely as blocking in the loss system with the same servers.
    assert previous.probability_waiting >= erlang_b(traffic, base) - 1e-15
