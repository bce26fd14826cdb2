"""Branch simulator: reproducibility, queue rules, and agreement with Erlang C and Erlang A."""

import itertools
import math
import random
import statistics
import time
from collections import Counter as Tally
from typing import Any

import pytest

from frontdesk.science.erlang import erlang_a, erlang_c
from frontdesk.science.simulation import (
    Appointment,
    Counter,
    CustomerRecord,
    Distribution,
    Estimate,
    Scenario,
    ServiceSpec,
    estimate,
    replicate,
    simulate,
    t_quantile,
)


def _single_queue(
    arrivals_per_hour: float,
    service_seconds: float,
    counters: int,
    patience: float | None = None,
    hours: float = 13.0,
    warmup: float = 3600.0,
) -> Scenario:
    return Scenario(
        services=[
            ServiceSpec(
                "desk",
                (arrivals_per_hour,),
                Distribution.exponential(service_seconds),
                None if patience is None else Distribution.exponential(patience),
            )
        ],
        counters=[Counter(f"c{k}", frozenset({"desk"})) for k in range(counters)],
        interval_seconds=hours * 3600,
        warmup_seconds=warmup,
    )


def _close(estimate_: Estimate, expected: float) -> bool:
    """Within max(3 confidence half-widths, 2% of the formula)."""
    return abs(estimate_.mean - expected) <= max(3 * estimate_.half_width, 0.02 * abs(expected))


@pytest.mark.parametrize(("arrivals", "counters", "target"), [(200.0, 12, 20.0), (400.0, 23, 30.0)])
def test_mmn_agrees_with_erlang_c(arrivals, counters, target):
    summary = replicate(
        _single_queue(arrivals, 180.0, counters, hours=13.0), replications=40, seed=11, target_seconds=target
    )
    formula = erlang_c(
        arrivals_per_hour=arrivals, service_seconds=180, agents=counters, target_seconds=target
    )
    assert _close(summary.mean_wait_seconds, formula.average_wait_seconds)
    assert _close(summary.service_level, formula.service_level)
    assert _close(summary.utilisation, formula.occupancy)
    assert summary.abandonment_share.mean == 0.0


@pytest.mark.parametrize(
    ("arrivals", "service", "counters", "patience", "target"),
    [(200.0, 180.0, 10, 300.0, 20.0), (100.0, 300.0, 7, 600.0, 60.0)],
)
def test_mmn_with_exponential_patience_agrees_with_erlang_a(arrivals, service, counters, patience, target):
    summary = replicate(
        _single_queue(arrivals, service, counters, patience=patience),
        replications=40,
        seed=5,
        target_seconds=target,
    )
    formula = erlang_a(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        agents=counters,
        target_seconds=target,
        patience_seconds=patience,
    )
    assert _close(summary.abandonment_share, formula.probability_abandoning)
    assert _close(summary.mean_wait_seconds, formula.average_wait_seconds)
    assert _close(summary.service_level, formula.service_level)
    assert _close(summary.utilisation, formula.occupancy)


def _service_of(record: CustomerRecord) -> tuple[str, float, float]:
    """Counter, start and end of a served customer's service."""
    assert record.counter is not None
    assert record.service_start_seconds is not None
    assert record.end_seconds is not None
    return record.counter, record.service_start_seconds, record.end_seconds


def _branch(**overrides: Any) -> Scenario:
    # A 12-hour day in half hours, about 7 Erlangs at the peak on 10 counters.
    shape = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 0.9, 0.8, 0.7, 0.8, 0.9, 1.0)
    rates = tuple(60.0 * factor for factor in shape + shape[::-1])
    arguments: dict[str, Any] = {
        "services": [
            ServiceSpec(
                "accounts", rates, Distribution.lognormal(300, 0.8), Distribution.exponential(900), 0.1
            ),
            ServiceSpec("loans", tuple(rate / 6 for rate in rates), Distribution.lognormal(900, 0.5)),
            ServiceSpec("cash", tuple(rate / 2 for rate in rates), Distribution.exponential(120)),
        ],
        "counters": [
            Counter(f"c{k}", frozenset({"accounts", "cash"} if k < 6 else {"loans", "accounts"}))
            for k in range(10)
        ],
        "appointments": [Appointment("loans", 1800.0 * k) for k in range(1, 24)],
        "punctuality_mean_seconds": -120.0,
        "punctuality_sd_seconds": 240.0,
    }
    arguments.update(overrides)
    return Scenario(**arguments)


def test_same_seed_same_day_and_different_seed_different_day():
    first = simulate(_branch(), seed=42)
    again = simulate(_branch(), seed=42)
    other = simulate(_branch(), seed=43)
    assert first.customers == again.customers
    assert first.customers != other.customers


