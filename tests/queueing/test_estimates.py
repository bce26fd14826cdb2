"""Live waiting-time estimates from the one estimator: the event log from the database, the live snapshot,
fitting and storing, the fallback, and what the customer sees."""

import datetime as dt
import math
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from frontdesk.core.errors import DomainError
from frontdesk.queueing import estimates, selectors, services
from frontdesk.queueing.models import Outcome, PriorityReason, VisitStatus, WaitEstimatorModel
from frontdesk.queueing.services import PastVisit
from frontdesk.queueing.tasks import refit_wait_estimators
from frontdesk.science.estimator import EventKind, QueueEvent, QueueStateTracker, hour_and_weekday

from ..factories import ServiceFactory, StaffFactory

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 3, 18, 11, 0, tzinfo=MADRID)  # a Wednesday morning
OPENS = dt.time(9)


@pytest.fixture(autouse=True)
def _no_cached_models():
    """Loaded models live in the process for a minute; no test may see another's."""
    estimates.clear_model_cache()
    yield
    estimates.clear_model_cache()


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def third_clerk(setup):
    return StaffFactory(username="elena", first_name="Elena", branches=[setup.branch])


def history(setup, clerks, *, days: int = 15, seed: int = 1) -> list[PastVisit]:
    """Weekday mornings before NOW: first come, first served at one to three counters, some give up.

    Counters change from day to day, so the fit sees the wait shrink with more counters open.
    """
    rng = random.Random(seed)
    counters = [setup.counter_1, setup.counter_2, setup.counter_3]
    service_minutes = {setup.general: 8.0, setup.business: 12.0}
    records: list[PastVisit] = []
    day = NOW.date()
    served_days = 0
    while served_days < days:
        day -= dt.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        served_days += 1
        staffed = 1 + served_days % 3
        start = dt.datetime.combine(day, OPENS, tzinfo=MADRID)
        rate = 0.85 * staffed / 9.0  # arrivals per minute: a busy morning
        free_at = [0.0] * staffed
        moment = 0.0
        while True:
            moment += rng.expovariate(rate)
            if moment > 240:
                break
            service = setup.general if rng.random() < 0.75 else setup.business
            desk = min(range(staffed), key=free_at.__getitem__)
            called = max(moment, free_at[desk])
            patience = rng.expovariate(1 / 45.0)

            def at(minutes: float, start: dt.datetime = start) -> dt.datetime:
                return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)

            common = {"branch": setup.branch, "service": service, "arrived_at": at(moment)}
            if called - moment > patience:
                records.append(
                    PastVisit(**common, status=VisitStatus.LEFT, finished_at=at(moment + patience))
                )
                continue
            at_counter = {
                "service_point": counters[desk],
                "staff_member": clerks[desk],
                "called_at": at(called),
            }
            if rng.random() < 0.03:
                free_at[desk] = called + 2
                records.append(
                    PastVisit(**common, **at_counter, status=VisitStatus.NO_SHOW, finished_at=at(called + 2))
                )
                continue
            started = called + rng.uniform(0.2, 1.0)
            finished = started + rng.expovariate(1 / service_minutes[service])
            free_at[desk] = finished + 0.3
            records.append(
                PastVisit(
                    **common,
                    **at_counter,
                    status=VisitStatus.DONE,
                    service_started_at=at(started),
                    finished_at=at(finished),
                    outcome=Outcome.RESOLVED,
                )
            )
    return records


@pytest.fixture
def fitted(setup, clerk, second_clerk, third_clerk, now):
    """Three weeks of history at Gran Vía and the branch's model fitted on it."""
    services.import_past_visits(history(setup, [clerk, second_clerk, third_clerk]))
    return estimates.fit_and_store_wait_estimator(branch=setup.branch, weeks=4)


def move(traveller, hours: int, minutes: int = 0) -> None:
    traveller.move_to(dt.datetime.combine(NOW.date(), dt.time(hours, minutes), tzinfo=MADRID))


