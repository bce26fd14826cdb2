"""Erlang A (M/M/n+M): limits, identities, overload, staffing search and a birth-death cross-check."""

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.science.erlang import agents_needed, erlang_a, erlang_c


def _birth_death(
    arrivals_per_hour: float, service: float, agents: int, patience: float
) -> tuple[float, float]:
    """Stationary M/M/n+M chain, truncated when the tail is negligible (a slow, obvious reference)."""
    rate = arrivals_per_hour / 3600
    weights = [1.0]
    state = 0
    while True:
        state += 1
        death = min(state, agents) / service + max(state - agents, 0) / patience
        weights.append(weights[-1] * rate / death)
        if state > agents + 10 and weights[-1] < 1e-18 * sum(weights):
            break
        if weights[-1] > 1e200:
            weights = [weight / 1e200 for weight in weights]
    total = sum(weights)
    probabilities = [weight / total for weight in weights]
    waiting = sum(probabilities[agents:])
    queue = sum((k - agents) * p for k, p in enumerate(probabilities) if k > agents)
    return waiting, queue


@pytest.mark.parametrize(
    ("arrivals", "service", "agents", "patience"),
    [
        (200.0, 180.0, 12, 300.0),
        (200.0, 180.0, 8, 300.0),  # overloaded: 10 Erlangs on 8 counters
        (30.0, 600.0, 3, 1800.0),
        (1000.0, 180.0, 40, 600.0),  # 50 Erlangs on 40 counters
        (500.0, 360.0, 52, 60.0),
    ],
)
def test_matches_birth_death_chain(arrivals, service, agents, patience):
    waiting, queue = _birth_death(arrivals, service, agents, patience)
    result = erlang_a(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        agents=agents,
        target_seconds=30,
        patience_seconds=patience,
    )
    assert result.probability_waiting == pytest.approx(waiting, abs=1e-9)
    assert result.average_queue_length == pytest.approx(queue, rel=1e-9, abs=1e-12)
    # Abandonment rate θ·E[queue] equals λ·P(abandon); Little's law gives the mean wait.
    assert result.probability_abandoning == pytest.approx(
        queue / patience / (arrivals / 3600), rel=1e-9, abs=1e-12
    )
    assert result.average_wait_seconds == pytest.approx(queue / (arrivals / 3600), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("arrivals", "agents"), [(200.0, 11), (200.0, 14), (350.0, 20), (50.0, 3)])
@pytest.mark.parametrize("target", [0.0, 20.0, 300.0])
def test_converges_to_erlang_c_as_patience_grows(arrivals, agents, target):
    c = erlang_c(arrivals_per_hour=arrivals, service_seconds=180, agents=agents, target_seconds=target)
    assert c.occupancy < 1
    previous_gap = math.inf
    for patience in [1e3, 1e5, 1e7, 1e9, 1e11]:
        a = erlang_a(
            arrivals_per_hour=arrivals,
            service_seconds=180,
            agents=agents,
            target_seconds=target,
            patience_seconds=patience,
        )
        gap = abs(a.probability_waiting - c.probability_waiting) + abs(a.service_level - c.service_level)
        assert gap <= previous_gap + 1e-12
        previous_gap = gap
    assert a.probability_waiting == pytest.approx(c.probability_waiting, abs=1e-6)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.average_wait_seconds == pytest.approx(c.average_wait_seconds, rel=1e-6)
    assert a.occupancy == pytest.approx(c.occupancy, abs=1e-6)
    assert a.probability_abandoning < 1e-7


def test_infinite_patience_is_rejected_for_erlang_a_but_accepted_for_staffing():
    with pytest.raises(ValueError, match="erlang_c"):
        erlang_a(
            arrivals_per_hour=200,
            service_seconds=180,
            agents=12,
            target_seconds=20,
            patience_seconds=math.inf,
        )
    with_inf = agents_needed(
        arrivals_per_hour=200, service_seconds=180, target_seconds=20, patience_seconds=math.inf
    )
    assert with_inf == agents_needed(arrivals_per_hour=200, service_seconds=180, target_seconds=20)


def test_overloaded_system_is_stable_and_carries_at_most_its_capacity():
    for agents in [1, 5, 9, 10]:
        result = erlang_a(
            arrivals_per_hour=200, service_seconds=180, agents=agents, target_seconds=60, patience_seconds=240
        )
        assert 0 < result.probability_abandoning < 1
        served_traffic = result.traffic_erlangs * (1 - result.probability_abandoning)
        assert served_traffic <= agents + 1e-9
        assert 0 < result.occupancy <= 1
        assert math.isfinite(result.average_wait_seconds)
        assert result.average_wait_seconds < 240  # nobody waits longer than their patience on average


def test_heavily_overloaded_large_system_has_no_overflow():
    # 3000 Erlangs on 2000 counters: the queue series terms would overflow without logs.
    result = erlang_a(
        arrivals_per_hour=60_000, service_seconds=180, agents=2000, target_seconds=20, patience_seconds=1200
    )
    assert result.probability_waiting == pytest.approx(1.0, abs=1e-9)
    # Fluid limit: a third of the demand must leave.
    assert result.probability_abandoning == pytest.approx(1 / 3, abs=1e-3)
    assert result.occupancy == pytest.approx(1.0, abs=1e-3)
    for value in (result.service_level, result.average_wait_seconds, result.service_level_of_served):
        assert math.isfinite(value)


