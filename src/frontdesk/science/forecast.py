"""Arrival forecast per queue and 30-minute interval, for the coming weeks, from history.

Model, per queue (fitted by :func:`fit_forecast` on the days before an origin):

* **weekday factors**: each weekday's share of a normal week, from the whole history;
* **level and trend**: a damped Holt smoothing of the daily totals divided by their weekday factor,
  started from the first week's mean, so recent weeks count most and a trend is followed but not
  extrapolated for ever;
* **time-of-day profile** per weekday: the share of the day's arrivals in each interval, averaged over
  the recent normal days of that weekday (older days weigh less), shrunk towards the shape the
  weekdays share by as much as its own difference from that shape is noise (:func:`_profiles`): with
  two weeks of history a weekday's own shape rests on two days, and the shared one carries it;
* **special days** (holidays, eves, elections, …) are passed in as a date → label mapping. They are kept
  out of the normal profile; each label's factor (real total ÷ normal forecast) is learned from the
  labelled days of the history, or taken from :data:`DEFAULT_SPECIAL_FACTOR` when the history has none.
  Days far below their weekday's usual total that carry no label (an outage) are dropped from the fit.

The baseline printed beside it, :func:`same_weekday_baseline`, is the average of the same weekday and
interval over the last four weeks before the origin.

:func:`evaluate_forecast` forecasts held-out days from the history before an origin and reports, per
interval, the weighted absolute percentage error (WAPE = Σ|error| ÷ Σ actual), RMSE, MAE and bias, and
the WAPE of daily totals. Pure Python, standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from frontdesk.science.estimator import DAY, EventKind, QueueEvent

__all__ = [
    "DEFAULT_SPECIAL_FACTOR",
    "ArrivalHistory",
    "ForecastError",
    "ForecastModel",
    "QueueForecastModel",
    "evaluate_forecast",
    "fit_forecast",
    "forecast",
    "forecast_error",
    "history_from_events",
    "main",
    "rolling_evaluation",
    "same_weekday_baseline",
]

_EPOCH = date(1970, 1, 1)
#: Factor applied to a special day whose label never occurred in the history.
DEFAULT_SPECIAL_FACTOR = 0.3
LEVEL_SMOOTHING = 0.05
TREND_SMOOTHING = 0.002
TREND_DAMPING = 0.97
PROFILE_WEEKS = 12
PROFILE_DECAY = 0.85
OUTAGE_SHARE = 0.5
BASELINE_WEEKS = 4

Counts = dict[str, dict[date, list[float]]]


@dataclass(slots=True)
class ArrivalHistory:
    """Arrivals per queue, day and interval; ``days`` are the days the log covers (others are unknown)."""

    slot_minutes: int
    counts: Counts = field(default_factory=dict)
    days: set[date] = field(default_factory=set)

    @property
    def slots(self) -> int:
        return 24 * 60 // self.slot_minutes

    def row(self, queue: str, day: date) -> list[float]:
        return self.counts.get(queue, {}).get(day) or [0.0] * self.slots

    def total(self, queue: str, day: date) -> float:
        return math.fsum(self.row(queue, day))

    def before(self, origin: date) -> ArrivalHistory:
        """The part of the history strictly before ``origin``."""
        return ArrivalHistory(
            self.slot_minutes,
            {q: {d: row for d, row in rows.items() if d < origin} for q, rows in self.counts.items()},
            {d for d in self.days if d < origin},
        )


def history_from_events(events: Iterable[QueueEvent], *, slot_minutes: int = 30) -> ArrivalHistory:
    """Count each visit once, at its first event (queue arrival, or service start if it never queued)."""
    if (24 * 60) % slot_minutes:
        raise ValueError("slot_minutes must divide a day")
    history = ArrivalHistory(slot_minutes)
    seen: set[str] = set()
    slots = history.slots
    slot_seconds = slot_minutes * 60
    for event in events:
        if event.kind is EventKind.END or event.kind is EventKind.ABANDON or event.visit in seen:
            continue
        seen.add(event.visit)
        day_number, seconds = divmod(event.time, DAY)
        day = _EPOCH + timedelta(days=int(day_number))
        history.days.add(day)
        row = history.counts.setdefault(event.queue, {}).get(day)
        if row is None:
            row = history.counts[event.queue][day] = [0.0] * slots
        row[int(seconds // slot_seconds)] += 1.0
    return history


@dataclass(slots=True)
class QueueForecastModel:
    level: float
    trend: float
    weekday_factor: list[float]
    profile: list[list[float]]
    special_factor: dict[str, float]
    last_day: date


@dataclass(slots=True)
class ForecastModel:
    slot_minutes: int
    queues: dict[str, QueueForecastModel]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot_minutes": self.slot_minutes,
            "queues": {
                name: {
                    "level": q.level,
                    "trend": q.trend,
                    "weekday_factor": q.weekday_factor,
                    "profile": q.profile,
                    "special_factor": q.special_factor,
                    "last_day": q.last_day.isoformat(),
                }
                for name, q in self.queues.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastModel:
        return cls(
            int(data["slot_minutes"]),
            {
                name: QueueForecastModel(
                    float(q["level"]),
                    float(q["trend"]),
                    [float(v) for v in q["weekday_factor"]],
                    [[float(v) for v in row] for row in q["profile"]],
                    {k: float(v) for k, v in q["special_factor"].items()},
                    date.fromisoformat(q["last_day"]),
                )
                for name, q in data["queues"].items()
            },
        )


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _normal_days(history: ArrivalHistory, queue: str, special: Mapping[date, str]) -> list[date]:
    """Observed days without a label, outages (far below the weekday's median, all queues) removed."""
    days = sorted(d for d in history.days if d not in special)
    by_weekday: dict[int, list[float]] = {}
    totals = {d: math.fsum(history.total(q, d) for q in history.counts) for d in days}
    for d in days:
        by_weekday.setdefault(d.weekday(), []).append(totals[d])
    medians = {w: _median(v) for w, v in by_weekday.items()}
    return [d for d in days if totals[d] >= OUTAGE_SHARE * medians[d.weekday()]]


def _fit_queue(history: ArrivalHistory, queue: str, special: Mapping[date, str]) -> QueueForecastModel:
    normal = _normal_days(history, queue, special)
    if not normal:
        raise ValueError(f"no normal day in the history of {queue!r}")
    # weekday factors: mean total of each weekday relative to the mean over weekdays
    sums = [0.0] * 7
    counts = [0] * 7
    for d in normal:
        sums[d.weekday()] += history.total(queue, d)
        counts[d.weekday()] += 1
    means = [sums[w] / counts[w] if counts[w] else 0.0 for w in range(7)]
    overall = math.fsum(means) / 7 or 1.0
    factor = [m / overall for m in means]
    # damped Holt on deseasonalised daily totals; unknown and special days are skipped. The level
    # starts from the first week's mean (one day alone would weigh for weeks with a small smoothing).
    values = [history.total(queue, d) / factor[d.weekday()] for d in normal if factor[d.weekday()] > 0]
    level = trend = 0.0
    if values:
        first_week = values[:7]
        level = math.fsum(first_week) / len(first_week)
    for value in values[7:]:
        previous = level
        level = LEVEL_SMOOTHING * value + (1 - LEVEL_SMOOTHING) * (level + TREND_DAMPING * trend)
        trend = TREND_SMOOTHING * (level - previous) + (1 - TREND_SMOOTHING) * TREND_DAMPING * trend
    last = normal[-1]
    profile = _profiles(history, queue, normal, last)
    model = QueueForecastModel(level, trend, factor, profile, {}, last)
    # special-day factors: real total over what a normal day would have had, by label
    ratios: dict[str, list[float]] = {}
    for d, label in special.items():
        if d in history.days and d <= last:
            expected = _day_total(model, d, last)
            if expected > 0:
                ratios.setdefault(label, []).append(history.total(queue, d) / expected)
    model.special_factor = {label: math.fsum(v) / len(v) for label, v in ratios.items()}
    return model


@dataclass(slots=True)
class _Profile:
    """One weekday's time-of-day shares as observed, and how much they can be trusted."""

    shares: list[float]
    arrivals: float  # effective number of arrivals behind the shares (recent days weigh more)
    open_slots: set[int]  # intervals with any arrival on that weekday


def _observed_profile(history: ArrivalHistory, queue: str, days: Sequence[date], last: date) -> _Profile:
    shares = [0.0] * history.slots
    weight_sum = weight_squares = 0.0
    open_slots: set[int] = set()
    for d in days:
        row = history.row(queue, d)
        total = math.fsum(row)
        if total <= 0:
            continue
        weight = PROFILE_DECAY ** ((last - d).days / 7)
        weight_sum += weight
        weight_squares += weight * weight / total
        for k, value in enumerate(row):
            if value:
                shares[k] += weight * value / total
                open_slots.add(k)
    if not weight_sum:
        return _Profile([0.0] * history.slots, 0.0, set())
    return _Profile([s / weight_sum for s in shares], weight_sum * weight_sum / weight_squares, open_slots)


def _profiles(history: ArrivalHistory, queue: str, normal: Sequence[date], last: date) -> list[list[float]]:
    """Time-of-day profile per weekday: its own shares, shrunk towards the shape all weekdays share.

    A weekday's shares come from a few days (at most ``PROFILE_WEEKS``), so each interval's share
    carries the multinomial noise of those days' arrivals. The weekdays' common shape (per interval
    the median share of the weekdays open then, restricted to the intervals this weekday is open and
    renormalised) has far less. Each weekday is pulled towards it by how much of its own difference from it is
    noise: weight = noise ÷ (noise + real difference), the real difference being what the observed
    difference exceeds the expected noise by (an empirical-Bayes, James–Stein-like estimate). With
    little history the profile is mostly the common shape; with a long one each weekday keeps its own.
    """
    observed = [
        _observed_profile(history, queue, [d for d in normal if d.weekday() == w][-PROFILE_WEEKS:], last)
        for w in range(7)
    ]
    # Per interval, the median share of the weekdays open then: one weekday with a shape of its own
    # (a market day) does not drag the others' common shape towards it, as a mean would.
    pooled = [
        _median(shares) if (shares := [p.shares[k] for p in observed if k in p.open_slots]) else 0.0
        for k in range(history.slots)
    ]
    profiles: list[list[float]] = []
    for own in observed:
        if not own.arrivals:
            profiles.append([1.0 / history.slots] * history.slots)
            continue
        common = [pooled[k] if k in own.open_slots else 0.0 for k in range(history.slots)]
        scale = math.fsum(common)
        if scale <= 0:
            profiles.append(own.shares)
            continue
        common = [c / scale for c in common]
        noise = math.fsum(c * (1 - c) for c in common) / own.arrivals
        difference = math.fsum((s - c) ** 2 for s, c in zip(own.shares, common, strict=True))
        real = max(difference - noise, 0.0)
        pull = noise / (noise + real) if noise + real > 0 else 0.0
        profiles.append([pull * c + (1 - pull) * s for s, c in zip(own.shares, common, strict=True)])
    return profiles


def _day_total(model: QueueForecastModel, day: date, origin: date) -> float:
    ahead = max((day - origin).days, 0)
    damped = sum(TREND_DAMPING**i for i in range(1, ahead + 1))
    return max(model.level + damped * model.trend, 0.0) * model.weekday_factor[day.weekday()]


def fit_forecast(history: ArrivalHistory, *, special_days: Mapping[date, str] | None = None) -> ForecastModel:
    """Learn a :class:`ForecastModel` from the whole history given (cut it with ``history.before``)."""
    special = dict(special_days or {})
    return ForecastModel(
        history.slot_minutes, {q: _fit_queue(history, q, special) for q in sorted(history.counts)}
    )


def forecast(
    model: ForecastModel, days: Iterable[date], *, special_days: Mapping[date, str] | None = None
) -> Counts:
    """Expected arrivals per queue, day and interval for the given (future) days."""
    special = special_days or {}
    result: Counts = {}
    for name, queue in model.queues.items():
        rows: dict[date, list[float]] = {}
        for day in days:
            total = _day_total(queue, day, queue.last_day)
            label = special.get(day)
            if label is not None:
                total *= queue.special_factor.get(label, DEFAULT_SPECIAL_FACTOR)
            rows[day] = [total * share for share in queue.profile[day.weekday()]]
        result[name] = rows
    return result


def same_weekday_baseline(
    history: ArrivalHistory, days: Iterable[date], *, weeks: int = BASELINE_WEEKS
) -> Counts:
    """Average of the same weekday and interval over the last ``weeks`` observed weeks of the history."""
    result: Counts = {}
    observed = sorted(history.days)
    for queue in history.counts:
        rows: dict[date, list[float]] = {}
        for day in days:
            same = [d for d in observed if d.weekday() == day.weekday() and d < day][-weeks:]
            row = [0.0] * history.slots
            for d in same:
                for k, value in enumerate(history.row(queue, d)):
                    row[k] += value / len(same)
            rows[day] = row
        result[queue] = rows
    return result


@dataclass(frozen=True, slots=True)
class ForecastError:
    """Errors per interval (all queues, intervals where either side is non-zero) and of daily totals."""

    wape: float
    rmse: float
    mae: float
    bias: float
    daily_wape: float
    intervals: int
    days: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "wape": round(self.wape, 4),
            "rmse": round(self.rmse, 3),
            "mae": round(self.mae, 3),
            "bias": round(self.bias, 3),
            "daily_wape": round(self.daily_wape, 4),
            "intervals": self.intervals,
            "days": self.days,
        }