def queue_of(setup, count: int, traveller, *, service=None, start: tuple[int, int] = (10, 50)):
    """``count`` tickets checked in a minute apart from ``start``; the clock then stands at NOW."""
    visits = []
    for number in range(count):
        move(traveller, start[0], start[1] + number)
        visits.append(services.check_in(branch=setup.branch, service=service or setup.general))
    traveller.move_to(NOW)
    return visits


# ---------------------------------------------------------------------------------------------
# The event log from the database


def test_imported_history_becomes_the_event_log_with_the_same_waits(
    setup, clerk, second_clerk, third_clerk, now
):
    records = history(setup, [clerk, second_clerk, third_clerk], days=5)
    services.import_past_visits(records)

    events = estimates.visit_events(setup.branch, NOW - dt.timedelta(weeks=2), NOW)

    kinds = Counter(event.kind for event in events)
    statuses = Counter(record.status for record in records)
    assert kinds[EventKind.ARRIVE] == len(records)
    assert kinds[EventKind.START] == statuses[VisitStatus.DONE] + statuses[VisitStatus.NO_SHOW]
    assert kinds[EventKind.END] == statuses[VisitStatus.DONE] + statuses[VisitStatus.NO_SHOW]
    assert kinds[EventKind.ABANDON] == statuses[VisitStatus.LEFT] > 0
    assert [(e.time, e.kind) for e in events] == sorted((e.time, e.kind) for e in events)
    # the wait that ends at the call, on the branch's wall clock
    tracker = QueueStateTracker(pool_of=estimates.pool_of)
    waits = {}
    for event in events:
        wait = tracker.apply(event)
        if event.kind is EventKind.START:
            waits[event.visit] = wait
    visits = selectors.visit_history(branch=setup.branch, business_date=records[0].arrived_at.date())
    for visit in visits.filter(called_at__isnull=False):
        assert waits[str(visit.pk)] == pytest.approx((visit.called_at - visit.arrived_at).total_seconds())
    first = next(e for e in events if e.kind is EventKind.ARRIVE)
    local = min(r.arrived_at for r in records).astimezone(MADRID)
    assert hour_and_weekday(first.time) == (local.hour, local.weekday())
    assert {e.queue for e in events} == {str(setup.general.pk), str(setup.business.pk)}
    assert {e.server for e in events if e.kind is EventKind.START} == {
        f"counter-{point.pk}" for point in (setup.counter_1, setup.counter_2, setup.counter_3)
    }


def test_put_back_transfer_leave_and_no_show_map_onto_the_log(setup, clerk, second_clerk, now):
    move(now, 9)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    put_back, transferred, leaver, no_show, served = (
        services.check_in(branch=setup.branch, service=setup.general) for _ in range(5)
    )
    move(now, 9, 5)
    assert services.call_next(staff_member=clerk, service_point=setup.counter_1) == put_back
    move(now, 9, 6)
    services.put_back(staff_member=clerk, visit=put_back)
    move(now, 9, 7)
    services.transfer_visit(staff_member=clerk, visit=transferred, to_service=setup.business)
    services.leave_queue(visit=leaver)
    move(now, 9, 8)
    assert services.call_next(staff_member=clerk, service_point=setup.counter_1) == put_back
    assert services.call_next(staff_member=second_clerk, service_point=setup.counter_2) == no_show
    services.recall_visit(staff_member=second_clerk, visit=no_show)
    move(now, 9, 10)
    services.mark_no_show(staff_member=second_clerk, visit=no_show)
    services.start_service(staff_member=clerk, visit=put_back)
    move(now, 9, 20)
    services.finish_visit(staff_member=clerk, visit=put_back, outcome=Outcome.RESOLVED)
    assert services.call_next(staff_member=clerk, service_point=setup.counter_1) == transferred
    now.move_to(NOW)

    events = estimates.visit_events(setup.branch, NOW - dt.timedelta(days=1), NOW)

    log = [(e.visit, e.kind, e.queue) for e in events]
    general, business = str(setup.general.pk), str(setup.business.pk)
    assert log.count((str(put_back.pk), EventKind.END, general)) == 1  # the first stay ends at the put-back
    assert (f"{put_back.pk}.2", EventKind.ARRIVE, general) in log
    assert (f"{put_back.pk}.2", EventKind.END, general) in log
    assert (str(transferred.pk), EventKind.ABANDON, general) in log
    assert (f"{transferred.pk}.2", EventKind.ARRIVE, business) in log
    assert (str(leaver.pk), EventKind.ABANDON, general) in log
    no_show_events = [e for e in events if e.visit == str(no_show.pk)]
    assert [e.kind for e in no_show_events] == [EventKind.ARRIVE, EventKind.START, EventKind.END]
    assert no_show_events[1].server == f"counter-{setup.counter_2.pk}"
    # the recall changed called_at but not when the wait ended
    assert no_show_events[2].time - no_show_events[1].time == 120
    assert [e.kind for e in events if e.visit == f"{transferred.pk}.2"] == [EventKind.ARRIVE, EventKind.START]
    assert [e.kind for e in events if e.visit == str(served.pk)] == [EventKind.ARRIVE]  # still waiting
    # nothing after "until"
    assert estimates.visit_events(
        setup.branch, NOW - dt.timedelta(days=1), NOW.replace(hour=9, minute=6)
    ) == [e for e in events if e.time < estimates.wall_clock_seconds(NOW.replace(hour=9, minute=6), MADRID)]


