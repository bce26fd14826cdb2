"""Learning an :class:`~.model.EstimatorModel` from a log: replay, statistics, ridge fit, calibration."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .events import DEFAULT_HEAD_START, EventKind, QueueEvent, hour_and_weekday, pool_per_queue
from .model import EstimatorModel, ServiceStats, _predict, _stats, features
from .tracker import QueueSnapshot, QueueStateTracker

LOW_SHARE, HIGH_SHARE = 0.10, 0.90
HIT_WINDOW = 60.0
MIN_BAND = 100
#: Strengths (per fitted customer) of the pull towards the queue-length predictor; the history picks one.
SHRINKAGE_GRID = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0)
SHRINKAGE_TOLERANCE = 0.005
#: The pull may cost at most this share of the band's root-mean-square residual (and half the window).
PULL_CAP = 0.3


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
