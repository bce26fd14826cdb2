"""Backtest of the waiting-time estimator: replay a log, compare what each customer would have been told.

:func:`run_backtest` fits the estimator on one log (:func:`frontdesk.science.estimator.fit`) and replays
another in time order through :class:`~frontdesk.science.estimator.QueueStateTracker`: at every arrival it
builds the snapshot from what happened *before* that moment, asks our estimator and the anchors, and
scores them once the customer's wait is over.

Evaluation population: customers who queued and were served after waiting (wait > 0). Being served is
decided by a future outcome (impatient customers leave), so this population is chosen by something
unknown at the moment of the estimate; the estimator is fitted on the same population. Customers who
abandoned are replayed (they occupy the queue) but not scored, since their full wait is not observed.

Predictors (``name`` as printed and in JSON):

``frontdesk``            ours (:class:`~frontdesk.science.estimator.WaitingTimeEstimator`), with a range
``zero``                 always 0
``queue_length``         ``(n+1)·m/s``: n people ahead, s counters open, m mean service time (pool × hour)
``queue_length_abandon`` the same with exponential abandonment of those ahead: ``Σ_k 1/(s/m + k·θ)``
``last_to_enter``        wait of the last customer of the queue to enter service (LES)
``head_of_line``         current wait of the customer at the head of the queue (HOL)
``rolling_mean``         mean of the last ten known waits of the queue

Metrics per predictor: ``rmse_s``, ``mean_wait_s``, ``relative_rmse`` (RMSE ÷ mean wait), ``mae_s``,
``within_60s`` (share with |error| ≤ 60 s), ``under_share`` (share of under-estimates), ``coverage``
(share of real waits inside the announced range; ``None`` for anchors, which announce no range) and ``n``.

Logs are read by :mod:`frontdesk.science.visit_log` (formats ``anonymous-bank``, ``csv`` and ``demo``;
the CSV format is documented there). The replay serves a pool first come, first served unless
``head_start`` credits priority classes with seconds of waiting (a large credit is a strict priority).

:func:`simulate_mms_log` generates an M/M/s log and :func:`mms_check` compares our estimator on it with
the optimal queue-length predictor (relative RMSE √(1−ρ) for delayed customers) and head-of-line.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time as clock
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontdesk.science.estimator import (
    Estimate,
    EstimatorModel,
    EventKind,
    QueueEvent,
    QueueSnapshot,
    QueueStateTracker,
    WaitingTimeEstimator,
    fit,
    queue_length_estimate,
)
from frontdesk.science.visit_log import FORMATS, LogSpec, load_log, read_csv_log, write_csv_log

__all__ = [
    "ANCHORS",
    "BacktestResult",
    "LogSpec",
    "PredictorScore",
    "load_log",
    "main",
    "mms_check",
    "mms_training_log",
    "read_csv_log",
    "replay",
    "run_backtest",
    "score",
    "simulate_mms_log",
    "write_csv_log",
]

OURS = "frontdesk"
# ----------------------------------------------------------------------------------------------- anchors


def _zero(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    return 0.0


def _queue_length(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    return queue_length_estimate(
        snapshot.ahead, snapshot.counters_open, model.service_mean(snapshot.pool, snapshot.hour)
    )


def _queue_length_abandon(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    return queue_length_estimate(
        snapshot.ahead,
        snapshot.counters_open,
        model.service_mean(snapshot.pool, snapshot.hour),
        model.theta(snapshot.pool),
    )


def _last_to_enter(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    return snapshot.last_entered_wait or 0.0


def _head_of_line(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    return snapshot.head_of_line_wait


def _rolling_mean(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
    waits = snapshot.recent_waits
    return math.fsum(waits) / len(waits) if waits else 0.0


#: The anchors printed beside ours, by name.
ANCHORS: dict[str, Callable[[QueueSnapshot, EstimatorModel], float]] = {
    "zero": _zero,
    "queue_length": _queue_length,
    "queue_length_abandon": _queue_length_abandon,
    "last_to_enter": _last_to_enter,
    "head_of_line": _head_of_line,
    "rolling_mean": _rolling_mean,
}


# ----------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class PredictorScore:
    name: str
    rmse_s: float
    mean_wait_s: float
    relative_rmse: float
    mae_s: float
    within_60s: float
    under_share: float
    coverage: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "predictor": self.name,
            "rmse_s": round(self.rmse_s, 2),
            "mean_wait_s": round(self.mean_wait_s, 2),
            "relative_rmse": round(self.relative_rmse, 4),
            "mae_s": round(self.mae_s, 2),
            "within_60s": round(self.within_60s, 4),
            "under_share": round(self.under_share, 4),
            "coverage": None if self.coverage is None else round(self.coverage, 4),
            "n": self.n,
        }


def score(
    name: str,
    predictions: Sequence[float],
    waits: Sequence[float],
    ranges: Sequence[tuple[float, float]] | None = None,
) -> PredictorScore:
    """Metrics of one predictor against the real waits."""
    count = len(waits)
    if count == 0 or len(predictions) != count:
        raise ValueError("need as many predictions as waits, and at least one")
    errors = [p - w for p, w in zip(predictions, waits, strict=True)]
    mean_wait = math.fsum(waits) / count
    rmse = math.sqrt(math.sumprod(errors, errors) / count)
    coverage = None
    if ranges is not None:
        coverage = sum(1 for (low, high), w in zip(ranges, waits, strict=True) if low <= w <= high) / count
    return PredictorScore(
        name=name,
        rmse_s=rmse,
        mean_wait_s=mean_wait,
        relative_rmse=rmse / mean_wait if mean_wait > 0 else math.inf,
        mae_s=math.fsum(abs(e) for e in errors) / count,
        within_60s=sum(1 for e in errors if abs(e) <= 60.0) / count,
        under_share=sum(1 for e in errors if e < 0) / count,
        coverage=coverage,
        n=count,
    )


@dataclass(slots=True)
class ReplayRecord:
    """One scored customer: queue, real wait, our estimate and each anchor's prediction."""

    queue: str
    wait: float
    estimate: Estimate
    anchors: dict[str, float]


