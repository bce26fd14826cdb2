"""Discrete-event simulation of a branch: the check on what the Erlang formulas cannot see.

The formulas assume one service, identical counters, a constant arrival rate and exponential times.
A real branch has several services, counters that only serve some of them, priority customers,
appointments that arrive roughly on time, lognormal service times, customers who give up, and demand
that changes every half hour. This simulator models all of that and is reproducible: the same scenario
and seed give the same customers, bit for bit (one ``random.Random(seed)`` drawn in a fixed order).

Queue discipline: priority customers (appointments, and walk-ins flagged priority) are called before
regular ones; within a class, first come first served across every service the free counter handles.
Service is never interrupted: a counter that closes finishes its current customer. Arrivals stop at the
horizon; counters whose last window reaches the horizon keep serving until the queue is empty, so late
arrivals are not silently dropped.
"""

import bisect
import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist, fmean, stdev
from typing import Literal

__all__ = [
    "Appointment",
    "Counter",
    "CounterUsage",
    "CustomerRecord",
    "Distribution",
    "Estimate",
    "ReplicatedSummary",
    "Scenario",
    "ServiceSpec",
    "SimulationResult",
    "Summary",
    "estimate",
    "replicate",
    "replication_seeds",
    "simulate",
    "t_quantile",
]

DistributionKind = Literal["exponential", "lognormal", "deterministic"]


@dataclass(frozen=True, slots=True)
class Distribution:
    """A positive random duration in seconds, given by its mean and coefficient of variation.

    Exponential (CV 1) matches the Erlang models; lognormal (any CV) is what service times in branches
    usually look like; deterministic (CV 0) is handy for tests and fixed-length appointments.
    """

    mean_seconds: float
    kind: DistributionKind = "exponential"
    cv: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean_seconds) or self.mean_seconds <= 0:
            raise ValueError(f"mean_seconds must be a finite number > 0, got {self.mean_seconds!r}")
        if self.kind == "exponential" and self.cv != 1.0:
            raise ValueError("an exponential distribution has cv 1; use kind='lognormal' for another cv")
        if self.kind == "deterministic" and self.cv != 0.0:
            raise ValueError("a deterministic duration has cv 0")
        if self.kind == "lognormal" and (not math.isfinite(self.cv) or self.cv <= 0):
            raise ValueError(f"a lognormal distribution needs a finite cv > 0, got {self.cv!r}")
        if self.kind not in ("exponential", "lognormal", "deterministic"):
            raise ValueError(f"unknown distribution kind {self.kind!r}")

    @classmethod
    def exponential(cls, mean_seconds: float) -> "Distribution":
        return cls(mean_seconds, "exponential", 1.0)

    @classmethod
    def lognormal(cls, mean_seconds: float, cv: float) -> "Distribution":
        return cls(mean_seconds, "lognormal", cv)

    @classmethod
    def deterministic(cls, seconds: float) -> "Distribution":
        return cls(seconds, "deterministic", 0.0)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A zero-argument sampler bound to ``rng``; avoids attribute look-ups in the hot loop."""
        mean = self.mean_seconds
        if self.kind == "exponential":
            rate = 1.0 / mean
            expovariate = rng.expovariate
            return lambda: expovariate(rate)
        if self.kind == "lognormal":
            sigma = math.sqrt(math.log1p(self.cv * self.cv))
            mu = math.log(mean) - 0.5 * sigma * sigma
            lognormvariate = rng.lognormvariate
            return lambda: lognormvariate(mu, sigma)
        return lambda: mean


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service offered at the branch.

    ``arrival_rates_per_hour`` are walk-in rates, constant within each interval of the scenario
    (beyond the list the rate is 0). ``patience`` None means customers never give up.
    """

    name: str
    arrival_rates_per_hour: Sequence[float]
    service_time: Distribution
    patience: Distribution | None = None
    priority_share: float = 0.0

    def __post_init__(self) -> None:
        for rate in self.arrival_rates_per_hour:
            if not math.isfinite(rate) or rate < 0:
                raise ValueError(f"arrival rates of {self.name!r} must be finite and >= 0, got {rate!r}")
        if not 0 <= self.priority_share <= 1:
            raise ValueError(f"priority_share of {self.name!r} must be in [0, 1]")


