"""Cross-check against pyworkforce 0.5.4, an independent implementation (test/bench dependency only).

What is comparable and how pyworkforce differs:

* pyworkforce works in minutes per interval; its ``asa`` argument is the service-level *target time*,
  not the average speed of answer. We use 60-minute intervals so ``transactions`` are per hour.
* ``ErlangC`` has no mean wait. We check our ASA against the integral of its waiting-time tail,
  ASA = ∫ P(wait > t) dt = ∫ (1 - service_level(t)) dt, evaluated numerically.
* ``ErlangC.required_positions`` starts its search at ``round(A + 1)`` (Python's round), so when
  ``floor(A) + 1`` already meets the target and the fraction of A is >= 0.5 it answers one more; and
  its occupancy cap is ``ceil(A / max_occupancy)`` without a floating-point tolerance. We compare with
  ``max(ours, round(A + 1))`` and keep A / max_occupancy away from integers.
* ``ErlangA.required_positions`` starts at ``ceil(A)``; Erlang A may meet a low target with fewer
  agents than A (abandonment caps the queue), so we compare with ``max(ours, ceil(A))``.
* ``ErlangA`` truncates its birth-death chain at a relative tail of 1e-15 and computes the service
  level by uniformisation; agreement is still far below 1e-6.
"""

import math
from collections.abc import Callable
from typing import Any

import pytest
from pyworkforce.queuing import ErlangA, ErlangC

from frontdesk.science.erlang import agents_needed, erlang_a, erlang_c

TOLERANCE = 1e-6

# (arrivals per hour, mean service seconds, target seconds)
C_CASES = [
    (12.0, 600.0, 600.0),
    (40.0, 300.0, 120.0),
    (75.0, 420.0, 600.0),
    (200.0, 180.0, 20.0),
    (360.0, 100.0, 30.0),
    (900.0, 240.0, 60.0),
    (1500.0, 270.0, 45.0),
]


def _pyworkforce_c(arrivals: float, service: float, target: float) -> Any:
    return ErlangC(transactions=arrivals, aht=service / 60, asa=target / 60, interval=60)


def _agent_grid(traffic: float) -> list[int]:
    first = math.floor(traffic) + 1
    return sorted(
        {first, first + 1, first + 2, first + 4, round(traffic * 1.2) + 1, round(traffic * 1.5) + 2}
    )


@pytest.mark.parametrize(("arrivals", "service", "target"), C_CASES)
def test_erlang_c_metrics_match_pyworkforce(arrivals, service, target):
    reference = _pyworkforce_c(arrivals, service, target)
    for agents in _agent_grid(arrivals * service / 3600):
        ours = erlang_c(
            arrivals_per_hour=arrivals, service_seconds=service, agents=agents, target_seconds=target
        )
        assert ours.probability_waiting == pytest.approx(reference.waiting_probability(agents), abs=TOLERANCE)
        assert ours.service_level == pytest.approx(reference.service_level(agents), abs=TOLERANCE)
        assert ours.occupancy == pytest.approx(reference.achieved_occupancy(agents), abs=TOLERANCE)


def _simpson(function: Callable[[float], float], low: float, high: float, intervals: int) -> float:
    step = (high - low) / intervals
    total = function(low) + function(high)
    for index in range(1, intervals):
        total += (4 if index % 2 else 2) * function(low + index * step)
    return total * step / 3


@pytest.mark.parametrize(("arrivals", "service", "target"), C_CASES[:5])
def test_erlang_c_average_wait_matches_pyworkforce_waiting_time_tail(arrivals, service, target):
    traffic = arrivals * service / 3600
    agents = math.floor(traffic) + 2

    def tail(seconds: float) -> float:
        if seconds == 0:
            return float(_pyworkforce_c(arrivals, service, 1e-12).waiting_probability(agents))
        return 1 - float(_pyworkforce_c(arrivals, service, seconds).service_level(agents))

    # The tail decays like exp(-(n - A)t/AHT); 40 time constants leave < 1e-17 behind.
    horizon = 40 * service / (agents - traffic)
    reference_asa = _simpson(tail, 0.0, horizon, 2000)
    ours = erlang_c(arrivals_per_hour=arrivals, service_seconds=service, agents=agents, target_seconds=target)
    assert ours.average_wait_seconds == pytest.approx(reference_asa, abs=TOLERANCE)


