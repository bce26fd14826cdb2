"""The waiting-time estimator shown to customers: one estimator for the live queue and for the backtest.

The estimator turns a :class:`QueueSnapshot` (what is known about a queue at one moment: who is ahead of
the ticket, which counters are open and busy, what recently happened) into an :class:`Estimate`: the
expected remaining wait and a range meant to hold about 80% of real waits.

Its parameters, an :class:`EstimatorModel`, are learned from history by :func:`fit` (a periodic task on
the live side) and stored as a JSON-ready dict (:meth:`EstimatorModel.to_dict`). They are

* the service-time distribution (mean, coefficient of variation, count) per queue and hour, and per pool
  and hour (a *pool* is the group of queues that share counters);
* the abandonment rate of each pool (abandonments per second of waiting, the exponential-patience MLE);
* a ridge least-squares model of the wait on about twenty hand-made features of the snapshot (the
  queue-length predictor ``(n+1)·m/s`` with and without abandonment, the people ahead per queue and
  priority class, counters recently active and skilled, recent waits, head-of-line wait …);
* a calibration of the residuals per band of the prediction: the 10th and 90th percentiles give the
  range; the centre of the densest two-minute window pulls the announced figure half-way towards the
  most likely wait, trading a little squared error for many more estimates within ±60 s.

Hourly service means are shrunk towards the pool's mean as far as their sampling noise warrants. The
least-squares coefficients are shrunk towards "the queue-length predictor as it is", and the history
chooses how far: the first three quarters are fitted with several strengths, the last quarter picks the
strongest one that predicts it (almost) as well as the best. The same held-out quarter calibrates the
range, so it is measured out of sample; the final coefficients are then refitted on everything.

Events sharing a timestamp are ordered arrivals first (:class:`EventKind`), so the snapshot of an arrival
holds only what happened strictly before it.

Population: the model is fitted on customers who queued and were served after waiting. Whether a
customer is served is decided by the future (impatient customers leave), so this population is chosen
by an outcome unknown at the moment of the estimate; the backtest evaluates the same population.

Time: event times are seconds on the branch's wall clock (local time written as seconds since
1970-01-01, as ``calendar.timegm`` would give for the local date and time). Only differences, the hour of
the day and the weekday are used.

Pure Python, standard library only, no Django.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = [
    "DEFAULT_HEAD_START",
    "FEATURE_NAMES",
    "Estimate",
    "EstimatorModel",
    "EventKind",
    "QueueEvent",
    "QueueSnapshot",
    "QueueStateTracker",
    "ServiceStats",
    "WaitingTimeEstimator",
    "collect_training_rows",
    "features",
    "fit",
    "hour_and_weekday",
    "pool_per_queue",
    "queue_length_estimate",
]

DAY = 86_400.0
#: Seconds of waiting credited to each priority class when it joins (higher class = served earlier).
DEFAULT_HEAD_START: Mapping[int, float] = {0: 0.0}
RECENT_WAITS = 10
#: A visit still waiting or in service after this long is taken to have gone unlogged and is forgotten.
FORGET_AFTER = 24 * 3600.0
ACTIVE_WINDOW = 900.0
RECENT_WINDOW = 300.0
QUEUE_SKILL_WINDOW = 1800.0
SHORT_SERVICE = 120.0
LOW_SHARE, HIGH_SHARE = 0.10, 0.90
HIT_WINDOW = 60.0
MIN_BAND = 100
#: How far the announced figure moves from the mean towards the centre of the densest ±60 s window.
CENTRE_PULL = 0.5
#: Strengths (per fitted customer) of the pull towards the queue-length predictor; the history picks one.
SHRINKAGE_GRID = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0)
SHRINKAGE_TOLERANCE = 0.005
#: The pull may cost at most this share of the band's root-mean-square residual (and half the window).
PULL_CAP = 0.3
MODEL_VERSION = 1


class EventKind(IntEnum):
    """What happened to a visit. The values order events that share a timestamp."""

    ARRIVE = 0  # joined the queue
    START = 1  # service started: the wait is over and known
    END = 2  # service ended: the counter is free
    ABANDON = 3  # left the queue without being served


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One fact of a queue log; ``server`` is the counter or agent (empty when unknown)."""

    time: float
    kind: EventKind
    visit: str
    queue: str
    priority: int = 0
    server: str = ""


