"""Staffing helpers for the planner: counters per interval, checked by simulation, at network scale.

The planner works in intervals (30 minutes by default) and forecasts *arrivals per interval*. Each
interval is staffed as if it were in steady state (the usual stationary-independent-period
approximation); :func:`check_plan_by_simulation` then measures what the plan really achieves when the
queue carries over from one interval to the next.
"""

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from frontdesk.science.erlang import agents_needed, erlang_a, erlang_c
from frontdesk.science.simulation import (
    Counter,
    Distribution,
    Estimate,
    Scenario,
    ServiceSpec,
    estimate,
    replication_seeds,
    simulate,
)

__all__ = [
    "IntervalCheck",
    "IntervalRequirement",
    "NetworkPlan",
    "ServiceDemandSpec",
    "ServiceForecast",
    "StaffingTarget",
    "check_plan_by_simulation",
    "check_skilled_plan_by_simulation",
    "plan_network",
    "required_counters",
]


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """What "well staffed" means for a service.

    Default: 80% of customers called within 10 minutes, a common face-to-face target. With
    ``patience_seconds`` the Erlang A model is used (customers leave after an exponential patience);
    otherwise Erlang C. ``min_counters`` keeps a counter open even with no forecast demand if the branch
    wants one; ``max_counters`` is the physical limit (the plan is capped and flagged).
    """

    service_level: float = 0.8
    target_seconds: float = 600.0
    max_occupancy: float | None = None
    max_average_wait_seconds: float | None = None
    patience_seconds: float | None = None
    max_abandonment: float | None = None
    min_counters: int = 0
    max_counters: int | None = None

    def __post_init__(self) -> None:
        if self.min_counters < 0:
            raise ValueError("min_counters must be >= 0")
        if self.max_counters is not None and self.max_counters < self.min_counters:
            raise ValueError("max_counters must be >= min_counters")


@dataclass(frozen=True, slots=True)
class IntervalRequirement:
    """Counters needed in one interval and what the model predicts with them.

    ``meets_target`` is False only when ``max_counters`` capped the requirement.
    """

    index: int
    arrivals: float
    counters: int
    needed: int
    service_level: float
    average_wait_seconds: float
    occupancy: float
    abandonment: float
    meets_target: bool


def _needed(arrivals_per_hour: float, service_seconds: float, target: StaffingTarget) -> int:
    return agents_needed(
        arrivals_per_hour=arrivals_per_hour,
        service_seconds=service_seconds,
        target_seconds=target.target_seconds,
        service_level=target.service_level,
        max_occupancy=target.max_occupancy,
        max_average_wait_seconds=target.max_average_wait_seconds,
        patience_seconds=target.patience_seconds,
        max_abandonment=target.max_abandonment,
    )


def _clamp(needed: int, target: StaffingTarget) -> int:
    counters = max(needed, target.min_counters)
    if target.max_counters is not None:
        counters = min(counters, target.max_counters)
    return counters


def _per_hour(arrivals: float, interval_minutes: float) -> float:
    if not math.isfinite(arrivals) or arrivals < 0:
        raise ValueError(f"forecast arrivals must be finite and >= 0, got {arrivals!r}")
    return arrivals * 60.0 / interval_minutes


def _check_interval(interval_minutes: float) -> None:
    if not math.isfinite(interval_minutes) or interval_minutes <= 0:
        raise ValueError(f"interval_minutes must be a finite number > 0, got {interval_minutes!r}")


def required_counters(
    arrivals: Sequence[float],
    *,
    service_seconds: float | Sequence[float],
    target: StaffingTarget | None = None,
    interval_minutes: float = 30.0,
) -> list[IntervalRequirement]:
    """Counters per interval for forecast ``arrivals`` (customers per interval), exact per interval.

    ``service_seconds`` is one mean service time or one per interval.
    """
    goal = target or StaffingTarget()
    _check_interval(interval_minutes)
    if isinstance(service_seconds, int | float):
        services: Sequence[float] = [float(service_seconds)] * len(arrivals)
    else:
        services = service_seconds
        if len(services) != len(arrivals):
            raise ValueError("service_seconds must be one number or one per interval")
    plan = []
    for index, (count, service) in enumerate(zip(arrivals, services, strict=True)):
        per_hour = _per_hour(count, interval_minutes)
        needed = _needed(per_hour, service, goal)
        counters = _clamp(needed, goal)
        if goal.patience_seconds is None:
            c = erlang_c(
                arrivals_per_hour=per_hour,
                service_seconds=service,
                agents=counters,
                target_seconds=goal.target_seconds,
            )
            level, wait, busy, abandonment = c.service_level, c.average_wait_seconds, c.occupancy, 0.0
        else:
            a = erlang_a(
                arrivals_per_hour=per_hour,
                service_seconds=service,
                agents=counters,
                target_seconds=goal.target_seconds,
                patience_seconds=goal.patience_seconds,
            )
            level, wait, busy, abandonment = (
                a.service_level,
                a.average_wait_seconds,
                a.occupancy,
                a.probability_abandoning,
            )
        plan.append(
            IntervalRequirement(
                index=index,
                arrivals=float(count),
                counters=counters,
                needed=needed,
                service_level=level,
                average_wait_seconds=wait,
                occupancy=busy,
                abandonment=abandonment,
                meets_target=counters >= needed,
            )
        )
    return plan


