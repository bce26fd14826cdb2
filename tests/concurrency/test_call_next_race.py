"""Call next can never hand one ticket to two counters (STACK.md gotcha 2), on SQLite and PostgreSQL.

Sixteen clerks, each at their own counter and each in their own process, empty a queue of
2,000 tickets at once through ``services.call_next``. Every ticket must be called exactly once:
counted from what the workers were handed and from the recorded transitions. The same floor
emptied by a deliberately naive "read the first waiting row, then update it" worker produces
double calls, which shows that these tests see the race they guard against.
"""

import time

import pytest

from frontdesk.queueing.models import Visit, VisitAction, VisitStatus, VisitTransition

from ._floor import CallTally, busy_floor, tally_from_transitions, tally_from_workers
from ._swarm import run_swarm

COUNTERS = 16
TICKETS = 2000

pytestmark = pytest.mark.django_db(transaction=True)


def test_sixteen_counters_calling_at_once_call_every_ticket_exactly_once(setup):
    floor = busy_floor(setup, counters=COUNTERS, tickets=TICKETS)

    started = time.monotonic()
    results = run_swarm("call_next", floor.jobs())
    elapsed = time.monotonic() - started

    from_workers = tally_from_workers(results, floor.ticket_ids)
    from_transitions = tally_from_transitions(floor.branch, floor.ticket_ids)
    assert from_workers == CallTally(), f"workers were handed: {from_workers}"
    assert from_transitions == CallTally(), f"transitions record: {from_transitions}"
    # Every call was followed through: nobody left waiting, nobody left at a counter.
    statuses = set(Visit.objects.filter(branch=floor.branch).values_list("status", flat=True))
    assert statuses <= {VisitStatus.DONE, VisitStatus.NO_SHOW}
    assert VisitTransition.objects.filter(visit__branch=floor.branch, action=VisitAction.NO_SHOW).exists()
    assert VisitTransition.objects.filter(visit__branch=floor.branch, action=VisitAction.FINISH).exists()
    # A real race: the counters shared the work rather than one draining the queue alone.
    busy_counters = sum(1 for result in results if result["called"])
    assert busy_counters >= COUNTERS * 3 // 4, [len(result["called"]) for result in results]
    print(f"call_next: {TICKETS} tickets, {COUNTERS} processes, {elapsed:.1f}s")


def test_a_naive_read_then_update_call_next_hands_tickets_out_twice(setup):
    """The same floor, emptied by reading without a lock and updating afterwards: it must go wrong."""
    floor = busy_floor(setup, counters=COUNTERS, tickets=TICKETS)

    # Each naive counter stops after 40 calls: enough to show the damage without emptying the queue.
    jobs = [{**job, "max_calls": 40, "pause_seconds": 0.002} for job in floor.jobs()]
    results = run_swarm("naive_call", jobs)

    from_workers = tally_from_workers(results, floor.ticket_ids)
    from_transitions = tally_from_transitions(floor.branch, floor.ticket_ids)
    print(
        f"naive call: {sum(len(r['called']) for r in results)} calls, "
        f"{len(from_workers.duplicates)} tickets called more than once, "
        f"{from_workers.extra_calls} extra calls"
    )
    assert from_workers.duplicates, "the naive variant should have called some ticket twice"
    assert from_transitions.duplicates == from_workers.duplicates


def test_eight_presses_of_call_next_at_one_counter_call_one_ticket(setup, clerk):
    """A double click, or eight: the counter gets one ticket and the other presses are told why."""
    from frontdesk.queueing import services

    for _ in range(20):
        services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    job = {"counter_id": setup.counter_1.pk, "staff_id": clerk.pk}

    results = run_swarm("call_once", [job] * 8)

    called = [visit_id for result in results for visit_id in result["called"]]
    refusals = [result["refused"] for result in results if result["refused"]]
    assert len(called) == 1, results
    ticket = Visit.objects.get(pk=called[0])
    assert refusals == [f"Counter 1 is still with {ticket.ticket_code}: finish it or put it back first."] * 7
    assert list(Visit.objects.filter(service_point=setup.counter_1).values_list("pk", flat=True)) == called
    assert VisitTransition.objects.filter(action=VisitAction.CALL).count() == 1


def test_eight_presses_of_did_not_come_call_next_end_one_visit_and_call_one(setup, clerk):
    """A double press of the one-press step ends the visit once and calls exactly one more ticket."""
    from frontdesk.queueing import services

    for _ in range(20):
        services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    first = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    job = {"counter_id": setup.counter_1.pk, "staff_id": clerk.pk, "visit_id": first.pk}

    results = run_swarm("end_and_call_next_once", [job] * 8)

    called = [visit_id for result in results for visit_id in result["called"]]
    refusals = [result["refused"] for result in results if result["refused"]]
    assert len(called) == 1, results
    assert len(refusals) == 7, results
    assert refusals == [f"{first.ticket_code} did not come: it cannot be marked as a no-show now."] * 7
    first.refresh_from_db()
    assert first.status == VisitStatus.NO_SHOW
    assert first.transitions.filter(action=VisitAction.NO_SHOW).count() == 1
    assert VisitTransition.objects.filter(action=VisitAction.CALL).count() == 2
    at_counter = Visit.objects.filter(service_point=setup.counter_1, status=VisitStatus.CALLED)
    assert list(at_counter.values_list("pk", flat=True)) == called