@dataclass(frozen=True, slots=True)
class Counter:
    """A counter (server) with the services it handles and when it is open.

    ``windows`` are sorted, non-overlapping ``(open, close)`` times in seconds; empty means open all day.
    A window that closes at or after the horizon keeps the counter open until the queue is empty.
    """

    name: str
    services: frozenset[str]
    windows: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        previous_end = -math.inf
        for start, end in self.windows:
            if not (math.isfinite(start) and start >= 0 and end > start):
                raise ValueError(f"counter {self.name!r} has an invalid window ({start!r}, {end!r})")
            if start < previous_end:
                raise ValueError(f"windows of counter {self.name!r} must be sorted and must not overlap")
            previous_end = end


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked visit; the customer arrives around ``scheduled_seconds`` and is served with priority."""

    service: str
    scheduled_seconds: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one simulated day needs.

    Appointment customers arrive at their scheduled time plus a normal punctuality offset (negative
    means early). ``warmup_seconds`` excludes early arrivals from the statistics, for steady-state
    comparisons. The horizon defaults to the longest arrival-rate list times the interval length.
    """

    services: Sequence[ServiceSpec]
    counters: Sequence[Counter]
    interval_seconds: float = 1800.0
    appointments: Sequence[Appointment] = ()
    punctuality_mean_seconds: float = 0.0
    punctuality_sd_seconds: float = 0.0
    warmup_seconds: float = 0.0
    horizon_seconds: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.interval_seconds) or self.interval_seconds <= 0:
            raise ValueError("interval_seconds must be a finite number > 0")
        names = [service.name for service in self.services]
        if not names:
            raise ValueError("a scenario needs at least one service")
        if len(set(names)) != len(names):
            raise ValueError("service names must be unique")
        known = set(names)
        for counter in self.counters:
            unknown = counter.services - known
            if unknown:
                raise ValueError(f"counter {counter.name!r} serves unknown services {sorted(unknown)}")
        for appointment in self.appointments:
            if appointment.service not in known:
                raise ValueError(f"appointment for unknown service {appointment.service!r}")
        if self.punctuality_sd_seconds < 0:
            raise ValueError("punctuality_sd_seconds must be >= 0")
        if self.warmup_seconds < 0 or self.warmup_seconds >= self.horizon:
            raise ValueError("warmup_seconds must be >= 0 and shorter than the horizon")

    @property
    def horizon(self) -> float:
        if self.horizon_seconds is not None:
            return self.horizon_seconds
        longest = max(len(service.arrival_rates_per_hour) for service in self.services)
        return longest * self.interval_seconds


@dataclass(slots=True)
class CustomerRecord:
    """What happened to one customer. Times in seconds from the start of the day.

    ``end_seconds`` is the end of service, or the moment an impatient customer left. A customer who is
    neither served nor abandoned was still waiting when the simulation ran out of open counters.
    """

    id: int
    service: str
    arrival_seconds: float
    priority: bool
    appointment: bool
    service_seconds: float
    patience_seconds: float
    service_start_seconds: float | None = None
    end_seconds: float | None = None
    abandoned: bool = False
    counter: str | None = None

    @property
    def served(self) -> bool:
        return self.service_start_seconds is not None

    def wait_seconds(self, until: float) -> float:
        """Time spent queueing: to service start, to abandonment, or to ``until`` if never called."""
        if self.service_start_seconds is not None:
            return self.service_start_seconds - self.arrival_seconds
        if self.abandoned and self.end_seconds is not None:
            return self.end_seconds - self.arrival_seconds
        return max(0.0, until - self.arrival_seconds)


@dataclass(frozen=True, slots=True)
class CounterUsage:
    """Staffed seconds (windows plus overtime finishing a customer) and busy seconds of a counter."""

    name: str
    open_seconds: float
    busy_seconds: float