@dataclass(frozen=True, slots=True)
class IntervalCheck:
    """Simulated outcome of one interval of a plan (customers grouped by arrival interval).

    Estimates are over replications that saw at least one arrival in the interval.
    """

    index: int
    counters: int
    forecast_arrivals: float
    simulated_arrivals: float
    service_level: Estimate | None
    mean_wait_seconds: Estimate | None
    abandonment_share: Estimate | None
    utilisation: Estimate


def _windows(counters: Sequence[int], width: float) -> list[tuple[tuple[float, float], ...]]:
    """Turn counts per interval into opening windows: counter k is open while the plan has > k."""
    most = max(counters, default=0)
    result = []
    for k in range(most):
        spans: list[tuple[float, float]] = []
        for index, count in enumerate(counters):
            if count > k:
                start, end = index * width, (index + 1) * width
                if spans and spans[-1][1] == start:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
        result.append(tuple(spans))
    return result


def check_plan_by_simulation(
    arrivals: Sequence[float],
    counters: Sequence[int],
    *,
    service_seconds: float,
    target_seconds: float = 600.0,
    patience_seconds: float | None = None,
    service_cv: float = 1.0,
    interval_minutes: float = 30.0,
    replications: int = 20,
    seed: int = 0,
) -> list[IntervalCheck]:
    """Simulate a staffing plan and report the achieved service level per interval.

    Arrivals are non-homogeneous Poisson with the forecast as the mean per interval; service times are
    exponential (``service_cv`` 1) or lognormal; the queue carries over between intervals and a
    counter finishes its customer when its shift ends. Counters open in the last interval stay until
    the queue is empty.
    """
    _check_interval(interval_minutes)
    if len(arrivals) != len(counters):
        raise ValueError("arrivals and counters need one value per interval")
    if any(count < 0 for count in counters):
        raise ValueError("counters must be >= 0")
    if replications < 1:
        raise ValueError("replications must be >= 1")
    width = interval_minutes * 60.0
    service_time = (
        Distribution.exponential(service_seconds)
        if service_cv == 1.0
        else Distribution.lognormal(service_seconds, service_cv)
        if service_cv > 0
        else Distribution.deterministic(service_seconds)
    )
    patience = None if patience_seconds is None else Distribution.exponential(patience_seconds)
    scenario = Scenario(
        services=[
            ServiceSpec(
                "service",
                tuple(_per_hour(count, interval_minutes) for count in arrivals),
                service_time,
                patience,
            )
        ],
        counters=[
            Counter(f"counter-{k + 1}", frozenset({"service"}), spans)
            for k, spans in enumerate(_windows(counters, width))
        ],
        interval_seconds=width,
    )
    return _replicated_checks(
        scenario, arrivals, counters, target_seconds=target_seconds, replications=replications, seed=seed
    )


@dataclass(frozen=True, slots=True)
class ServiceDemandSpec:
    """One service in a skill-aware check: its forecast arrivals per interval and its service time."""

    name: str
    arrivals: Sequence[float]
    service_time: Distribution


def check_skilled_plan_by_simulation(
    demands: Sequence[ServiceDemandSpec],
    open_counters: Sequence[Sequence[tuple[str, frozenset[str]]]],
    *,
    target_seconds: float = 600.0,
    interval_minutes: float = 30.0,
    replications: int = 20,
    seed: int = 0,
) -> list[IntervalCheck]:
    """Like :func:`check_plan_by_simulation`, with each service's own queue and counters with skills.

    ``open_counters`` holds, for each interval, the counters open then as ``(name, services)``; a
    counter keeps its name and services from one interval to the next (the same name is the same
    counter, so a customer it is serving when it closes is finished). A customer is served only by
    a counter whose services include theirs; one whose service no open counter serves waits.
    """
    _check_interval(interval_minutes)
    if replications < 1:
        raise ValueError("replications must be >= 1")
    intervals = len(open_counters)
    if any(len(demand.arrivals) != intervals for demand in demands):
        raise ValueError("every service and the counters need one value per interval")
    width = interval_minutes * 60.0
    skills: dict[str, frozenset[str]] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    for index, counters in enumerate(open_counters):
        start, end = index * width, (index + 1) * width
        for name, services in counters:
            if skills.setdefault(name, services) != services:
                raise ValueError(f"counter {name!r} changes its services between intervals")
            windows = spans.setdefault(name, [])
            if windows and windows[-1][1] == start:
                windows[-1] = (windows[-1][0], end)
            else:
                windows.append((start, end))
    scenario = Scenario(
        services=[
            ServiceSpec(
                demand.name,
                tuple(_per_hour(count, interval_minutes) for count in demand.arrivals),
                demand.service_time,
            )
            for demand in demands
        ],
        counters=[Counter(name, skills[name], tuple(windows)) for name, windows in spans.items()],
        interval_seconds=width,
        horizon_seconds=intervals * width,
    )
    totals = [math.fsum(demand.arrivals[index] for demand in demands) for index in range(intervals)]
    return _replicated_checks(
        scenario,
        totals,
        [len(counters) for counters in open_counters],
        target_seconds=target_seconds,
        replications=replications,
        seed=seed,
    )