#: The snapshot's fields that the live side and the replay define alike (counters open and able to serve
#: the queue are "signed in" live and "recently active" in a replay).
SAME_MEANING = (
    "queue",
    "pool",
    "priority",
    "hour",
    "weekday",
    "ahead_regular_same",
    "ahead_priority_same",
    "ahead_regular_other",
    "ahead_priority_other",
    "waiting_total",
    "counters_busy",
    "counters_recent",
    "elapsed_service",
    "recent_waits",
    "last_entered_wait",
    "head_of_line_wait",
    "pool_head_of_line_wait",
)


def same_meaning(snapshot) -> dict[str, object]:
    def rounded(value):
        if isinstance(value, float):
            return round(value, 3)
        return tuple(rounded(v) for v in value) if isinstance(value, tuple) else value

    return {name: rounded(getattr(snapshot, name)) for name in SAME_MEANING}


def test_the_live_snapshot_means_what_the_trackers_snapshot_means(setup, clerk, second_clerk, now):
    move(now, 9)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_3)
    tickets = []
    for minute in range(8):
        move(now, 9, minute)
        service = setup.business if minute % 3 == 2 else setup.general
        reason = PriorityReason.ACCESSIBILITY if minute == 6 else ""
        tickets.append(services.check_in(branch=setup.branch, service=service, priority_reason=reason))
    for minute, (staff, point) in enumerate(
        [(clerk, setup.counter_1), (second_clerk, setup.counter_3), (clerk, setup.counter_1)], start=10
    ):
        move(now, 9, minute)
        visit = services.call_next(staff_member=staff, service_point=point)
        services.start_service(staff_member=staff, visit=visit)
        if minute < 12:
            move(now, 9, minute + 1)
            services.finish_visit(staff_member=staff, visit=visit, outcome=Outcome.RESOLVED)
    move(now, 9, 14)
    waiting = list(selectors.waiting_visits(branch=setup.branch))
    assert len(waiting) == 5

    moment = dt.datetime.combine(NOW.date(), dt.time(9, 16), tzinfo=MADRID)
    now.move_to(moment)
    midnight = dt.datetime.combine(NOW.date(), dt.time(), tzinfo=MADRID)
    for visit in waiting:
        live = estimates.live_snapshot(visit, moment)
        tracker = QueueStateTracker(pool_of=estimates.pool_of, head_start=estimates.head_start(setup.branch))
        for event in estimates.visit_events(setup.branch, midnight, moment):
            tracker.apply(event)
        replayed = tracker.snapshot(
            QueueEvent(
                estimates.wall_clock_seconds(moment, MADRID),
                EventKind.ARRIVE,
                str(visit.pk),
                str(visit.service_id),
                1 if visit.priority_reason else 0,
            )
        )
        assert same_meaning(live) == same_meaning(replayed), visit.ticket_code
        assert live.counters_open == 2  # both open counters serve someone of the branch's pool
        # counter 1 serves A and B, counter 3 only B
        assert live.counters_for_queue == (2 if visit.service == setup.business else 1)
    last = estimates.live_snapshot(waiting[-1], moment)
    assert last.ahead == 4
    assert (last.hour, last.weekday) == (9, 2)
    assert last.counters_busy == 1
    assert last.elapsed_service == (240.0,)


