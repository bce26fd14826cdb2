"""Ticket numbers under concurrent kiosks, and double taps (STACK.md gotchas 1, 3 and 4).

Sixteen kiosks, each its own process, issue tickets for one service of one branch at the same
moment: the numbers must be exactly 1..N, with no duplicate and no gap. Sixteen kiosks sending
the same idempotency keys at once (a double tap seen from many sides) must make one visit per key,
and the losing taps must not burn a number either.
"""

import uuid
from collections import defaultdict

import pytest

from frontdesk.queueing import services
from frontdesk.queueing.models import TicketSequence, Visit

from ._swarm import run_swarm

KIOSKS = 16
TICKETS_PER_KIOSK = 40
KEYS = 20

pytestmark = pytest.mark.django_db(transaction=True)


def _numbers_by_day(visits) -> dict[str, list[int]]:
    by_day: dict[str, list[int]] = defaultdict(list)
    for business_date, number in visits:
        by_day[str(business_date)].append(number)
    return {day: sorted(numbers) for day, numbers in by_day.items()}


def test_sixteen_kiosks_at_once_number_tickets_without_duplicates_or_gaps(setup):
    job = {"branch_id": setup.branch.pk, "service_id": setup.general.pk, "count": TICKETS_PER_KIOSK}
    results = run_swarm("check_in", [job] * KIOSKS)

    issued = [row for result in results for row in result["issued"]]
    total = KIOSKS * TICKETS_PER_KIOSK
    assert len(issued) == total  # no kiosk lost a write to "database is locked"
    assert len({visit_id for visit_id, _number, _code in issued}) == total
    assert len({code for _visit_id, _number, code in issued}) == total
    # What the kiosks printed and what the database holds: 1..N for the day (per day, should the
    # run straddle the branch's midnight).
    stored = Visit.objects.filter(branch=setup.branch, service=setup.general)
    by_day = _numbers_by_day(stored.values_list("business_date", "ticket_number"))
    assert sum(len(numbers) for numbers in by_day.values()) == total
    for day, numbers in by_day.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"duplicates or gaps on {day}"
        sequence = TicketSequence.objects.get(branch=setup.branch, service=setup.general, business_date=day)
        assert sequence.last_number == len(numbers)
    assert sorted(number for _visit_id, number, _code in issued) == sorted(
        number for numbers in by_day.values() for number in numbers
    )
    # They really raced: the kiosks' numbers interleave instead of coming in one block each.
    interleaved = [
        result
        for result in results
        if [row[1] for row in result["issued"]]
        != list(range(result["issued"][0][1], result["issued"][0][1] + TICKETS_PER_KIOSK))
    ]
    assert len(interleaved) >= KIOSKS // 2


def test_the_same_idempotency_key_from_sixteen_kiosks_at_once_makes_one_visit(setup):
    keys = [f"tap-{uuid.uuid4().hex[:12]}-{n}" for n in range(KEYS)]
    job = {"branch_id": setup.branch.pk, "service_id": setup.general.pk, "keys": keys}
    results = run_swarm("check_in_with_keys", [job] * KIOSKS)

    for key in keys:
        answers = {tuple(result["answers"][key]) for result in results}
        assert len(answers) == 1, f"{key} gave {len(answers)} different tickets: {answers}"
        assert Visit.objects.filter(branch=setup.branch, idempotency_key=key).count() == 1
    visits = Visit.objects.filter(branch=setup.branch)
    assert visits.count() == KEYS
    # The taps that lost the race rolled back their number with their insert: still 1..KEYS.
    by_day = _numbers_by_day(visits.values_list("business_date", "ticket_number"))
    for numbers in by_day.values():
        assert numbers == list(range(1, len(numbers) + 1))
    after = services.check_in(branch=setup.branch, service=setup.general)
    assert after.ticket_number == len(by_day[str(after.business_date)]) + 1