def pool_per_queue(queue: str) -> str:
    """Pool function for logs where every queue has its own counters."""
    return queue


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What is known about a ticket's queue at the moment of an estimate (live: built from the database).

    ``priority``: the ticket's class, 0 = regular. ``hour``/``weekday``: local time of the moment.
    ``ahead_*``: customers who will be served before this ticket under the queue's order, in its own queue
    (``same``) or in another queue of the pool (``other``), regular or of a priority class.
    ``waiting_total``: everyone waiting in the pool. ``appointments_due``: booked customers expected to be
    served ahead of this ticket before it is called.
    ``counters_open``: counters staffed for the pool (replay: busy, or active in the last 15 minutes);
    ``counters_recent``: those that started or ended a service in the last five minutes;
    ``counters_for_queue``: those able to serve this queue (live: open and skilled; replay: served it in the
    last 30 minutes); ``counters_busy``: those serving now; ``elapsed_service``: how long each current
    service has lasted.
    ``recent_waits``: the last waits of this queue that are over and known, oldest first;
    ``last_entered_wait``: the wait of the last customer of the queue to enter service;
    ``head_of_line_wait``/``pool_head_of_line_wait``: how long the longest-waiting customer of the queue /
    of the pool has waited so far.
    """

    queue: str
    pool: str
    priority: int
    hour: int
    weekday: int
    ahead_regular_same: int = 0
    ahead_priority_same: int = 0
    ahead_regular_other: int = 0
    ahead_priority_other: int = 0
    waiting_total: int = 0
    appointments_due: int = 0
    counters_open: int = 1
    counters_recent: int = 1
    counters_for_queue: int = 1
    counters_busy: int = 0
    elapsed_service: tuple[float, ...] = ()
    recent_waits: tuple[float, ...] = ()
    last_entered_wait: float | None = None
    head_of_line_wait: float = 0.0
    pool_head_of_line_wait: float = 0.0

    @property
    def ahead(self) -> int:
        """Everyone who will be served before this ticket, appointments included."""
        return (
            self.ahead_regular_same
            + self.ahead_priority_same
            + self.ahead_regular_other
            + self.ahead_priority_other
            + self.appointments_due
        )

    @property
    def ahead_same_queue(self) -> int:
        return self.ahead_regular_same + self.ahead_priority_same + self.appointments_due


@dataclass(frozen=True, slots=True)
class Estimate:
    """Expected remaining wait and the range announced with it, in seconds."""

    expected_seconds: float
    low_seconds: float
    high_seconds: float


@dataclass(frozen=True, slots=True)
class ServiceStats:
    mean: float
    cv: float
    count: int


@dataclass(slots=True)
class _Waiting:
    queue: str
    priority: int
    arrived: float
    order: float


@dataclass(slots=True)
class _PoolState:
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    in_service: dict[str, tuple[str, float, str]] = field(default_factory=dict)
    server_seen: dict[str, float] = field(default_factory=dict)
    queue_servers: dict[str, dict[str, float]] = field(default_factory=dict)
    recent_waits: dict[str, deque[float]] = field(default_factory=dict)
    last_entered: dict[str, float] = field(default_factory=dict)


class QueueStateTracker:
    """Follows a queue log in time order and builds the snapshot a customer's estimate is made from.

    The backtest feeds it every event of a log; for an arrival it calls :meth:`snapshot` *before*
    :meth:`apply`, so a snapshot contains only what happened before that moment. The live side builds the
    same :class:`QueueSnapshot` from the database instead.

    ``head_start`` credits each priority class with seconds of waiting (the order is arrival time minus
    the credit; a large credit is a strict priority). ``forget_after`` drops visits whose end never came.
    """

    def __init__(
        self,
        *,
        pool_of: Callable[[str], str] = pool_per_queue,
        head_start: Mapping[int, float] = DEFAULT_HEAD_START,
        forget_after: float = FORGET_AFTER,
    ) -> None:
        self.pool_of = pool_of
        self.head_start = dict(head_start)
        self.forget_after = forget_after
        self._pools: dict[str, _PoolState] = {}
        self._pool_cache: dict[str, str] = {}

    def _pool(self, queue: str) -> tuple[str, _PoolState]:
        name = self._pool_cache.get(queue)
        if name is None:
            name = self._pool_cache[queue] = self.pool_of(queue)
        state = self._pools.get(name)
        if state is None:
            state = self._pools[name] = _PoolState()
        return name, state

    def waiting_since(self, queue: str, visit: str) -> float | None:
        """When a visit still waiting joined the queue (None if it is not waiting)."""
        entry = self._pool(queue)[1].waiting.get(visit)
        return None if entry is None else entry.arrived

    def apply(self, event: QueueEvent) -> float | None:
        """Take one event into the state. Returns the wait when the event ends a wait (start or abandon)."""
        state = self._pool(event.queue)[1]
        now = event.time
        kind = event.kind
        if kind is EventKind.ARRIVE:
            credit = self.head_start.get(event.priority, 0.0)
            state.waiting[event.visit] = _Waiting(event.queue, event.priority, now, now - credit)
            return None
        if kind is EventKind.START:
            entry = state.waiting.pop(event.visit, None)
            server = event.server or f"?{event.visit}"
            state.in_service[event.visit] = (server, now, event.queue)
            if event.server:
                state.server_seen[server] = now
                state.queue_servers.setdefault(event.queue, {})[server] = now
            if entry is None:
                return None
            wait = now - entry.arrived
            waits = state.recent_waits.get(event.queue)
            if waits is None:
                waits = state.recent_waits[event.queue] = deque(maxlen=RECENT_WAITS)
            waits.append(wait)
            state.last_entered[event.queue] = wait
            return wait
        if kind is EventKind.END:
            service = state.in_service.pop(event.visit, None)
            if event.server:
                state.server_seen[event.server] = now
            elif service is not None and not service[0].startswith("?"):
                state.server_seen[service[0]] = now
            return None
        entry = state.waiting.pop(event.visit, None)
        return None if entry is None else now - entry.arrived

    def snapshot(self, event: QueueEvent, *, appointments_due: int = 0) -> QueueSnapshot:
        """The snapshot for a ticket of ``event.queue``/``event.priority`` at ``event.time``.

        For an arrival call it before :meth:`apply`. For a ticket already waiting (a live update), the
        people ahead are those before it in the queue's order; the result estimates the remaining wait.
        """
        pool, state = self._pool(event.queue)
        now = event.time
        queue = event.queue
        own = state.waiting.get(event.visit)
        order = own.order if own is not None else now - self.head_start.get(event.priority, 0.0)
        regular_same = priority_same = regular_other = priority_other = 0
        head_same = head_pool = 0.0
        stale: list[str] = []
        for visit, entry in state.waiting.items():
            waited = now - entry.arrived
            if waited > self.forget_after:
                stale.append(visit)
                continue
            if waited > head_pool:
                head_pool = waited
            same = entry.queue == queue
            if same and waited > head_same:
                head_same = waited
            if entry.order < order or (
                own is not None and entry.order == order and entry.arrived < own.arrived
            ):
                if same:
                    if entry.priority > 0:
                        priority_same += 1
                    else:
                        regular_same += 1
                elif entry.priority > 0:
                    priority_other += 1
                else:
                    regular_other += 1
        busy_servers = set()
        elapsed = []
        for visit, (server, started, _queue) in state.in_service.items():
            if now - started > self.forget_after:
                stale.append(visit)
                continue
            busy_servers.add(server)
            elapsed.append(now - started)
        for visit in stale:  # a visit whose end was never logged must not stay in the queue for ever
            state.waiting.pop(visit, None)
            state.in_service.pop(visit, None)
        open_counters = set(busy_servers)
        recent = 0
        for server, seen in state.server_seen.items():
            if now - seen <= ACTIVE_WINDOW:
                open_counters.add(server)
                if now - seen <= RECENT_WINDOW:
                    recent += 1
        skilled = 0
        for seen in state.queue_servers.get(queue, {}).values():
            if now - seen <= QUEUE_SKILL_WINDOW:
                skilled += 1
        waits = state.recent_waits.get(queue)
        hour, weekday = hour_and_weekday(now)
        return QueueSnapshot(
            queue=queue,
            pool=pool,
            priority=event.priority,
            hour=hour,
            weekday=weekday,
            ahead_regular_same=regular_same,
            ahead_priority_same=priority_same,
            ahead_regular_other=regular_other,
            ahead_priority_other=priority_other,
            waiting_total=len(state.waiting),
            appointments_due=appointments_due,
            counters_open=len(open_counters),
            counters_recent=recent,
            counters_for_queue=skilled,
            counters_busy=len(busy_servers),
            elapsed_service=tuple(elapsed),
            recent_waits=tuple(waits) if waits else (),
            last_entered_wait=state.last_entered.get(queue),
            head_of_line_wait=head_same,
            pool_head_of_line_wait=head_pool,
        )


def hour_and_weekday(time: float) -> tuple[int, int]:
    """Hour of the day and weekday (Monday = 0) of a wall-clock time in seconds since 1970-01-01."""
    day, seconds = divmod(time, DAY)
    return int(seconds // 3600), int((day + 3) % 7)


def _stats(values: list[float]) -> ServiceStats:
    count = len(values)
    mean = math.fsum(values) / count
    variance = math.fsum((value - mean) ** 2 for value in values) / count
    return ServiceStats(mean, math.sqrt(variance) / mean if mean > 0 else 0.0, count)


@dataclass(slots=True)
class EstimatorModel:
    """Everything the estimator learned from history; ``to_dict``/``from_dict`` round-trip through JSON."""

    service_by_queue_hour: dict[str, dict[int, ServiceStats]]
    service_by_pool_hour: dict[str, dict[int, ServiceStats]]
    service_by_pool: dict[str, ServiceStats]
    service_mean_by_pool_hour: dict[str, dict[int, float]]
    abandonment_rate: dict[str, float]
    mean_wait: dict[str, float]
    coefficients: list[float]
    feature_means: list[float]
    feature_scales: list[float]
    band_centres: list[float]
    band_low: list[float]
    band_high: list[float]
    band_offset: list[float]
    trained_on: int = 0
    shrinkage: float = 0.0
    version: int = MODEL_VERSION

    def service_mean(self, pool: str, hour: int) -> float:
        """Mean service time of a pool at an hour, shrunk towards the pool's; else the pool's or a default."""
        by_hour = self.service_mean_by_pool_hour.get(pool)
        if by_hour is not None:
            mean = by_hour.get(hour)
            if mean is not None:
                return mean
        overall = self.service_by_pool.get(pool)
        if overall is not None:
            return overall.mean
        if self.service_by_pool:
            return math.fsum(s.mean for s in self.service_by_pool.values()) / len(self.service_by_pool)
        return 300.0

    def theta(self, pool: str) -> float:
        return self.abandonment_rate.get(pool, 0.0)

    def to_dict(self) -> dict[str, Any]:
        def table(data: Mapping[str, Mapping[int, ServiceStats]]) -> dict[str, dict[str, list[float]]]:
            return {
                key: {str(hour): [s.mean, s.cv, s.count] for hour, s in sorted(rows.items())}
                for key, rows in data.items()
            }

        return {
            "version": self.version,
            "trained_on": self.trained_on,
            "shrinkage": self.shrinkage,
            "service_by_queue_hour": table(self.service_by_queue_hour),
            "service_by_pool_hour": table(self.service_by_pool_hour),
            "service_by_pool": {key: [s.mean, s.cv, s.count] for key, s in self.service_by_pool.items()},
            "service_mean_by_pool_hour": {
                key: {str(hour): mean for hour, mean in sorted(rows.items())}
                for key, rows in self.service_mean_by_pool_hour.items()
            },
            "abandonment_rate": dict(self.abandonment_rate),
            "mean_wait": dict(self.mean_wait),
            "coefficients": list(self.coefficients),
            "feature_means": list(self.feature_means),
            "feature_scales": list(self.feature_scales),
            "band_centres": list(self.band_centres),
            "band_low": list(self.band_low),
            "band_high": list(self.band_high),
            "band_offset": list(self.band_offset),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EstimatorModel:
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"unsupported estimator model version {data.get('version')!r}")

        def stats(row: list[float]) -> ServiceStats:
            return ServiceStats(float(row[0]), float(row[1]), int(row[2]))

        def table(raw: Mapping[str, Mapping[str, list[float]]]) -> dict[str, dict[int, ServiceStats]]:
            return {key: {int(hour): stats(row) for hour, row in rows.items()} for key, rows in raw.items()}

        return cls(
            service_by_queue_hour=table(data["service_by_queue_hour"]),
            service_by_pool_hour=table(data["service_by_pool_hour"]),
            service_by_pool={key: stats(row) for key, row in data["service_by_pool"].items()},
            service_mean_by_pool_hour={
                key: {int(hour): float(mean) for hour, mean in rows.items()}
                for key, rows in data["service_mean_by_pool_hour"].items()
            },
            abandonment_rate={key: float(value) for key, value in data["abandonment_rate"].items()},
            mean_wait={key: float(value) for key, value in data["mean_wait"].items()},
            coefficients=[float(v) for v in data["coefficients"]],
            feature_means=[float(v) for v in data["feature_means"]],
            feature_scales=[float(v) for v in data["feature_scales"]],
            band_centres=[float(v) for v in data["band_centres"]],
            band_low=[float(v) for v in data["band_low"]],
            band_high=[float(v) for v in data["band_high"]],
            band_offset=[float(v) for v in data["band_offset"]],
            trained_on=int(data.get("trained_on", 0)),
            shrinkage=float(data.get("shrinkage", 0.0)),
        )


def queue_length_estimate(ahead: int, counters: int, service_mean: float, theta: float = 0.0) -> float:
    """Expected wait behind ``ahead`` people at ``counters`` busy counters, exponential service.

    Without abandonment this is ``(n+1)·m/s``; with an abandonment rate ``theta`` per waiting customer the
    k-th departure ahead comes at rate ``s/m + k·theta``, so the wait is the sum of ``1/(s/m + k·θ)``.
    """
    rate = max(counters, 1) / service_mean
    if theta <= 0.0:
        return (ahead + 1) / rate
    return math.fsum(1.0 / (rate + k * theta) for k in range(ahead + 1))


FEATURE_NAMES: tuple[str, ...] = (
    "queue_length",
    "sqrt_queue_length",
    "queue_length_abandonment",
    "queue_length_recent_counters",
    "queue_length_skilled_counters",
    "same_queue_skilled_counters",
    "ahead_regular_same",
    "ahead_priority_same",
    "ahead_regular_other",
    "ahead_priority_other",
    "nobody_ahead",
    "priority_queue_length",
    "priority_queue_length_abandonment",
    "recent_wait",
    "priority_recent_wait",
    "queue_length_x_recent_wait",
    "head_of_line",
    "pool_head_of_line",
    "short_services",
)


def features(snapshot: QueueSnapshot, model: EstimatorModel) -> list[float]:
    """The model's inputs for a snapshot (without the intercept), in :data:`FEATURE_NAMES` order."""
    pool = snapshot.pool
    service = model.service_mean(pool, snapshot.hour)
    counters = max(snapshot.counters_open, 1)
    unit = service / counters
    ahead = snapshot.ahead
    queue_length = (ahead + 1) * unit
    with_abandonment = queue_length_estimate(ahead, counters, service, model.theta(pool))
    priority = 1.0 if snapshot.priority > 0 else 0.0
    recent = snapshot.recent_waits
    recent_wait = math.fsum(recent) / len(recent) if recent else model.mean_wait.get(snapshot.queue, 0.0)
    skilled = max(snapshot.counters_for_queue, 1)
    short = sum(1 for elapsed in snapshot.elapsed_service if elapsed < SHORT_SERVICE)
    return [
        queue_length,
        math.sqrt(queue_length),
        with_abandonment,
        (ahead + 1) * service / max(snapshot.counters_recent, 1),
        (ahead + 1) * service / skilled,
        (snapshot.ahead_same_queue + 1) * service / skilled,
        (snapshot.ahead_regular_same) * unit,
        (snapshot.ahead_priority_same + snapshot.appointments_due) * unit,
        snapshot.ahead_regular_other * unit,
        snapshot.ahead_priority_other * unit,
        1.0 if ahead == 0 else 0.0,
        priority * queue_length,
        priority * with_abandonment,
        recent_wait,
        priority * recent_wait,
        queue_length * recent_wait / 100.0,
        snapshot.head_of_line_wait,
        snapshot.pool_head_of_line_wait,
        short * unit,
    ]