def test_one_day_with_ten_counters_is_fast():
    scenario = _branch()
    started = time.perf_counter()
    result = simulate(scenario, seed=1)
    elapsed = time.perf_counter() - started
    assert len(result.customers) > 800
    assert result.summary(600).unserved == 0
    assert elapsed < 0.5


def test_counters_only_serve_their_skills_and_every_service_is_consistent():
    scenario = _branch()
    result = simulate(scenario, seed=7)
    skills = {counter.name: counter.services for counter in scenario.counters}
    for record in result.customers:
        if record.served:
            counter, start, end = _service_of(record)
            assert record.service in skills[counter]
            assert start >= record.arrival_seconds
            assert end == pytest.approx(start + record.service_seconds)
            assert not record.abandoned
        elif record.abandoned:
            assert record.end_seconds == pytest.approx(record.arrival_seconds + record.patience_seconds)
    # Only "accounts" has impatient customers.
    assert {record.service for record in result.customers if record.abandoned} <= {"accounts"}
    # A counter never serves two customers at once.
    by_counter: dict[str, list[tuple[float, float]]] = {}
    for record in result.customers:
        if record.served:
            counter, start, end = _service_of(record)
            by_counter.setdefault(counter, []).append((start, end))
    for spans in by_counter.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - 1e-9


def test_no_customer_waits_while_a_suitable_counter_is_idle():
    scenario = _branch()
    result = simulate(scenario, seed=9)
    skills = {counter.name: counter.services for counter in scenario.counters}
    busy: dict[str, list[tuple[float, float]]] = {name: [] for name in skills}
    for record in result.customers:
        if record.served:
            counter, start, end = _service_of(record)
            busy[counter].append((start, end))
    for record in result.customers[::25]:
        if not record.served or _service_of(record)[1] - record.arrival_seconds < 1e-9:
            continue
        moment = record.arrival_seconds + 1e-6
        for name, services in skills.items():
            if record.service in services:
                assert any(start <= moment < end for start, end in busy[name]), (record, name)


def test_priority_first_then_first_come_first_served():
    scenario = _branch(appointments=())
    result = simulate(scenario, seed=3)
    accounts = [record for record in result.customers if record.service == "accounts"]
    priority = [record.wait_seconds(result.end_seconds) for record in accounts if record.priority]
    regular = [record.wait_seconds(result.end_seconds) for record in accounts if not record.priority]
    assert priority
    assert statistics.fmean(priority) < 0.5 * statistics.fmean(regular)
    # Within a class of a single-service queue, service starts in arrival order.
    single = simulate(_single_queue(220.0, 180.0, 10, hours=8.0, warmup=0.0), seed=4)
    assert all(record.served for record in single.customers)
    starts = [_service_of(record)[1] for record in single.customers]
    assert starts == sorted(starts)


def test_appointments_arrive_around_their_time_with_priority():
    scenario = _branch()
    result = simulate(scenario, seed=8)
    booked = [record for record in result.customers if record.appointment]
    assert len(booked) == len(scenario.appointments)
    assert all(record.priority and record.service == "loans" for record in booked)
    offsets = sorted(record.arrival_seconds for record in booked)
    scheduled = sorted(appointment.scheduled_seconds for appointment in scenario.appointments)
    mean_offset = statistics.fmean(
        arrival - planned for arrival, planned in zip(offsets, scheduled, strict=True)
    )
    assert -400 < mean_offset < 200
    exact = simulate(_branch(punctuality_sd_seconds=0.0, punctuality_mean_seconds=0.0), seed=8)
    assert sorted(r.arrival_seconds for r in exact.customers if r.appointment) == scheduled


