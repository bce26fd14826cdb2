"""Planner helpers: counters per interval, simulation check of a plan, network-scale planning."""

import math
import random
import time

import pytest

from frontdesk.science.erlang import agents_needed, erlang_c
from frontdesk.science.simulation import Distribution
from frontdesk.science.staffing import (
    ServiceDemandSpec,
    ServiceForecast,
    StaffingTarget,
    check_plan_by_simulation,
    check_skilled_plan_by_simulation,
    plan_network,
    required_counters,
)

DAY = [0.0, 2.0, 5.5, 9.0, 14.0, 18.5, 22.0, 17.0, 12.0, 8.0, 4.0, 1.0]  # customers per half hour


def test_required_counters_match_agents_needed_per_interval():
    target = StaffingTarget(service_level=0.8, target_seconds=600)
    plan = required_counters(DAY, service_seconds=420, target=target)
    assert [interval.index for interval in plan] == list(range(len(DAY)))
    for interval, arrivals in zip(plan, DAY, strict=True):
        expected = agents_needed(
            arrivals_per_hour=arrivals * 2, service_seconds=420, target_seconds=600, service_level=0.8
        )
        assert interval.counters == interval.needed == expected
        assert interval.meets_target
        if arrivals:
            assert interval.service_level >= 0.8
            check = erlang_c(
                arrivals_per_hour=arrivals * 2, service_seconds=420, agents=expected, target_seconds=600
            )
            assert interval.average_wait_seconds == check.average_wait_seconds
    assert plan[0].counters == 0


def test_minimum_and_maximum_counters():
    target = StaffingTarget(min_counters=1, max_counters=4)
    plan = required_counters(DAY, service_seconds=420, target=target)
    assert plan[0].counters == 1
    assert max(interval.counters for interval in plan) == 4
    capped = [interval for interval in plan if not interval.meets_target]
    assert capped
    assert all(interval.needed > 4 and interval.counters == 4 for interval in capped)
    with pytest.raises(ValueError, match="max_counters"):
        StaffingTarget(min_counters=3, max_counters=2)


def test_service_time_per_interval_and_erlang_a():
    services = [300.0 + 20 * k for k in range(len(DAY))]
    patient = required_counters(DAY, service_seconds=services)
    impatient = required_counters(DAY, service_seconds=services, target=StaffingTarget(patience_seconds=600))
    for index, (arrivals, service) in enumerate(zip(DAY, services, strict=True)):
        assert patient[index].counters == agents_needed(
            arrivals_per_hour=arrivals * 2, service_seconds=service, target_seconds=600
        )
        assert impatient[index].counters == agents_needed(
            arrivals_per_hour=arrivals * 2, service_seconds=service, target_seconds=600, patience_seconds=600
        )
        assert 0 <= impatient[index].abandonment < 1
    with pytest.raises(ValueError, match="one per interval"):
        required_counters(DAY, service_seconds=[300.0])
    with pytest.raises(ValueError, match="arrivals"):
        required_counters([1.0, -2.0], service_seconds=300)
    with pytest.raises(ValueError, match="interval_minutes"):
        required_counters(DAY, service_seconds=300, interval_minutes=0)


def test_plan_checked_by_simulation_meets_target_roughly_and_exposes_understaffing():
    arrivals = [20.0] * 8
    plan = [
        interval.counters
        for interval in required_counters(arrivals, service_seconds=360, interval_minutes=60)
    ]
    understaffed = list(plan)
    understaffed[4] -= 2
    good = check_plan_by_simulation(
        arrivals, plan, service_seconds=360, interval_minutes=60, replications=30, seed=3
    )
    bad = check_plan_by_simulation(
        arrivals, understaffed, service_seconds=360, interval_minutes=60, replications=30, seed=3
    )
    assert len(good) == len(arrivals)
    # Steady-state intervals (after the empty start) land near the Erlang C prediction of >= 80%.
    for check in good[2:]:
        assert check.service_level is not None
        assert check.service_level.mean >= 0.8 - max(3 * check.service_level.half_width, 0.05)
        assert check.simulated_arrivals == pytest.approx(20, rel=0.25)
    bad_level, good_level = bad[4].service_level, good[4].service_level
    assert bad_level is not None
    assert good_level is not None
    assert bad_level.mean < good_level.mean - 0.1
    # The backlog spills into the next interval.
    bad_wait, good_wait = bad[5].mean_wait_seconds, good[5].mean_wait_seconds
    assert bad_wait is not None
    assert good_wait is not None
    assert bad_wait.mean > good_wait.mean
    again = check_plan_by_simulation(
        arrivals, plan, service_seconds=360, interval_minutes=60, replications=30, seed=3
    )
    assert again == good


def test_plan_check_with_abandonment_and_empty_intervals():
    arrivals = [0.0, 10.0, 10.0, 0.0]
    checks = check_plan_by_simulation(
        arrivals,
        [0, 2, 1, 0],
        service_seconds=600,
        patience_seconds=300,
        service_cv=0.7,
        replications=10,
        seed=1,
    )
    assert checks[0].service_level is None
    assert checks[0].simulated_arrivals == 0
    abandonment = checks[2].abandonment_share
    assert abandonment is not None
    assert abandonment.mean > 0
    assert all(0 <= check.utilisation.mean <= 1 for check in checks)
    with pytest.raises(ValueError, match="one value per interval"):
        check_plan_by_simulation([1.0], [1, 2], service_seconds=60)