# ---------------------------------------------------------------------------------------------
# Fitting and storing


def test_fit_stores_the_branchs_model_and_the_command_and_task_call_the_same(setup, fitted, other_branch):
    assert fitted.branch == setup.branch
    assert fitted.n_waits >= 100
    assert fitted.parameters["trained_on"] == fitted.n_waits
    assert "4 week(s)" in fitted.notes

    call_command("fit_wait_estimator", "--branch", "gran-via", "--weeks", "2")
    latest = WaitEstimatorModel.objects.filter(branch=setup.branch).latest()
    assert latest.pk != fitted.pk
    assert latest.n_waits < fitted.n_waits

    results = refit_wait_estimators.call(weeks=4)
    assert results[0] == {
        "branch": "gran-via",
        "model_id": results[0]["model_id"],
        "n_waits": fitted.n_waits,
        "error": "",
    }
    assert results[1]["branch"] == "sol"
    assert results[1]["model_id"] is None
    assert "too little history" in results[1]["error"]
    assert results[2]["branch"] is None  # the network-wide model, fitted on every branch
    network = WaitEstimatorModel.objects.get(pk=results[2]["model_id"])
    assert network.branch is None
    assert network.n_waits == fitted.n_waits


def test_too_little_history_is_a_clear_error(setup, now):
    with pytest.raises(DomainError, match="too little history"):
        estimates.fit_and_store_wait_estimator(branch=setup.branch, weeks=4)
    with pytest.raises(DomainError, match="at least one week"):
        estimates.fit_and_store_wait_estimator(branch=setup.branch, weeks=0)
    assert not WaitEstimatorModel.objects.exists()


# ---------------------------------------------------------------------------------------------
# The live estimate