def test_time_varying_rates_by_thinning():
    rates = (0.0, 600.0, 0.0, 150.0)
    scenario = Scenario(
        services=[ServiceSpec("desk", rates, Distribution.exponential(60))],
        counters=[Counter(f"c{k}", frozenset({"desk"})) for k in range(20)],
        interval_seconds=3600.0,
    )
    counts: Tally[int] = Tally()
    for seed in range(20):
        for record in simulate(scenario, seed=seed).customers:
            counts[int(record.arrival_seconds // 3600)] += 1
    assert counts[0] == 0
    assert counts[2] == 0
    assert counts[1] / 20 == pytest.approx(600, rel=0.05)
    assert counts[3] / 20 == pytest.approx(150, rel=0.08)


def test_lognormal_service_times_have_the_requested_mean_and_cv():
    scenario = Scenario(
        services=[ServiceSpec("desk", (3600.0,), Distribution.lognormal(400, 0.6))],
        counters=[Counter("c0", frozenset({"desk"}))],
        interval_seconds=10 * 3600.0,
    )
    times = [record.service_seconds for record in simulate(scenario, seed=2).customers]
    assert len(times) > 30_000
    assert statistics.fmean(times) == pytest.approx(400, rel=0.02)
    assert statistics.stdev(times) / statistics.fmean(times) == pytest.approx(0.6, rel=0.05)
    assert Distribution.deterministic(30).sampler(random.Random(1))() == 30


def test_counter_windows_are_respected_and_service_is_not_interrupted():
    scenario = Scenario(
        services=[ServiceSpec("desk", (120.0, 120.0, 120.0, 120.0), Distribution.exponential(300))],
        counters=[
            Counter("early", frozenset({"desk"}), ((0.0, 3600.0),)),
            Counter("split", frozenset({"desk"}), ((0.0, 1800.0), (5400.0, 7200.0))),
            Counter("late", frozenset({"desk"}), ((3600.0, 7200.0),)),
        ],
        interval_seconds=1800.0,
    )
    result = simulate(scenario, seed=12)
    windows = {counter.name: counter.windows for counter in scenario.counters}
    for record in result.customers:
        if record.served:
            counter, start, _ = _service_of(record)
            spans = windows[counter]
            # Service starts inside a window; a window reaching the horizon stays open to drain the queue.
            assert any(
                open_ <= start < close or (close >= 7200.0 and start >= open_) for open_, close in spans
            )
    assert {record.served or record.abandoned for record in result.customers} == {True}
    usage = {usage.name: usage for usage in result.counter_usage()}
    # Staffed time is the windows plus overtime to finish a customer after closing.
    assert usage["split"].open_seconds >= 3600.0
    assert usage["early"].open_seconds >= 3600.0
    assert usage["late"].open_seconds == pytest.approx(3600.0)  # its window reaches the horizon
    assert all(0 <= u.busy_seconds <= u.open_seconds + 1e-9 for u in usage.values())


def test_customers_with_no_counter_are_reported_unserved():
    scenario = Scenario(
        services=[
            ServiceSpec("desk", (60.0,), Distribution.exponential(60)),
            ServiceSpec("orphan", (60.0,), Distribution.exponential(60)),
        ],
        counters=[Counter("c0", frozenset({"desk"}))],
        interval_seconds=3600.0,
    )
    result = simulate(scenario, seed=1)
    summary = result.summary(600, service="orphan")
    assert summary.customers > 0
    assert summary.unserved == summary.customers
    assert summary.service_level == 0.0
    assert summary.mean_wait_seconds > 0


def test_summary_by_interval_partitions_the_day():
    result = simulate(_branch(), seed=21)
    whole = result.summary(600)
    parts = result.by_interval(600)
    assert len(parts) == 24
    assert sum(part.customers for part in parts) == whole.customers
    assert sum(part.abandoned for part in parts) == whole.abandoned
    assert sum(part.service_level * part.customers for part in parts) == pytest.approx(
        whole.service_level * whole.customers
    )
    assert all(0 <= part.utilisation <= 1 + 1e-9 for part in parts)


@pytest.mark.parametrize(
    ("degrees", "expected"),
    [
        (1, 12.706205),
        (2, 4.302653),
        (3, 3.182446),
        (4, 2.776445),
        (9, 2.262157),
        (39, 2.022691),
        (500, 1.964720),
    ],
)
def test_t_quantile(degrees, expected):
    assert t_quantile(0.975, degrees) == pytest.approx(expected, abs=2e-6)
    assert t_quantile(0.025, degrees) == pytest.approx(-expected, abs=2e-6)


def test_estimate_half_width():
    single = estimate([3.0])
    assert single.mean == 3.0
    assert math.isinf(single.half_width)
    pair = estimate([1.0, 3.0])
    assert pair.half_width == pytest.approx(12.706205 * math.sqrt(2) / math.sqrt(2), abs=1e-5)
    with pytest.raises(ValueError, match="at least one"):
        estimate([])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Distribution(0.0), "mean_seconds"),
        (lambda: Distribution(60.0, "exponential", 0.5), "cv 1"),
        (lambda: Distribution.lognormal(60.0, 0.0), "cv"),
        (lambda: ServiceSpec("x", (-1.0,), Distribution.exponential(60)), "arrival rates"),
        (lambda: ServiceSpec("x", (1.0,), Distribution.exponential(60), None, 1.5), "priority_share"),
        (lambda: Counter("c", frozenset({"x"}), ((10.0, 5.0),)), "invalid window"),
        (lambda: Counter("c", frozenset({"x"}), ((0.0, 50.0), (40.0, 60.0))), "overlap"),
        (
            lambda: Scenario(
                [ServiceSpec("x", (1.0,), Distribution.exponential(60))], [Counter("c", frozenset({"y"}))]
            ),
            "unknown services",
        ),
        (
            lambda: Scenario(
                [ServiceSpec("x", (1.0,), Distribution.exponential(60))],
                [],
                appointments=[Appointment("y", 0.0)],
            ),
            "unknown service",
        ),
        (lambda: Scenario([], []), "at least one service"),
    ],
)
def test_invalid_scenarios(build, message):
    with pytest.raises(ValueError, match=message):
        build()