def test_skilled_check_with_counters_that_serve_everything_is_the_pooled_check():
    arrivals = [4.0, 9.0, 12.0, 6.0]
    counters = [1, 2, 3, 2]
    pooled = check_plan_by_simulation(arrivals, counters, service_seconds=300, replications=8, seed=5)
    skilled = check_skilled_plan_by_simulation(
        [ServiceDemandSpec("service", arrivals, Distribution.exponential(300))],
        [[(f"counter-{k + 1}", frozenset({"service"})) for k in range(count)] for count in counters],
        replications=8,
        seed=5,
    )
    assert skilled == pooled


def test_skilled_check_serves_a_customer_only_at_a_counter_with_the_skill():
    demands = [
        ServiceDemandSpec("general", [10.0, 10.0, 10.0], Distribution.exponential(240)),
        ServiceDemandSpec("business", [3.0, 3.0, 3.0], Distribution.exponential(240)),
    ]
    both, split, business_only = (
        frozenset({"general", "business"}),
        frozenset({"general"}),
        frozenset({"business"}),
    )
    shared = check_skilled_plan_by_simulation(
        demands, [[("one", both), ("two", both)]] * 3, replications=10, seed=2
    )
    apart = check_skilled_plan_by_simulation(
        demands, [[("one", split), ("two", business_only)]] * 3, replications=10, seed=2
    )
    nobody_for_business = check_skilled_plan_by_simulation(
        demands, [[("one", split), ("two", split)]] * 3, replications=10, seed=2
    )

    def level(checks: list) -> float:
        return sum(c.service_level.mean * c.simulated_arrivals for c in checks) / sum(
            c.simulated_arrivals for c in checks
        )

    # Two counters for everything beat one per service (pooling), and a service nobody serves
    # is never called: only the general customers (about 10 of 13) can be within the target.
    assert level(shared) > level(apart)
    assert level(nobody_for_business) < 0.85
    assert [check.counters for check in apart] == [2, 2, 2]
    with pytest.raises(ValueError, match="one value per interval"):
        check_skilled_plan_by_simulation(demands, [[("one", both)]] * 2)
    with pytest.raises(ValueError, match="changes its services"):
        check_skilled_plan_by_simulation(demands, [[("one", both)], [("one", split)], []])


def test_plan_network_matches_exact_plan_on_grid_values_and_never_plans_lighter():
    rng = random.Random(4)
    on_grid = [round(rng.uniform(0, 30), 2) for _ in range(96)]
    off_grid = [rng.uniform(0, 30) for _ in range(96)]
    network = plan_network(
        [
            ServiceForecast("north", "accounts", on_grid, 420.0),
            ServiceForecast(
                "north", "cash", off_grid, 150.0, StaffingTarget(service_level=0.9, target_seconds=300)
            ),
            ServiceForecast("south", "accounts", off_grid, 420.0),
        ]
    )
    exact_on_grid = [interval.counters for interval in required_counters(on_grid, service_seconds=420)]
    assert network.counters[("north", "accounts")] == exact_on_grid
    exact_off_grid = required_counters(
        off_grid, service_seconds=150, target=StaffingTarget(service_level=0.9, target_seconds=300)
    )
    for planned, exact in zip(network.counters[("north", "cash")], exact_off_grid, strict=True):
        assert exact.counters <= planned <= exact.counters + 1
    assert network.cells == 3 * 96
    assert network.evaluations <= network.cells
    totals = network.branch_totals()
    assert totals["north"] == [
        a + b
        for a, b in zip(
            network.counters[("north", "accounts")], network.counters[("north", "cash")], strict=True
        )
    ]
    assert totals["south"] == network.counters[("south", "accounts")]


def test_plan_network_reports_shortfalls_and_rejects_bad_input():
    target = StaffingTarget(max_counters=3)
    network = plan_network([ServiceForecast("b", "s", DAY, 420.0)], target=target)
    exact = required_counters(DAY, service_seconds=420, target=target)
    assert network.counters[("b", "s")] == [interval.counters for interval in exact]
    assert network.shortfalls[("b", "s")] == [
        interval.index for interval in exact if not interval.meets_target
    ]
    assert network.shortfalls[("b", "s")]
    with pytest.raises(ValueError, match="duplicate"):
        plan_network([ServiceForecast("b", "s", DAY, 420.0), ServiceForecast("b", "s", DAY, 420.0)])
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            plan_network([ServiceForecast("b", "s", [1.0, bad], 420.0)])


def test_plan_network_million_cells_is_fast():
    # 300 branches x 5 services x 14 days x 48 half hours = 1,008,000 Erlang C cells.
    rng = random.Random(2024)
    shape = [0.0] * 16 + [
        0.3,
        0.6,
        1,
        1.3,
        1.5,
        1.4,
        1.2,
        1.3,
        1.5,
        1.6,
        1.4,
        1.2,
        1,
        0.9,
        0.8,
        0.7,
        0.6,
        0.5,
        0.4,
        0.3,
    ]
    shape += [0.0] * (48 - len(shape))
    services = [(300.0, 5.0), (600.0, 2.0), (900.0, 1.0), (240.0, 3.0), (1200.0, 0.5)]
    forecasts = []
    for branch in range(300):
        size = rng.uniform(0.3, 3.0)
        for number, (seconds, share) in enumerate(services):
            arrivals = [
                max(0.0, size * share * factor * rng.gauss(1, 0.15)) for _ in range(14) for factor in shape
            ]
            forecasts.append(ServiceForecast(f"branch-{branch}", f"service-{number}", arrivals, seconds))
    started = time.perf_counter()
    network = plan_network(forecasts)
    elapsed = time.perf_counter() - started
    assert network.cells == 1_008_000
    assert elapsed < 10.0
    assert network.evaluations < 50_000  # the cache does the heavy lifting