def _interpolate(xs: list[float], ys: list[float], x: float) -> float:
    if not xs:
        return 0.0
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x)
    x0, x1 = xs[i - 1], xs[i]
    share = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
    return ys[i - 1] + share * (ys[i] - ys[i - 1])


class WaitingTimeEstimator:
    """Applies a learned :class:`EstimatorModel` to snapshots: the one estimator, live and in backtests."""

    def __init__(self, model: EstimatorModel) -> None:
        self.model = model

    def mean(self, snapshot: QueueSnapshot) -> float:
        """The model's conditional mean of the wait (before the announcement's pull towards the mode)."""
        model = self.model
        return _predict(
            model.coefficients, model.feature_means, model.feature_scales, features(snapshot, model)
        )

    def estimate(self, snapshot: QueueSnapshot) -> Estimate:
        """The announced remaining wait and its range (10th–90th percentile of similar past waits)."""
        model = self.model
        mean = self.mean(snapshot)
        centres = model.band_centres
        low = max(0.0, mean + _interpolate(centres, model.band_low, mean))
        high = max(low, mean + _interpolate(centres, model.band_high, mean))
        expected = max(0.0, mean + CENTRE_PULL * _interpolate(centres, model.band_offset, mean))
        return Estimate(expected, min(low, expected), max(high, expected))