def forecast_error(actual: ArrivalHistory, predicted: Counts, days: Iterable[date]) -> ForecastError:
    """Compare a forecast with what happened on the observed days among ``days``."""
    observed = [d for d in days if d in actual.days]
    absolute = squared = signed = total = 0.0
    day_absolute = 0.0
    intervals = 0
    for queue in sorted(set(actual.counts) | set(predicted)):
        for day in observed:
            real = actual.row(queue, day)
            guess = predicted.get(queue, {}).get(day) or [0.0] * actual.slots
            day_absolute += abs(math.fsum(guess) - math.fsum(real))
            for r, g in zip(real, guess, strict=True):
                if r == 0 and g == 0:
                    continue
                error = g - r
                absolute += abs(error)
                squared += error * error
                signed += error
                total += r
                intervals += 1
    if intervals == 0 or total == 0:
        raise ValueError("nothing to compare: no arrivals on the held-out days")
    return ForecastError(
        wape=absolute / total,
        rmse=math.sqrt(squared / intervals),
        mae=absolute / intervals,
        bias=signed / intervals,
        daily_wape=day_absolute / total,
        intervals=intervals,
        days=len(observed),
    )


def evaluate_forecast(
    history: ArrivalHistory,
    origin: date,
    horizon_days: int,
    *,
    special_days: Mapping[date, str] | None = None,
    baseline_weeks: int = BASELINE_WEEKS,
) -> dict[str, ForecastError]:
    """Forecast ``horizon_days`` from ``origin`` using only earlier days; ours and the baseline's errors."""
    past = history.before(origin)
    days = [origin + timedelta(days=i) for i in range(horizon_days)]
    model = fit_forecast(past, special_days=special_days)
    ours = forecast(model, days, special_days=special_days)
    baseline = same_weekday_baseline(past, days, weeks=baseline_weeks)
    return {
        "frontdesk": forecast_error(history, ours, days),
        "same_weekday": forecast_error(history, baseline, days),
    }


