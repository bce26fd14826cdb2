"""The learned parameters (:class:`EstimatorModel`), the features of a snapshot, and the estimator itself."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .tracker import QueueSnapshot

SHORT_SERVICE = 120.0
#: How far the announced figure moves from the mean towards the centre of the densest ±60 s window.
CENTRE_PULL = 0.5
MODEL_VERSION = 1


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


def _predict(coefficients: list[float], means: list[float], scales: list[float], row: list[float]) -> float:
    total = coefficients[0]
    for value, mean, scale, weight in zip(row, means, scales, coefficients[1:], strict=True):
        total += weight * (value - mean) / scale
    return max(total, 0.0)


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