# --------------------------------------------------------------------------------------------- fitting


@dataclass(slots=True)
class TrainingRows:
    """Snapshots of customers served after waiting, with their waits, and the statistics beside them."""

    snapshots: list[QueueSnapshot]
    waits: list[float]
    service_by_queue_hour: dict[str, dict[int, ServiceStats]]
    service_by_pool_hour: dict[str, dict[int, ServiceStats]]
    service_by_pool: dict[str, ServiceStats]
    abandonment_rate: dict[str, float]
    mean_wait: dict[str, float]


def collect_training_rows(
    events: Iterable[QueueEvent],
    *,
    pool_of: Callable[[str], str] = pool_per_queue,
    head_start: Mapping[int, float] = DEFAULT_HEAD_START,
) -> TrainingRows:
    """Replay a log: snapshot at every arrival, keep those served after waiting, and learn the statistics."""
    tracker = QueueStateTracker(pool_of=pool_of, head_start=head_start)
    pending: dict[str, QueueSnapshot] = {}
    snapshots: list[QueueSnapshot] = []
    waits: list[float] = []
    started: dict[str, tuple[float, str]] = {}
    services_queue_hour: dict[tuple[str, int], list[float]] = {}
    services_pool_hour: dict[tuple[str, int], list[float]] = {}
    waited: dict[str, float] = {}
    abandoned: dict[str, int] = {}
    served_waits: dict[str, list[float]] = {}
    for event in events:
        kind = event.kind
        if kind is EventKind.ARRIVE:
            pending[event.visit] = tracker.snapshot(event)
            tracker.apply(event)
            continue
        wait = tracker.apply(event)
        if kind is EventKind.START:
            started[event.visit] = (event.time, event.queue)
            snapshot = pending.pop(event.visit, None)
            if wait is not None and snapshot is not None:
                waited[snapshot.pool] = waited.get(snapshot.pool, 0.0) + wait
                if wait > 0:
                    snapshots.append(snapshot)
                    waits.append(wait)
                    served_waits.setdefault(event.queue, []).append(wait)
        elif kind is EventKind.ABANDON:
            snapshot = pending.pop(event.visit, None)
            if wait is not None and snapshot is not None:
                waited[snapshot.pool] = waited.get(snapshot.pool, 0.0) + wait
                abandoned[snapshot.pool] = abandoned.get(snapshot.pool, 0) + 1
        else:
            begin = started.pop(event.visit, None)
            if begin is not None:
                duration = event.time - begin[0]
                if duration > 0:
                    hour = hour_and_weekday(begin[0])[0]
                    pool = tracker.pool_of(begin[1])
                    services_queue_hour.setdefault((begin[1], hour), []).append(duration)
                    services_pool_hour.setdefault((pool, hour), []).append(duration)
    by_queue_hour: dict[str, dict[int, ServiceStats]] = {}
    for (queue, hour), values in services_queue_hour.items():
        by_queue_hour.setdefault(queue, {})[hour] = _stats(values)
    by_pool_hour: dict[str, dict[int, ServiceStats]] = {}
    per_pool: dict[str, list[float]] = {}
    for (pool, hour), values in services_pool_hour.items():
        by_pool_hour.setdefault(pool, {})[hour] = _stats(values)
        per_pool.setdefault(pool, []).extend(values)
    return TrainingRows(
        snapshots=snapshots,
        waits=waits,
        service_by_queue_hour=by_queue_hour,
        service_by_pool_hour=by_pool_hour,
        service_by_pool={pool: _stats(values) for pool, values in per_pool.items()},
        abandonment_rate={
            pool: abandoned.get(pool, 0) / total for pool, total in waited.items() if total > 0
        },
        mean_wait={queue: math.fsum(values) / len(values) for queue, values in served_waits.items()},
    )