def _replicated_checks(
    scenario: Scenario,
    arrivals: Sequence[float],
    counters: Sequence[int],
    *,
    target_seconds: float,
    replications: int,
    seed: int,
) -> list[IntervalCheck]:
    per_interval = [
        simulate(scenario, seed=replication_seed).by_interval(target_seconds)
        for replication_seed in replication_seeds(seed, replications)
    ]
    checks = []
    for index, (forecast, count) in enumerate(zip(arrivals, counters, strict=True)):
        summaries = [run[index] for run in per_interval]
        seen = [summary for summary in summaries if summary.customers]
        checks.append(
            IntervalCheck(
                index=index,
                counters=count,
                forecast_arrivals=float(forecast),
                simulated_arrivals=sum(summary.customers for summary in summaries) / replications,
                service_level=estimate([s.service_level for s in seen]) if seen else None,
                mean_wait_seconds=estimate([s.mean_wait_seconds for s in seen]) if seen else None,
                abandonment_share=estimate([s.abandonment_share for s in seen]) if seen else None,
                utilisation=estimate([s.utilisation for s in summaries]),
            )
        )
    return checks


@dataclass(frozen=True, slots=True)
class ServiceForecast:
    """Forecast arrivals per interval for one service at one branch."""

    branch: str
    service: str
    arrivals: Sequence[float]
    service_seconds: float
    target: StaffingTarget | None = None


@dataclass(slots=True)
class NetworkPlan:
    """Counters per interval for every (branch, service), plus what the computation cost."""

    counters: dict[tuple[str, str], list[int]]
    cells: int
    evaluations: int
    elapsed_seconds: float
    shortfalls: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def branch_totals(self) -> dict[str, list[int]]:
        """Counters per branch and interval, summing services (no pooling between services assumed)."""
        totals: dict[str, list[int]] = {}
        for (branch, _service), plan in self.counters.items():
            current = totals.get(branch)
            if current is None:
                totals[branch] = list(plan)
            else:
                if len(current) < len(plan):
                    current.extend([0] * (len(plan) - len(current)))
                for index, count in enumerate(plan):
                    current[index] += count
        return totals


def plan_network(
    forecasts: Iterable[ServiceForecast],
    *,
    target: StaffingTarget | None = None,
    interval_minutes: float = 30.0,
    arrivals_resolution: float = 0.01,
) -> NetworkPlan:
    """Plan every branch, service and interval of a network in one call.

    Built for volume (hundreds of branches x services x two weeks of half hours): forecast arrivals are
    rounded *up* to ``arrivals_resolution`` customers per interval, so the plan is never lighter than
    the exact one, and each distinct (rounded arrivals, service time, target) is computed once.
    ``shortfalls`` lists the intervals where ``max_counters`` capped the requirement.
    """
    started = time.perf_counter()
    _check_interval(interval_minutes)
    if not math.isfinite(arrivals_resolution) or arrivals_resolution <= 0:
        raise ValueError("arrivals_resolution must be a finite number > 0")
    default = target or StaffingTarget()
    per_hour_factor = 60.0 / interval_minutes * arrivals_resolution
    # One cache per (service time, target): rounded arrivals -> (counters, capped by max_counters?).
    caches: dict[tuple[float, StaffingTarget], dict[int, tuple[int, bool]]] = {}
    plan: dict[tuple[str, str], list[int]] = {}
    shortfalls: dict[tuple[str, str], list[int]] = {}
    cells = 0
    evaluations = 0
    ceil = math.ceil
    infinity = math.inf
    for forecast in forecasts:
        key = (forecast.branch, forecast.service)
        if key in plan:
            raise ValueError(
                f"duplicate forecast for branch {forecast.branch!r}, service {forecast.service!r}"
            )
        goal = forecast.target or default
        service = float(forecast.service_seconds)
        cache = caches.setdefault((service, goal), {})
        counts: list[int] = []
        short: list[int] = []
        for index, arrivals in enumerate(forecast.arrivals):
            if not 0 <= arrivals < infinity:
                raise ValueError(
                    f"forecast arrivals must be finite and >= 0, got {arrivals!r} "
                    f"for {forecast.branch!r}/{forecast.service!r}"
                )
            units = ceil(arrivals / arrivals_resolution - 1e-9)
            cached = cache.get(units)
            if cached is None:
                needed = _needed(units * per_hour_factor, service, goal)
                counters = _clamp(needed, goal)
                cached = cache[units] = (counters, counters < needed)
                evaluations += 1
            counts.append(cached[0])
            if cached[1]:
                short.append(index)
        cells += len(counts)
        plan[key] = counts
        if short:
            shortfalls[key] = short
    return NetworkPlan(
        counters=plan,
        cells=cells,
        evaluations=evaluations,
        elapsed_seconds=time.perf_counter() - started,
        shortfalls=shortfalls,
    )