def replay(
    log: LogSpec,
    model: EstimatorModel,
    *,
    anchors: Mapping[str, Callable[[QueueSnapshot, EstimatorModel], float]] = ANCHORS,
) -> list[ReplayRecord]:
    """Replay a log through the estimator; one record per customer served after waiting."""
    tracker = QueueStateTracker(pool_of=log.pool_of, head_start=log.head_start)
    estimator = WaitingTimeEstimator(model)
    pending: dict[str, tuple[QueueSnapshot, Estimate, dict[str, float]]] = {}
    records: list[ReplayRecord] = []
    for event in log.events:
        kind = event.kind
        if kind is EventKind.ARRIVE:
            snapshot = tracker.snapshot(event)
            guesses = {name: predictor(snapshot, model) for name, predictor in anchors.items()}
            pending[event.visit] = (snapshot, estimator.estimate(snapshot), guesses)
            tracker.apply(event)
            continue
        wait = tracker.apply(event)
        if kind is EventKind.START or kind is EventKind.ABANDON:
            entry = pending.pop(event.visit, None)
            if kind is EventKind.START and entry is not None and wait is not None and wait > 0:
                records.append(ReplayRecord(event.queue, wait, entry[1], entry[2]))
    return records


@dataclass(slots=True)
class BacktestResult:
    scores: list[PredictorScore]
    fitted_on: int
    fit_seconds: float
    replay_seconds: float
    model: EstimatorModel

    def by_name(self) -> dict[str, PredictorScore]:
        return {s.name: s for s in self.scores}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-ready: one object per predictor, keyed by its name (ours is ``frontdesk``)."""
        result = {}
        for s in self.scores:
            metrics = s.as_dict()
            del metrics["predictor"]
            result[s.name] = metrics
        return result

    def table_rows(self) -> list[list[str]]:
        """Header and one row per predictor, as text, for a terminal table."""
        rows = [
            [
                "predictor",
                "rmse_s",
                "mean_wait_s",
                "rmse/mean",
                "mae_s",
                "within_60s",
                "under",
                "coverage",
                "n",
            ]
        ]
        for s in self.scores:
            rows.append(
                [
                    s.name,
                    f"{s.rmse_s:.1f}",
                    f"{s.mean_wait_s:.1f}",
                    f"{s.relative_rmse:.3f}",
                    f"{s.mae_s:.1f}",
                    f"{s.within_60s:.3f}",
                    f"{s.under_share:.3f}",
                    "-" if s.coverage is None else f"{s.coverage:.3f}",
                    str(s.n),
                ]
            )
        return rows

    def as_text(self) -> str:
        rows = self.table_rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        )


def scores_of(records: Sequence[ReplayRecord], anchor_names: Iterable[str] = ANCHORS) -> list[PredictorScore]:
    waits = [r.wait for r in records]
    result = [
        score(
            OURS,
            [r.estimate.expected_seconds for r in records],
            waits,
            [(r.estimate.low_seconds, r.estimate.high_seconds) for r in records],
        )
    ]
    result += [score(name, [r.anchors[name] for r in records], waits) for name in anchor_names]
    return result


def run_backtest(
    fit_log: LogSpec, test_log: LogSpec, *, model: EstimatorModel | None = None
) -> BacktestResult:
    """Fit on one log (unless a model is given) and score ours and the anchors on the other."""
    started = clock.perf_counter()
    if model is None:
        model = fit(fit_log.events, pool_of=fit_log.pool_of, head_start=fit_log.head_start)
    fitted = clock.perf_counter()
    records = replay(test_log, model)
    if not records:
        raise ValueError("no customer was served after waiting in the test log")
    done = clock.perf_counter()
    return BacktestResult(scores_of(records), model.trained_on, fitted - started, done - fitted, model)


# ------------------------------------------------------------------------------------------------- M/M/s


def simulate_mms_log(
    servers: int,
    load: float,
    customers: int,
    *,
    service_mean: float = 300.0,
    seed: int = 0,
    start: float = 0.0,
    queue: str = "mms",
) -> list[QueueEvent]:
    """An M/M/s first-come-first-served log: Poisson arrivals, exponential service, no abandonment."""
    rng = random.Random(seed)
    rate = load * servers / service_mean
    free_at = [start] * servers
    events: list[QueueEvent] = []
    now = start
    for number in range(customers):
        now += rng.expovariate(rate)
        server = min(range(servers), key=free_at.__getitem__)
        begin = max(now, free_at[server])
        end = begin + rng.expovariate(1.0 / service_mean)
        free_at[server] = end
        visit = str(number)
        events.append(QueueEvent(now, EventKind.ARRIVE, visit, queue))
        events.append(QueueEvent(begin, EventKind.START, visit, queue, 0, f"c{server}"))
        events.append(QueueEvent(end, EventKind.END, visit, queue, 0, f"c{server}"))
    events.sort(key=lambda e: (e.time, e.kind))
    return events


def mms_queue(servers: int, load: float) -> str:
    """Queue name used for a simulated M/M/s setting."""
    return f"mms-{servers}-{load:.2f}"


def mms_training_log(
    settings: Iterable[tuple[int, float]], customers: int, *, seed: int = 0, service_mean: float = 300.0
) -> LogSpec:
    """History of several simulated M/M/s queues (one queue and pool per setting) to fit a model on."""
    events: list[QueueEvent] = []
    for number, (servers, load) in enumerate(settings):
        events += simulate_mms_log(
            servers,
            load,
            customers,
            seed=seed + number,
            service_mean=service_mean,
            queue=mms_queue(servers, load),
        )
    events.sort(key=lambda e: (e.time, e.kind))
    return LogSpec(events)


@dataclass(frozen=True, slots=True)
class MmsCheck:
    """Relative RMSE (÷ mean wait of delayed customers) on a simulated M/M/s queue.

    ``optimal`` is the queue-length predictor ``(n+1)/(s·μ)`` with the true s and μ, measured on the same
    customers; ``theory`` is its expected value √(1−ρ), which a finite run approaches only slowly at high
    load. ``queue_length`` is the anchor with learned μ and inferred s.
    """

    servers: int
    load: float
    ours: float
    optimal: float
    theory: float
    queue_length: float
    head_of_line: float
    n: int


def mms_check(
    servers: int,
    load: float,
    *,
    model: EstimatorModel | None = None,
    customers: int = 30_000,
    seed: int = 1_000,
    service_mean: float = 300.0,
) -> MmsCheck:
    """Score ours, the anchors and the optimal predictor on a fresh simulated M/M/s log.

    Without a model, one is fitted first on another simulated log of the same setting.
    """
    queue = mms_queue(servers, load)
    if model is None:
        model = fit(
            mms_training_log([(servers, load)], customers, seed=seed + 1, service_mean=service_mean).events
        )
    test_log = LogSpec(
        simulate_mms_log(servers, load, customers, seed=seed, service_mean=service_mean, queue=queue)
    )

    def optimal(snapshot: QueueSnapshot, model: EstimatorModel) -> float:
        return (snapshot.ahead + 1) * service_mean / servers

    anchors = {"optimal": optimal, "queue_length": _queue_length, "head_of_line": _head_of_line}
    records = replay(test_log, model, anchors=anchors)
    scores = {s.name: s for s in scores_of(records, anchors)}
    return MmsCheck(
        servers=servers,
        load=load,
        ours=scores[OURS].relative_rmse,
        optimal=scores["optimal"].relative_rmse,
        theory=math.sqrt(1.0 - load),
        queue_length=scores["queue_length"].relative_rmse,
        head_of_line=scores["head_of_line"].relative_rmse,
        n=len(records),
    )


# ----------------------------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    """``frontdesk backtest``: fit on some logs, replay others, print every predictor's metrics."""
    parser = argparse.ArgumentParser(
        prog="frontdesk backtest",
        description="Replay a queue log through the waiting-time estimator and the anchors; "
        "fit on --fit, score on --test, using only what was known at each moment.",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        required=True,
        help="log format: the Anonymous Bank files, a visit CSV, or a branch's history as "
        "`frontdesk export_visits` writes it (demo)",
    )
    parser.add_argument(
        "--fit", nargs="+", type=Path, required=True, metavar="FILE", help="history to learn from"
    )
    parser.add_argument("--test", nargs="+", type=Path, required=True, metavar="FILE", help="log to replay")
    parser.add_argument("--json", action="store_true", help="print one JSON object per predictor")
    arguments = parser.parse_args(argv)
    try:
        print("reading logs…", file=sys.stderr)
        fit_log = load_log(arguments.format, arguments.fit)
        test_log = load_log(arguments.format, arguments.test)
        print(f"fitting on {len(fit_log.events)} events, replaying {len(test_log.events)}…", file=sys.stderr)
        result = run_backtest(fit_log, test_log)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    if arguments.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.as_text())
        print(
            f"fitted on {result.fitted_on} waits in {result.fit_seconds:.1f} s, "
            f"replayed in {result.replay_seconds:.1f} s"
        )
    return 0