def _shrink_hourly(by_hour: Mapping[int, ServiceStats], overall: float) -> dict[int, float]:
    """Hourly means pulled towards the overall mean as far as their sampling noise warrants (empirical Bayes).

    Where hours really differ the hourly means stay; where they differ only by chance (a stationary queue)
    they collapse to the overall mean instead of passing their noise on to every estimate.
    """
    noise = {h: (s.cv * s.mean) ** 2 / s.count for h, s in by_hour.items() if s.count > 1}
    if not noise:
        return {h: s.mean for h, s in by_hour.items()}
    total = sum(by_hour[h].count for h in noise)
    spread = math.fsum(by_hour[h].count * (by_hour[h].mean - overall) ** 2 for h in noise) / total
    average_noise = math.fsum(by_hour[h].count * noise[h] for h in noise) / total
    between = max(0.0, spread - average_noise)
    return {
        h: overall + (between / (between + noise[h]) if between > 0 else 0.0) * (s.mean - overall)
        for h, s in by_hour.items()
        if h in noise
    }


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solve a small symmetric positive-definite system by Gaussian elimination with partial pivoting."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        head = rows[column]
        if abs(head[column]) < 1e-12:
            continue
        for r in range(column + 1, size):
            factor = rows[r][column] / head[column]
            if factor:
                row = rows[r]
                for c in range(column, size + 1):
                    row[c] -= factor * head[c]
    solution = [0.0] * size
    for r in range(size - 1, -1, -1):
        row = rows[r]
        if abs(row[r]) < 1e-12:
            continue
        solution[r] = (row[size] - math.fsum(row[c] * solution[c] for c in range(r + 1, size))) / row[r]
    return solution