def test_the_estimate_grows_with_the_position(setup, clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visits = queue_of(setup, 6, now)

    expected = [estimates.estimate_for(visit).expected_seconds for visit in visits]

    assert expected == sorted(expected)
    assert expected[-1] > expected[0] + 600
    minutes = [selectors.ticket_status(visit).estimated_wait_minutes for visit in visits]
    assert minutes == sorted(minutes)
    assert minutes[-1] > minutes[0]


def test_the_estimate_shrinks_when_more_counters_open(setup, clerk, second_clerk, third_clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    last = queue_of(setup, 6, now)[-1]
    one_counter = estimates.estimate_for(last)

    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    two_counters = estimates.estimate_for(last)
    services.open_counter(staff_member=third_clerk, service_point=setup.counter_3)
    three_counters = estimates.estimate_for(last)

    assert one_counter.expected_seconds > two_counters.expected_seconds > three_counters.expected_seconds


def test_the_range_holds_the_estimate(setup, clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    for visit in queue_of(setup, 5, now):
        estimate = estimates.estimate_for(visit)
        assert estimate.low_seconds <= estimate.expected_seconds <= estimate.high_seconds
        assert estimate.low_seconds < estimate.high_seconds
        status = selectors.ticket_status(visit)
        assert status.estimate_source == "estimator"
        assert status.estimated_wait_minutes == max(1, math.ceil(estimate.expected_seconds / 60))
        assert status.estimate_low_minutes <= status.estimated_wait_minutes <= status.estimate_high_minutes


def test_the_ticket_pages_and_the_public_api_show_the_estimate_and_its_range(setup, clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visit = queue_of(setup, 3, now)[-1]
    status = selectors.ticket_status(visit)
    minutes, low, high = (
        status.estimated_wait_minutes,
        status.estimate_low_minutes,
        status.estimate_high_minutes,
    )

    page = Client().get(f"/t/{visit.public_id}/")
    assert f"Estimated wait: about {minutes} min ({low}–{high})" in page.text
    kiosk = Client().get(f"/kiosk/gran-via/ticket/{visit.public_id}/")
    assert f"About {minutes} min ({low}–{high})." in kiosk.text
    spanish = Client()
    spanish.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert f"Espera estimada: unos {minutes} min ({low}–{high})" in spanish.get(f"/t/{visit.public_id}/").text
    ticket = Client().get(f"/api/public/tickets/{visit.public_id}").json()
    assert ticket["estimated_wait_minutes"] == minutes


def test_without_a_model_the_simple_estimate_is_shown_without_a_range(setup, clerk, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visits = queue_of(setup, 3, now)

    assert estimates.estimate_for(visits[-1]) is None
    status = selectors.ticket_status(visits[-1])
    assert status.estimate_source == "simple"
    assert status.estimated_wait_minutes == 30  # third in line × 10 minutes expected ÷ one counter
    assert status.estimate_low_minutes is None
    page = Client().get(f"/t/{visits[-1].public_id}/").text
    assert "Estimated wait: about 30 min</p>" in page
    kiosk = Client().get(f"/kiosk/gran-via/ticket/{visits[-1].public_id}/").text
    assert "About 30 min." in kiosk


def test_a_branch_without_its_own_fit_uses_the_network_model(setup, clerk, fitted, now):
    network = estimates.fit_and_store_wait_estimator(branch=None, weeks=4)
    fitted.delete()
    estimates.clear_model_cache()
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visit = queue_of(setup, 2, now)[-1]

    loaded = estimates.model_for_branch(setup.branch.pk)

    assert (loaded.record_id, loaded.branch_id) == (network.pk, None)
    assert selectors.ticket_status(visit).estimate_source == "estimator"


def test_an_unreadable_model_or_an_unknown_service_falls_back(setup, clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visit = queue_of(setup, 2, now)[-1]
    new_service = ServiceFactory(name="New", ticket_letter="N")
    setup.branch.services.add(new_service)
    setup.counter_1.services.add(new_service)
    newcomer = services.check_in(branch=setup.branch, service=new_service)

    assert estimates.estimate_for(visit) is not None
    assert estimates.estimate_for(newcomer) is None  # never served in the history the model learned from

    WaitEstimatorModel.objects.filter(pk=fitted.pk).update(parameters={"version": 99})
    estimates.clear_model_cache()
    assert estimates.estimate_for(visit) is None
    assert selectors.ticket_status(visit).estimate_source == "simple"


def test_a_loaded_model_is_reused_for_a_minute_and_a_new_fit_replaces_it(
    setup, clerk, fitted, now, django_assert_num_queries
):
    first = estimates.model_for_branch(setup.branch.pk)
    with django_assert_num_queries(0):
        assert estimates.model_for_branch(setup.branch.pk) is first
    now.shift(dt.timedelta(seconds=estimates.MODEL_CACHE_SECONDS + 1))
    with django_assert_num_queries(1):
        assert estimates.model_for_branch(setup.branch.pk).record_id == fitted.pk

    refit = estimates.fit_and_store_wait_estimator(branch=setup.branch, weeks=3)
    assert estimates.model_for_branch(setup.branch.pk).record_id == refit.pk


def test_a_ticket_that_is_not_waiting_has_no_estimate(setup, clerk, fitted, now):
    move(now, 10)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visit = queue_of(setup, 1, now)[0]
    called = services.call_next(staff_member=clerk, service_point=setup.counter_1)

    assert estimates.estimate_for(called) is None
    status = selectors.ticket_status(called)
    assert (status.position, status.estimated_wait_minutes, status.estimate_source) == (None, None, "")
    assert called == visit