@pytest.mark.parametrize(("arrivals", "service", "target"), C_CASES)
@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("max_occupancy", [1.0, 0.87])
def test_required_agents_match_pyworkforce(arrivals, service, target, level, max_occupancy):
    traffic = arrivals * service / 3600
    if max_occupancy < 1:
        ratio = traffic / max_occupancy
        assert abs(ratio - round(ratio)) > 1e-6, "keep A / max_occupancy away from integers (see module doc)"
    reference = _pyworkforce_c(arrivals, service, target).required_positions(
        service_level=level, max_occupancy=max_occupancy
    )
    ours = agents_needed(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        target_seconds=target,
        service_level=level,
        max_occupancy=None if max_occupancy == 1.0 else max_occupancy,
    )
    assert max(ours, round(traffic + 1)) == reference["raw_positions"]
    if ours == reference["raw_positions"]:
        result = erlang_c(
            arrivals_per_hour=arrivals, service_seconds=service, agents=ours, target_seconds=target
        )
        assert result.service_level == pytest.approx(reference["service_level"], abs=TOLERANCE)
        assert result.probability_waiting == pytest.approx(reference["waiting_probability"], abs=TOLERANCE)
        assert result.occupancy == pytest.approx(reference["occupancy"], abs=TOLERANCE)


# (arrivals per hour, service seconds, target seconds, patience seconds): under- and overloaded.
A_CASES = [
    (200.0, 180.0, 20.0, 300.0),
    (60.0, 600.0, 300.0, 900.0),
    (100.0, 300.0, 30.0, 120.0),
    (400.0, 180.0, 60.0, 600.0),
    (30.0, 240.0, 120.0, 60.0),
]


@pytest.mark.parametrize(("arrivals", "service", "target", "patience"), A_CASES)
def test_erlang_a_metrics_match_pyworkforce(arrivals, service, target, patience):
    reference = ErlangA(
        transactions=arrivals, aht=service / 60, asa=target / 60, interval=60, patience=patience / 60
    )
    traffic = arrivals * service / 3600
    for agents in sorted({max(1, math.floor(0.7 * traffic)), math.ceil(traffic), math.ceil(traffic) + 3}):
        ours = erlang_a(
            arrivals_per_hour=arrivals,
            service_seconds=service,
            agents=agents,
            target_seconds=target,
            patience_seconds=patience,
        )
        assert ours.probability_waiting == pytest.approx(reference.waiting_probability(agents), abs=TOLERANCE)
        assert ours.probability_abandoning == pytest.approx(
            reference.abandonment_probability(agents), abs=TOLERANCE
        )
        assert ours.service_level == pytest.approx(reference.service_level(agents), abs=TOLERANCE)
        assert ours.average_wait_seconds == pytest.approx(
            60 * reference.average_speed_of_answer(agents), abs=TOLERANCE
        )
        assert ours.average_queue_length == pytest.approx(
            reference.average_queue_length(agents), abs=TOLERANCE
        )
        assert ours.occupancy == pytest.approx(reference.achieved_occupancy(agents), abs=TOLERANCE)


@pytest.mark.parametrize(("arrivals", "service", "target", "patience"), A_CASES)
@pytest.mark.parametrize("level", [0.6, 0.8])
def test_erlang_a_required_agents_match_pyworkforce(arrivals, service, target, patience, level):
    reference = ErlangA(
        transactions=arrivals, aht=service / 60, asa=target / 60, interval=60, patience=patience / 60
    )
    expected = reference.required_positions(service_level=level, max_abandonment=0.05)["raw_positions"]
    ours = agents_needed(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        target_seconds=target,
        service_level=level,
        patience_seconds=patience,
        max_abandonment=0.05,
    )
    assert max(ours, math.ceil(arrivals * service / 3600)) == expected