def rolling_evaluation(
    history: ArrivalHistory,
    origins: Sequence[date],
    horizon_days: int,
    *,
    special_days: Mapping[date, str] | None = None,
    baseline_weeks: int = BASELINE_WEEKS,
) -> dict[str, ForecastError]:
    """Several origins (for example every week), each forecasting ``horizon_days`` ahead; pooled errors."""
    ours: Counts = {}
    baseline: Counts = {}
    all_days: list[date] = []
    for origin in origins:
        past = history.before(origin)
        days = [origin + timedelta(days=i) for i in range(horizon_days)]
        all_days += days
        model = fit_forecast(past, special_days=special_days)
        for target, part in (
            (ours, forecast(model, days, special_days=special_days)),
            (baseline, same_weekday_baseline(past, days, weeks=baseline_weeks)),
        ):
            for queue, rows in part.items():
                target.setdefault(queue, {}).update(rows)
    return {
        "frontdesk": forecast_error(history, ours, all_days),
        "same_weekday": forecast_error(history, baseline, all_days),
    }


def read_special_days(path: Path | str) -> dict[date, str]:
    """Special days from a CSV with columns ``date`` (ISO) and ``label``."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            date.fromisoformat(row["date"].strip()): row["label"].strip() for row in csv.DictReader(handle)
        }


def main(argv: Sequence[str] | None = None) -> int:
    """``frontdesk forecast``: forecast held-out days of a log and compare with the same-weekday baseline."""
    from frontdesk.science import anonymous_bank
    from frontdesk.science.visit_log import FORMATS, load_log

    parser = argparse.ArgumentParser(prog="frontdesk forecast", description=main.__doc__)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--history", nargs="+", type=Path, required=True, metavar="FILE")
    parser.add_argument("--origin", type=date.fromisoformat, required=True, help="first held-out day")
    parser.add_argument("--days", type=int, default=28, help="held-out days from the origin")
    parser.add_argument("--weekly", action="store_true", help="re-forecast one week ahead every week")
    parser.add_argument(
        "--special-days", type=Path, help="CSV of date,label (the bank's 1999 holidays are built in)"
    )
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args(argv)
    try:
        log = load_log(arguments.format, arguments.history)
        special = dict(anonymous_bank.SPECIAL_DAYS_1999) if arguments.format == "anonymous-bank" else {}
        if arguments.special_days:
            special.update(read_special_days(arguments.special_days))
        history = history_from_events(log.events)
        if arguments.weekly:
            origins = [arguments.origin + timedelta(days=7 * i) for i in range((arguments.days + 6) // 7)]
            errors = rolling_evaluation(history, origins, 7, special_days=special)
        else:
            errors = evaluate_forecast(history, arguments.origin, arguments.days, special_days=special)
    except (OSError, ValueError, KeyError) as error:
        parser.error(str(error))
    if arguments.json:
        print(json.dumps({name: error.as_dict() for name, error in errors.items()}, indent=2))
    else:
        print(
            f"{'forecast':<14}{'WAPE':>8}{'RMSE':>8}{'MAE':>8}{'bias':>8}{'daily WAPE':>12}{'intervals':>11}"
        )
        for name, e in errors.items():
            print(
                f"{name:<14}{e.wape:>8.3f}{e.rmse:>8.2f}{e.mae:>8.2f}{e.bias:>+8.2f}{e.daily_wape:>12.3f}{e.intervals:>11}"
            )
    return 0