def test_zero_traffic_and_zero_agents():
    empty = erlang_a(
        arrivals_per_hour=0, service_seconds=180, agents=0, target_seconds=20, patience_seconds=300
    )
    assert (empty.probability_waiting, empty.service_level, empty.probability_abandoning) == (0.0, 1.0, 0.0)
    closed = erlang_a(
        arrivals_per_hour=100, service_seconds=180, agents=0, target_seconds=20, patience_seconds=300
    )
    assert closed.probability_abandoning == 1.0
    assert closed.service_level == 0.0
    assert closed.average_wait_seconds == 300.0
    assert closed.average_queue_length == pytest.approx(100 / 3600 * 300)
    assert (
        agents_needed(arrivals_per_hour=0, service_seconds=180, target_seconds=20, patience_seconds=300) == 0
    )


def test_target_zero_and_target_infinity_limits():
    kwargs: dict[str, Any] = {
        "arrivals_per_hour": 220.0,
        "service_seconds": 180.0,
        "agents": 11,
        "patience_seconds": 400.0,
    }
    at_zero = erlang_a(**kwargs, target_seconds=0)
    assert at_zero.service_level == pytest.approx(1 - at_zero.probability_waiting, abs=1e-15)
    far = erlang_a(**kwargs, target_seconds=1e7)
    # Everyone served is served "within" an enormous target: service level = 1 - P(abandon).
    assert far.service_level == pytest.approx(1 - far.probability_abandoning, abs=1e-9)
    assert far.service_level_of_served == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(
    traffic=st.floats(min_value=0.05, max_value=200),
    ratio=st.floats(min_value=0.3, max_value=2.0),
    patience=st.floats(min_value=5, max_value=20_000),
    target=st.floats(min_value=0, max_value=3600),
)
def test_probabilities_are_consistent(traffic, ratio, patience, target):
    agents = max(1, round(traffic * ratio))
    result = erlang_a(
        arrivals_per_hour=traffic * 20,
        service_seconds=180,
        agents=agents,
        target_seconds=target,
        patience_seconds=patience,
    )
    for value in (
        result.probability_waiting,
        result.probability_abandoning,
        result.service_level,
        result.occupancy,
    ):
        assert 0 <= value <= 1
    assert result.probability_abandoning <= result.probability_waiting + 1e-12
    assert result.service_level <= 1 - result.probability_abandoning + 1e-9
    assert result.service_level >= 1 - result.probability_waiting - 1e-9
    # θ·E[queue] = λ·P(abandon): mean wait over all arrivals = P(abandon) x mean patience.
    assert result.average_wait_seconds == pytest.approx(
        result.probability_abandoning * patience, rel=1e-9, abs=1e-12
    )
    more = erlang_a(
        arrivals_per_hour=traffic * 20,
        service_seconds=180,
        agents=agents + 1,
        target_seconds=target,
        patience_seconds=patience,
    )
    # Monotone in the number of agents, up to rounding in heavily overloaded queues.
    assert more.service_level >= result.service_level - 1e-9
    assert more.probability_abandoning <= result.probability_abandoning + 1e-12


def _exhaustive_a(
    arrivals: float,
    service: float,
    target: float,
    level: float,
    patience: float,
    max_abandonment: float | None = None,
) -> int:
    n = 1
    while True:
        result = erlang_a(
            arrivals_per_hour=arrivals,
            service_seconds=service,
            agents=n,
            target_seconds=target,
            patience_seconds=patience,
        )
        if result.service_level >= level and (
            max_abandonment is None or result.probability_abandoning <= max_abandonment
        ):
            return n
        n += 1


def test_agents_needed_equals_exhaustive_search():
    loads = [0.2, 0.7, 1.5, 3.0, 6.5, 12.0, 25.0, 48.0, 90.0, 150.0]
    mismatches = []
    for load in loads:
        for patience in (60.0, 600.0, 3600.0):
            for target, level, max_abandonment in [(20.0, 0.8, None), (600.0, 0.9, 0.02), (60.0, 0.3, None)]:
                arrivals = load * 20
                found = agents_needed(
                    arrivals_per_hour=arrivals,
                    service_seconds=180,
                    target_seconds=target,
                    service_level=level,
                    patience_seconds=patience,
                    max_abandonment=max_abandonment,
                )
                expected = _exhaustive_a(arrivals, 180.0, target, level, patience, max_abandonment)
                if found != expected:
                    mismatches.append((load, patience, target, level, found, expected))
    assert mismatches == []


def test_impatient_customers_can_need_fewer_agents_than_the_load():
    # With a low target, abandonment keeps the queue short enough for fewer counters than Erlangs.
    needed = agents_needed(
        arrivals_per_hour=400,
        service_seconds=180,
        target_seconds=600,
        service_level=0.5,
        patience_seconds=120,
    )
    assert needed < 20
    assert (
        erlang_a(
            arrivals_per_hour=400,
            service_seconds=180,
            agents=needed,
            target_seconds=600,
            patience_seconds=120,
        ).service_level
        >= 0.5
    )