@dataclass(frozen=True, slots=True)
class Summary:
    """Statistics over a set of arrivals; the same definitions as :mod:`frontdesk.science.erlang`.

    ``service_level`` is the share of arrivals served after waiting at most the target (abandonment and
    never being served are failures); ``mean_wait_seconds`` averages the queueing time of every arrival.
    ``utilisation`` is busy over staffed counter time in the same period, over all counters (also when
    the summary is restricted to one service: counters may be shared).
    """

    customers: int
    served: int
    abandoned: int
    unserved: int
    mean_wait_seconds: float
    mean_wait_served_seconds: float
    service_level: float
    abandonment_share: float
    utilisation: float


def _summarise(
    records: Sequence[CustomerRecord], target: float, until: float, busy: float, open_time: float
) -> Summary:
    count = len(records)
    utilisation = busy / open_time if open_time > 0 else 0.0
    if count == 0:
        return Summary(0, 0, 0, 0, 0.0, 0.0, 1.0, 0.0, utilisation)
    served = abandoned = within = 0
    total_wait = served_wait = 0.0
    for record in records:
        wait = record.wait_seconds(until)
        total_wait += wait
        if record.service_start_seconds is not None:
            served += 1
            served_wait += wait
            if wait <= target:
                within += 1
        elif record.abandoned:
            abandoned += 1
    return Summary(
        customers=count,
        served=served,
        abandoned=abandoned,
        unserved=count - served - abandoned,
        mean_wait_seconds=total_wait / count,
        mean_wait_served_seconds=served_wait / served if served else 0.0,
        service_level=within / count,
        abandonment_share=abandoned / count,
        utilisation=utilisation,
    )


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Per-customer records of one simulated day plus the counters' open windows."""

    customers: list[CustomerRecord]
    counter_windows: dict[str, tuple[tuple[float, float], ...]]
    horizon_seconds: float
    warmup_seconds: float
    interval_seconds: float
    end_seconds: float

    def _spans(self) -> dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]]:
        """Busy and staffed spans per counter.

        Staffed time is the opening windows plus any overtime spent finishing a customer after a window
        closed, so utilisation never exceeds 1 and overtime is not hidden.
        """
        spans: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {
            name: ([], list(windows)) for name, windows in self.counter_windows.items()
        }
        for record in self.customers:
            if record.counter is None or record.service_start_seconds is None or record.end_seconds is None:
                continue
            begin, finish = record.service_start_seconds, record.end_seconds
            busy, staffed = spans[record.counter]
            busy.append((begin, finish))
            windows = self.counter_windows[record.counter]
            position = bisect.bisect_right(windows, (begin, math.inf)) - 1
            close = windows[position][1] if position >= 0 else begin
            if finish > close:
                staffed.append((max(close, begin), finish))
        return spans

    def _open_and_busy(self, start: float, end: float) -> tuple[float, float, list[CounterUsage]]:
        usages = []
        for name, (busy, staffed) in self._spans().items():
            busy_seconds = sum(max(0.0, min(end, close) - max(start, open_)) for open_, close in busy)
            open_seconds = sum(max(0.0, min(end, close) - max(start, open_)) for open_, close in staffed)
            usages.append(CounterUsage(name, open_seconds, busy_seconds))
        return (
            sum(usage.open_seconds for usage in usages),
            sum(usage.busy_seconds for usage in usages),
            usages,
        )

    def counter_usage(self) -> list[CounterUsage]:
        """Open and busy seconds of each counter between the warm-up and the horizon."""
        return self._open_and_busy(self.warmup_seconds, self.horizon_seconds)[2]

    def summary(self, target_seconds: float, *, service: str | None = None) -> Summary:
        """Statistics over customers arriving between the warm-up and the horizon."""
        records = [
            record
            for record in self.customers
            if self.warmup_seconds <= record.arrival_seconds < self.horizon_seconds
            and (service is None or record.service == service)
        ]
        open_time, busy, _ = self._open_and_busy(self.warmup_seconds, self.horizon_seconds)
        return _summarise(records, target_seconds, self.end_seconds, busy, open_time)

    def by_interval(self, target_seconds: float, *, service: str | None = None) -> list[Summary]:
        """Statistics per arrival interval (customers grouped by the interval they arrived in).

        Utilisation is counter time within each interval; waits belong to the interval of arrival.
        """
        width = self.interval_seconds
        intervals = math.ceil(self.horizon_seconds / width - 1e-9)
        groups: list[list[CustomerRecord]] = [[] for _ in range(intervals)]
        busy = [0.0] * intervals
        open_time = [0.0] * intervals

        def spread(totals: list[float], start: float, end: float) -> None:
            end = min(end, self.horizon_seconds)
            index = int(start // width)
            while index < intervals and index * width < end:
                overlap = min(end, (index + 1) * width) - max(start, index * width)
                if overlap > 0:
                    totals[index] += overlap
                index += 1

        for record in self.customers:
            index = int(record.arrival_seconds // width)
            if 0 <= index < intervals and (service is None or record.service == service):
                groups[index].append(record)
        for busy_spans, staffed_spans in self._spans().values():
            for start, end in busy_spans:
                spread(busy, start, end)
            for start, end in staffed_spans:
                spread(open_time, start, end)
        return [
            _summarise(group, target_seconds, self.end_seconds, busy[index], open_time[index])
            for index, group in enumerate(groups)
        ]


# Event kinds, ordered so that at equal times completions free counters before openings and arrivals.
_COMPLETION = 0
_CLOSE = 1
_OPEN = 2
_ABANDON = 3


class _CounterState:
    __slots__ = ("busy", "free_since", "index", "name", "open", "services")

    def __init__(self, index: int, name: str, services: tuple[int, ...]) -> None:
        self.index = index
        self.name = name
        self.services = services
        self.open = False
        self.busy = False
        self.free_since = 0.0


def _arrivals(scenario: Scenario, rng: random.Random) -> list[CustomerRecord]:
    horizon = scenario.horizon
    interval = scenario.interval_seconds
    customers: list[CustomerRecord] = []
    for service in scenario.services:
        rates = [rate / 3600.0 for rate in service.arrival_rates_per_hour]
        peak = max(rates, default=0.0)
        if peak <= 0:
            continue
        draw_service = service.service_time.sampler(rng)
        draw_patience = service.patience.sampler(rng) if service.patience is not None else None
        expovariate = rng.expovariate
        uniform = rng.random
        share = service.priority_share
        last = len(rates)
        time = 0.0
        # Non-homogeneous Poisson process by thinning: candidates at the peak rate, each kept with
        # probability rate(t)/peak.
        while True:
            time += expovariate(peak)
            if time >= horizon:
                break
            index = int(time // interval)
            rate = rates[index] if index < last else 0.0
            if uniform() * peak >= rate:
                continue
            priority = share > 0 and uniform() < share
            customers.append(
                CustomerRecord(
                    id=0,
                    service=service.name,
                    arrival_seconds=time,
                    priority=priority,
                    appointment=False,
                    service_seconds=draw_service(),
                    patience_seconds=draw_patience() if draw_patience is not None else math.inf,
                )
            )
    by_name = {service.name: service for service in scenario.services}
    samplers = {
        name: (
            service.service_time.sampler(rng),
            service.patience.sampler(rng) if service.patience is not None else None,
        )
        for name, service in by_name.items()
    }
    for appointment in scenario.appointments:
        offset = (
            rng.gauss(scenario.punctuality_mean_seconds, scenario.punctuality_sd_seconds)
            if scenario.punctuality_sd_seconds > 0
            else scenario.punctuality_mean_seconds
        )
        draw_service, draw_patience = samplers[appointment.service]
        customers.append(
            CustomerRecord(
                id=0,
                service=appointment.service,
                arrival_seconds=max(0.0, appointment.scheduled_seconds + offset),
                priority=True,
                appointment=True,
                service_seconds=draw_service(),
                patience_seconds=draw_patience() if draw_patience is not None else math.inf,
            )
        )
    customers.sort(key=lambda record: record.arrival_seconds)
    for number, record in enumerate(customers):
        record.id = number
    return customers


def simulate(scenario: Scenario, *, seed: int) -> SimulationResult:
    """Simulate one day of ``scenario``; the same seed always gives the same records."""
    rng = random.Random(seed)
    customers = _arrivals(scenario, rng)
    horizon = scenario.horizon
    service_index = {service.name: index for index, service in enumerate(scenario.services)}
    service_count = len(scenario.services)

    counters: list[_CounterState] = []
    serving: list[list[_CounterState]] = [[] for _ in range(service_count)]
    events: list[tuple[float, int, int, int]] = []  # (time, kind, sequence, payload)
    sequence = 0
    windows: dict[str, tuple[tuple[float, float], ...]] = {}
    for index, counter in enumerate(scenario.counters):
        state = _CounterState(
            index, counter.name, tuple(sorted(service_index[name] for name in counter.services))
        )
        counters.append(state)
        for service in state.services:
            serving[service].append(state)
        spans = counter.windows or ((0.0, math.inf),)
        effective = []
        for start, end in spans:
            if start >= horizon:
                continue
            close = math.inf if end >= horizon else end
            effective.append((start, close))
            events.append((start, _OPEN, sequence, index))
            sequence += 1
            if close < math.inf:
                events.append((close, _CLOSE, sequence, index))
                sequence += 1
        windows[counter.name] = tuple((start, min(end, horizon)) for start, end in effective)
    heapq.heapify(events)

    # queues[service][class]: FCFS deques; class 0 is priority. Abandoned customers are skipped lazily.
    queues: list[tuple[deque[CustomerRecord], deque[CustomerRecord]]] = [
        (deque(), deque()) for _ in range(service_count)
    ]
    customer_service = [service_index[record.service] for record in customers]
    heappush = heapq.heappush
    heappop = heapq.heappop

    def start_service(state: _CounterState, record: CustomerRecord, now: float) -> None:
        nonlocal sequence
        state.busy = True
        record.service_start_seconds = now
        record.counter = state.name
        end = now + record.service_seconds
        record.end_seconds = end
        heappush(events, (end, _COMPLETION, sequence, state.index))
        sequence += 1

    def next_customer(state: _CounterState) -> CustomerRecord | None:
        for klass in (0, 1):
            best: deque[CustomerRecord] | None = None
            best_time = math.inf
            for service in state.services:
                queue = queues[service][klass]
                while queue and queue[0].abandoned:
                    queue.popleft()
                if queue and queue[0].arrival_seconds < best_time:
                    best = queue
                    best_time = queue[0].arrival_seconds
            if best is not None:
                return best.popleft()
        return None

    def call_next(state: _CounterState, now: float) -> None:
        record = next_customer(state)
        if record is None:
            state.busy = False
            state.free_since = now
        else:
            start_service(state, record, now)

    position = 0
    total = len(customers)
    now = 0.0
    finished = 0.0  # time of the last event that changed anything (stale abandonments do not count)
    while position < total or events:
        if position < total and (not events or customers[position].arrival_seconds < events[0][0]):
            record = customers[position]
            service = customer_service[position]
            position += 1
            now = finished = record.arrival_seconds
            chosen: _CounterState | None = None
            for state in serving[service]:
                if state.open and not state.busy and (chosen is None or state.free_since < chosen.free_since):
                    chosen = state
            if chosen is not None:
                start_service(chosen, record, now)
                continue
            queues[service][0 if record.priority else 1].append(record)
            if record.patience_seconds < math.inf:
                heappush(events, (now + record.patience_seconds, _ABANDON, sequence, record.id))
                sequence += 1
            continue
        now, kind, _, payload = heappop(events)
        if kind == _ABANDON:
            record = customers[payload]
            if record.service_start_seconds is None:
                record.abandoned = True
                record.end_seconds = finished = now
            continue
        finished = now
        if kind == _COMPLETION:
            state = counters[payload]
            if state.open:
                call_next(state, now)
            else:
                state.busy = False
                state.free_since = now
        elif kind == _OPEN:
            state = counters[payload]
            state.open = True
            if not state.busy:
                call_next(state, now)
        else:  # _CLOSE
            counters[payload].open = False
    return SimulationResult(
        customers=customers,
        counter_windows=windows,
        horizon_seconds=horizon,
        warmup_seconds=scenario.warmup_seconds,
        interval_seconds=scenario.interval_seconds,
        end_seconds=max(finished, horizon),
    )


# --------------------------------------------------------------------------------------------------
# Independent replications
# --------------------------------------------------------------------------------------------------


def _t_central_probability(theta: float, degrees_of_freedom: int) -> float:
    """P(|T| <= t) for Student's t with ``theta = atan(t / sqrt(nu))`` (Abramowitz & Stegun 26.7.3-4)."""
    sine, cosine = math.sin(theta), math.cos(theta)
    squared = cosine * cosine
    if degrees_of_freedom % 2:
        if degrees_of_freedom == 1:
            return 2 * theta / math.pi
        term = cosine
        total = cosine
        for k in range(3, degrees_of_freedom - 1, 2):
            term *= squared * (k - 1) / k
            total += term
        return 2 / math.pi * (theta + sine * total)
    term = 1.0
    total = 1.0
    for k in range(2, degrees_of_freedom - 1, 2):
        term *= squared * (k - 1) / k
        total += term
    return sine * total


def t_quantile(probability: float, degrees_of_freedom: int) -> float:
    """Quantile of Student's t, for confidence half-widths without SciPy.

    Up to 200 degrees of freedom the exact finite-series distribution function is inverted by
    bisection (to ~1e-12); beyond, the Cornish-Fisher expansion (A&S 26.7.5) is better than 1e-7.
    """
    if not 0 < probability < 1:
        raise ValueError("probability must be in (0, 1)")
    if isinstance(degrees_of_freedom, bool) or degrees_of_freedom < 1:
        raise ValueError("degrees_of_freedom must be an integer >= 1")
    if probability == 0.5:
        return 0.0
    if degrees_of_freedom > 200:
        z = NormalDist().inv_cdf(probability)
        nu = float(degrees_of_freedom)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        return z + g1 / nu + g2 / nu**2 + g3 / nu**3
    central = abs(2 * probability - 1)
    low, high = 0.0, math.pi / 2
    for _ in range(100):
        middle = 0.5 * (low + high)
        if _t_central_probability(middle, degrees_of_freedom) < central:
            low = middle
        else:
            high = middle
        if high - low < 1e-15:
            break
    value = math.sqrt(degrees_of_freedom) * math.tan(0.5 * (low + high))
    return math.copysign(value, probability - 0.5)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A sample mean with the half-width of its confidence interval (``math.inf`` from one value)."""

    mean: float
    half_width: float
    samples: int


def estimate(values: Sequence[float], *, confidence: float = 0.95) -> Estimate:
    """Mean and Student-t half-width of independent observations (e.g. one per replication)."""
    if not values:
        raise ValueError("estimate needs at least one value")
    mean = fmean(values)
    if len(values) < 2:
        return Estimate(mean, math.inf, len(values))
    quantile = t_quantile(0.5 + confidence / 2, len(values) - 1)
    return Estimate(mean, quantile * stdev(values) / math.sqrt(len(values)), len(values))


@dataclass(frozen=True, slots=True)
class ReplicatedSummary:
    """Independent-replication estimates; each replication is one simulated day."""

    replications: int
    customers: Estimate
    mean_wait_seconds: Estimate
    service_level: Estimate
    abandonment_share: Estimate
    utilisation: Estimate
    per_replication: list[Summary] = field(repr=False)


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Seeds of the replications, derived from one master seed so a study is reproducible."""
    master = random.Random(seed)
    return [master.getrandbits(63) for _ in range(replications)]


def replicate(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    target_seconds: float,
    service: str | None = None,
    confidence: float = 0.95,
) -> ReplicatedSummary:
    """Run independent days and report each statistic with a confidence half-width.

    Independent replications rather than batch means: they stay valid when rates vary over the day.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    summaries = [
        simulate(scenario, seed=replication_seed).summary(target_seconds, service=service)
        for replication_seed in replication_seeds(seed, replications)
    ]

    def over(values: list[float]) -> Estimate:
        return estimate(values, confidence=confidence)

    return ReplicatedSummary(
        replications=replications,
        customers=over([float(summary.customers) for summary in summaries]),
        mean_wait_seconds=over([summary.mean_wait_seconds for summary in summaries]),
        service_level=over([summary.service_level for summary in summaries]),
        abandonment_share=over([summary.abandonment_share for summary in summaries]),
        utilisation=over([summary.utilisation for summary in summaries]),
        per_replication=summaries,
    )