@dataclass(slots=True)
class _Normal:
    """Standardised normal equations of a least-squares problem, ready to solve for any penalty."""

    gram: list[list[float]]
    right: list[float]
    means: list[float]
    scales: list[float]
    target_mean: float
    count: int

    @classmethod
    def of(cls, columns: list[list[float]], target: list[float]) -> _Normal:
        count = len(target)
        means = [math.fsum(col) / count for col in columns]
        scales = []
        standardised = []
        for col, mean in zip(columns, means, strict=True):
            centred = [value - mean for value in col]
            scale = math.sqrt(math.sumprod(centred, centred) / count) or 1.0
            scales.append(scale)
            standardised.append([value / scale for value in centred])
        target_mean = math.fsum(target) / count
        centred_target = [value - target_mean for value in target]
        size = len(columns)
        gram = [[0.0] * size for _ in range(size)]
        for i in range(size):
            for j in range(i, size):
                gram[i][j] = gram[j][i] = math.sumprod(standardised[i], standardised[j])
        right = [math.sumprod(col, centred_target) for col in standardised]
        return cls(gram, right, means, scales, target_mean, count)

    def solve(self, strength: float) -> list[float]:
        """Coefficients (intercept first) shrunk towards the plain queue-length predictor.

        The penalty ``λ·|β − β₀|²`` (``λ`` = ``strength`` × rows) with ``β₀`` = "the first feature,
        ``(n+1)·m/s``, taken as it is" keeps the model at the queue-length predictor unless the history
        says otherwise: on M/M/s queues that predictor is the best there is.
        """
        penalty = strength * self.count
        gram = [row[:] for row in self.gram]
        for i in range(len(gram)):
            gram[i][i] += penalty
        right = self.right[:]
        right[0] += penalty * self.scales[0]
        return [self.target_mean, *_solve(gram, right)]


