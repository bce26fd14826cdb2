"""The waiting-time estimator: what a snapshot may know, the model it learns, and its estimates."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.science.backtest import LogSpec, replay, scores_of, simulate_mms_log
from frontdesk.science.estimator import (
    FEATURE_NAMES,
    EstimatorModel,
    EventKind,
    QueueEvent,
    QueueSnapshot,
    QueueStateTracker,
    WaitingTimeEstimator,
    features,
    fit,
    hour_and_weekday,
    queue_length_estimate,
)

ARRIVE, START, END, ABANDON = EventKind.ARRIVE, EventKind.START, EventKind.END, EventKind.ABANDON


def event(
    time: float, kind: EventKind, visit: str, queue: str = "A", priority: int = 0, server: str = ""
) -> QueueEvent:
    return QueueEvent(float(time), kind, visit, queue, priority, server)


@pytest.fixture(scope="module")
def mms_model():
    return fit(simulate_mms_log(3, 0.85, 15_000, seed=7))


def test_snapshot_counts_who_is_ahead_with_the_priority_head_start():
    tracker = QueueStateTracker(head_start={0: 0.0, 1: 90.0})
    for e in [
        event(0, START, "busy", server="c1"),
        event(10, ARRIVE, "r1"),
        event(50, ARRIVE, "p1", priority=1),
        event(100, ARRIVE, "o1", queue="B"),
    ]:
        tracker.apply(e)

    regular = tracker.snapshot(event(120, ARRIVE, "me"))
    assert (regular.ahead_regular_same, regular.ahead_priority_same, regular.ahead_regular_other) == (1, 1, 0)
    assert regular.ahead == 2
    assert regular.waiting_total == 2
    assert regular.head_of_line_wait == 110
    assert regular.counters_busy == 1
    assert regular.counters_open == 1
    assert regular.elapsed_service == (120.0,)

    priority = tracker.snapshot(event(120, ARRIVE, "vip", priority=1))
    # order 120 − 90 = 30: behind r1 (10) and p1 (50 − 90), ahead of nobody else
    assert priority.ahead == 2
    late_priority = tracker.snapshot(event(200, ARRIVE, "vip2", priority=1))
    assert late_priority.ahead_priority_same == 1
    assert late_priority.ahead_regular_same == 1


def test_pools_share_counters_and_queues():
    tracker = QueueStateTracker(pool_of=lambda queue: "room")
    tracker.apply(event(0, ARRIVE, "a", queue="A"))
    tracker.apply(event(5, ARRIVE, "b", queue="B", priority=1))

    snapshot = tracker.snapshot(event(10, ARRIVE, "me", queue="A"))

    assert snapshot.pool == "room"
    assert (snapshot.ahead_regular_same, snapshot.ahead_priority_other) == (1, 1)
    assert snapshot.pool_head_of_line_wait == 10
    assert snapshot.head_of_line_wait == 10


def test_a_snapshot_never_sees_the_future():
    events = [
        event(0, ARRIVE, "a"),
        event(30, ARRIVE, "me"),
        event(40, START, "a", server="c"),
        event(50, ARRIVE, "b"),
    ]
    tracker = QueueStateTracker()
    snapshot = None
    for e in events:
        if e.visit == "me":
            snapshot = tracker.snapshot(e)
        tracker.apply(e)

    assert snapshot is not None
    assert snapshot.ahead == 1
    assert snapshot.recent_waits == ()
    assert snapshot.last_entered_wait is None


def test_waits_become_known_when_service_starts():
    tracker = QueueStateTracker()
    tracker.apply(event(0, ARRIVE, "a"))
    assert tracker.apply(event(45, START, "a", server="c")) == 45
    assert tracker.apply(event(50, START, "walk-in", server="d")) is None  # served without queueing
    assert tracker.apply(event(60, END, "never-started")) is None
    tracker.apply(event(70, ARRIVE, "b"))
    assert tracker.apply(event(100, ABANDON, "b")) == 30

    snapshot = tracker.snapshot(event(120, ARRIVE, "me"))
    assert snapshot.recent_waits == (45.0,)
    assert snapshot.last_entered_wait == 45
    assert snapshot.counters_busy == 2
    assert snapshot.ahead == 0


def test_a_waiting_ticket_sees_only_those_before_it():
    tracker = QueueStateTracker()
    for e in [event(0, ARRIVE, "a"), event(10, ARRIVE, "me"), event(20, ARRIVE, "c")]:
        tracker.apply(e)
    assert tracker.snapshot(event(30, ARRIVE, "me")).ahead == 1
    tracker.apply(event(40, START, "a", server="x"))
    assert tracker.snapshot(event(50, ARRIVE, "me")).ahead == 0
    assert tracker.waiting_since("A", "me") == 10


def test_forgets_visits_whose_end_never_came():
    tracker = QueueStateTracker(forget_after=3600)
    tracker.apply(event(0, ARRIVE, "lost"))
    tracker.apply(event(0, START, "stuck", server="c"))

    snapshot = tracker.snapshot(event(4000, ARRIVE, "me"))

    assert snapshot.ahead == 0
    assert snapshot.counters_busy == 0


def test_queue_length_estimate():
    assert queue_length_estimate(4, 2, 300) == pytest.approx(750)
    assert queue_length_estimate(0, 0, 300) == pytest.approx(300)  # no counter known: one
    with_abandonment = queue_length_estimate(4, 2, 300, theta=1 / 600)
    assert with_abandonment < 750
    assert with_abandonment == pytest.approx(sum(1 / (2 / 300 + k / 600) for k in range(5)))


def test_hour_and_weekday_of_the_wall_clock():
    assert hour_and_weekday(0) == (0, 3)  # 1970-01-01 was a Thursday
    assert hour_and_weekday(4 * 86_400 + 13.5 * 3600) == (13, 0)


def test_model_round_trips_through_json(mms_model):
    restored = EstimatorModel.from_dict(json.loads(json.dumps(mms_model.to_dict())))
    snapshot = QueueSnapshot(
        queue="mms", pool="mms", priority=0, hour=10, weekday=2, ahead_regular_same=4, counters_open=3
    )

    assert WaitingTimeEstimator(restored).estimate(snapshot) == WaitingTimeEstimator(mms_model).estimate(
        snapshot
    )
    assert len(features(snapshot, restored)) == len(FEATURE_NAMES) == len(restored.coefficients) - 1


def test_rejects_models_of_another_version(mms_model):
    data = mms_model.to_dict() | {"version": 99}
    with pytest.raises(ValueError, match="version"):
        EstimatorModel.from_dict(data)


def test_learns_the_service_time_and_grows_with_the_queue(mms_model):
    assert mms_model.service_by_pool["mms"].mean == pytest.approx(300, rel=0.05)
    assert mms_model.service_by_pool["mms"].cv == pytest.approx(1.0, abs=0.05)
    assert mms_model.abandonment_rate["mms"] == 0
    estimator = WaitingTimeEstimator(mms_model)
    waits = [
        estimator.estimate(
            QueueSnapshot(
                queue="mms",
                pool="mms",
                priority=0,
                hour=12,
                weekday=1,
                ahead_regular_same=n,
                counters_open=3,
                counters_recent=3,
                counters_for_queue=3,
                counters_busy=3,
            )
        ).expected_seconds
        for n in (0, 3, 10)
    ]
    assert waits == sorted(waits)
    assert waits[2] == pytest.approx(11 * 100, rel=0.15)  # (n+1)·m/s


def test_on_an_mms_queue_it_matches_the_optimal_queue_length_predictor(mms_model):
    records = replay(
        LogSpec(simulate_mms_log(3, 0.85, 15_000, seed=8)),
        mms_model,
        anchors={
            "optimal": lambda snapshot, model: (snapshot.ahead + 1) * 300 / 3,
        },
    )
    scores = {s.name: s for s in scores_of(records, ["optimal"])}

    assert scores["frontdesk"].relative_rmse <= 1.05 * scores["optimal"].relative_rmse
    assert scores["optimal"].relative_rmse == pytest.approx(math.sqrt(1 - 0.85), rel=0.1)
    assert 0.70 <= (scores["frontdesk"].coverage or 0) <= 0.90  # a range learned from a short history


def test_too_little_history_is_refused():
    with pytest.raises(ValueError, match="too little history"):
        fit(simulate_mms_log(1, 0.5, 20, seed=1))


snapshots = st.builds(
    QueueSnapshot,
    queue=st.just("mms"),
    pool=st.just("mms"),
    priority=st.integers(0, 2),
    hour=st.integers(0, 23),
    weekday=st.integers(0, 6),
    ahead_regular_same=st.integers(0, 60),
    ahead_priority_same=st.integers(0, 10),
    ahead_regular_other=st.integers(0, 20),
    ahead_priority_other=st.integers(0, 5),
    waiting_total=st.integers(0, 100),
    appointments_due=st.integers(0, 5),
    counters_open=st.integers(0, 20),
    counters_recent=st.integers(0, 20),
    counters_for_queue=st.integers(0, 20),
    counters_busy=st.integers(0, 20),
    elapsed_service=st.lists(st.floats(0, 7200), max_size=20).map(tuple),
    recent_waits=st.lists(st.floats(0, 7200), max_size=10).map(tuple),
    last_entered_wait=st.none() | st.floats(0, 7200),
    head_of_line_wait=st.floats(0, 7200),
    pool_head_of_line_wait=st.floats(0, 7200),
)


@settings(max_examples=200, deadline=None)
@given(snapshot=snapshots)
def test_every_estimate_is_a_range_around_a_non_negative_figure(mms_model, snapshot):
    estimate = WaitingTimeEstimator(mms_model).estimate(snapshot)

    assert 0 <= estimate.low_seconds <= estimate.expected_seconds <= estimate.high_seconds
    assert all(
        math.isfinite(v) for v in (estimate.low_seconds, estimate.expected_seconds, estimate.high_seconds)
    )