def _predict(coefficients: list[float], means: list[float], scales: list[float], row: list[float]) -> float:
    total = coefficients[0]
    for value, mean, scale, weight in zip(row, means, scales, coefficients[1:], strict=True):
        total += weight * (value - mean) / scale
    return max(total, 0.0)


def _quantile(ordered: list[float], share: float) -> float:
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _densest_window_centre(residuals: list[float]) -> float:
    """Centre of the ±60 s window (over sorted residuals) that holds the most of them."""
    ordered = sorted(residuals)
    best, best_centre = -1, 0.0
    right = 0
    for left, start in enumerate(ordered):
        while right < len(ordered) and ordered[right] <= start + 2 * HIT_WINDOW:
            right += 1
        if right - left > best:
            best, best_centre = right - left, start + HIT_WINDOW
    return best_centre


@dataclass(slots=True)
class _Bands:
    centres: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    offset: list[float] = field(default_factory=list)


def _calibrate(predictions: list[float], waits: list[float], bands: int) -> _Bands:
    """Residual quantiles and pull per band of the prediction (equal-count bands of held-out customers)."""
    pairs = sorted(zip(predictions, waits, strict=True))
    count = max(1, min(bands, len(pairs) // MIN_BAND))
    result = _Bands()
    for band in range(count):
        chunk = pairs[band * len(pairs) // count : (band + 1) * len(pairs) // count]
        residuals = sorted(wait - prediction for prediction, wait in chunk)
        spread = math.sqrt(math.fsum(r * r for r in residuals) / len(residuals))
        cap = min(PULL_CAP * spread, HIT_WINDOW / 2)
        result.centres.append(chunk[len(chunk) // 2][0])
        result.low.append(_quantile(residuals, LOW_SHARE))
        result.high.append(_quantile(residuals, HIGH_SHARE))
        result.offset.append(max(-cap, min(cap, _densest_window_centre(residuals))))
    return result


def fit(
    events: Iterable[QueueEvent],
    *,
    pool_of: Callable[[str], str] = pool_per_queue,
    head_start: Mapping[int, float] = DEFAULT_HEAD_START,
    bands: int = 12,
) -> EstimatorModel:
    """Learn an :class:`EstimatorModel` from a log in time order (customers served after waiting)."""
    rows = collect_training_rows(events, pool_of=pool_of, head_start=head_start)
    if len(rows.waits) < 50:
        raise ValueError(f"too little history to fit the estimator ({len(rows.waits)} waits)")
    model = EstimatorModel(
        service_by_queue_hour=rows.service_by_queue_hour,
        service_by_pool_hour=rows.service_by_pool_hour,
        service_by_pool=rows.service_by_pool,
        service_mean_by_pool_hour={
            pool: _shrink_hourly(by_hour, rows.service_by_pool[pool].mean)
            for pool, by_hour in rows.service_by_pool_hour.items()
        },
        abandonment_rate=rows.abandonment_rate,
        mean_wait=rows.mean_wait,
        coefficients=[],
        feature_means=[],
        feature_scales=[],
        band_centres=[],
        band_low=[],
        band_high=[],
        band_offset=[],
        trained_on=len(rows.waits),
    )
    table = [features(snapshot, model) for snapshot in rows.snapshots]
    columns = [list(column) for column in zip(*table, strict=True)]
    waits = rows.waits
    # the last quarter of the history, predicted from the first three, chooses the shrinkage and
    # calibrates the range out of sample; the final coefficients are then fitted on everything
    split = len(waits) * 3 // 4
    early = _Normal.of([col[:split] for col in columns], waits[:split])
    held_out_rows = table[split:]
    trials: list[tuple[float, float, list[float]]] = []
    for strength in SHRINKAGE_GRID:
        coefficients = early.solve(strength)
        predictions = [_predict(coefficients, early.means, early.scales, row) for row in held_out_rows]
        error = math.fsum((p - w) ** 2 for p, w in zip(predictions, waits[split:], strict=True))
        trials.append((error, strength, predictions))
    # the strongest shrinkage whose held-out error is within a hair of the best: extra features must earn
    # their place, or the model stays at the queue-length predictor
    least = min(error for error, _, _ in trials)
    _, strength, held_out = max(
        (trial for trial in trials if trial[0] <= least * (1 + SHRINKAGE_TOLERANCE)), key=lambda t: t[1]
    )
    calibration = _calibrate(held_out, waits[split:], bands)
    model.band_centres, model.band_low = calibration.centres, calibration.low
    model.band_high, model.band_offset = calibration.high, calibration.offset
    final = _Normal.of(columns, waits)
    model.coefficients, model.feature_means, model.feature_scales = (
        final.solve(strength),
        final.means,
        final.scales,
    )
    model.shrinkage = strength
    return model
