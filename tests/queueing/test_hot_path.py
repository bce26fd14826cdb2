"""The hand-written hot path (decision 0002) says and does the same as the ORM it replaces.

Each test compares with what the ORM reads or with a rule stated independently, on whichever
database the suite runs (SQLite and PostgreSQL in CI), so a column renamed, a converter forgotten
or an order spelt differently fails here.
"""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from frontdesk.accounts.models import StaffMember
from frontdesk.core.errors import DomainError, NotFound, PermissionDenied
from frontdesk.queueing import selectors, services, statements
from frontdesk.queueing.models import Visit, VisitStatus
from tests.factories import StaffFactory

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _same_row(left: object, right: object) -> None:
    for field in type(left)._meta.concrete_fields:  # type: ignore[attr-defined]
        assert getattr(left, field.attname) == getattr(right, field.attname), field.name


def test_visit_read_for_staff_matches_the_orm_with_every_relation(setup, clerk):
    visit = services.check_in(
        branch=setup.branch, service=setup.business, customer_name="Ana", customer_phone="+34612345678"
    )
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)

    read = selectors.visit_get_for_staff(visit_id=visit.pk, staff_member=clerk)
    expected = Visit.objects.get(pk=visit.pk)

    _same_row(read, expected)
    assert read.arrived_at.tzinfo is not None  # converted as the ORM does (text on SQLite)
    assert str(read.customer_phone) == "+34612345678"
    assert read.branch == setup.branch
    assert read.branch.name == "Gran Vía"
    assert read.service == setup.business
    assert read.service.ticket_letter == "B"
    assert read.service_point == setup.counter_1
    assert read.service_point.name == "Counter 1"
    assert read.staff_member == clerk
    assert read.target_service_point is None  # an empty outer join is no object


def test_public_ticket_read_takes_the_uuid_as_stored(setup):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    read = selectors.visit_get_public(public_id=str(visit.public_id))
    assert read.pk == visit.pk
    assert read.public_id == visit.public_id
    with pytest.raises(NotFound):
        selectors.visit_get_public(public_id="00000000-0000-0000-0000-000000000000")


def test_staff_reads_stop_at_their_branches(setup, clerk, outsider):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    with pytest.raises(NotFound):
        selectors.visit_get_for_staff(visit_id=visit.pk, staff_member=outsider)
    with pytest.raises(NotFound):
        selectors.service_point_get_for_staff(service_point_id=setup.counter_1.pk, staff_member=outsider)
    with pytest.raises(NotFound):
        selectors.branch_get_for_staff(slug="gran-via", staff_member=outsider)
    head_office = StaffFactory(username="hq", role=StaffMember.Role.HEAD_OFFICE)
    assert selectors.visit_get_for_staff(visit_id=visit.pk, staff_member=head_office).pk == visit.pk
    setup.branch.is_active = False
    setup.branch.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        selectors.visit_get_for_staff(visit_id=visit.pk, staff_member=head_office)


def test_position_on_the_ticket_page_follows_the_calling_order_shown_to_staff(setup):
    """The SQL order (ticket page, call next) and the ORM order (queues shown) agree, starvation included."""
    max_wait = dt.timedelta(minutes=setup.branch.max_wait_minutes)
    with time_machine.travel(START, tick=False) as traveller:
        for minute, priority in [(0, ""), (1, "vip"), (2, ""), (3, "accessibility"), (4, "")]:
            traveller.move_to(START + dt.timedelta(minutes=minute))
            services.check_in(branch=setup.branch, service=setup.general, priority_reason=priority)
        # Late enough that the first regular tickets have waited past the maximum.
        now = START + max_wait + dt.timedelta(minutes=1, seconds=30)
        traveller.move_to(now)
        shown = [
            visit.pk
            for visit in selectors.waiting_visits(
                branch=setup.branch, service_ids=[setup.general.pk], now=now
            )
        ]
        ordered = statements.waiting_ids_in_calling_order(
            branch_id=setup.branch.pk, service_id=setup.general.pk, now=now, max_wait=max_wait
        )
    assert ordered == shown
    first_regular = Visit.objects.filter(priority_reason="").order_by("arrived_at").first()
    assert ordered[0] == first_regular.pk  # waited past the maximum: ahead of the VIP who came later


def test_the_database_keeps_a_counter_to_one_visit_at_a_time(setup, clerk):
    first = services.check_in(branch=setup.branch, service=setup.general)
    second = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=second.pk).update(
            status=VisitStatus.CALLED, service_point=setup.counter_1, called_at=START
        )
    assert Visit.objects.get(pk=first.pk).service_point_id == setup.counter_1.pk
    assert Visit.objects.get(pk=second.pk).status == VisitStatus.WAITING


def test_why_nothing_was_called_is_told_apart(setup, clerk, outsider):
    with pytest.raises(DomainError, match="Sign in at Counter 1"):
        services.call_next(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(PermissionDenied):
        services.call_next(staff_member=outsider, service_point=setup.counter_1)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.check_in(branch=setup.branch, service=setup.general)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(DomainError, match=f"still with {visit.ticket_code}"):
        services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert Visit.objects.filter(status=VisitStatus.CALLED).count() == 1


def test_a_stale_visit_object_still_moves_from_its_current_state(setup, clerk):
    """Steps lock and re-read the row: the caller's copy may be out of date."""
    stale = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert stale.status == VisitStatus.WAITING  # this copy never saw the call
    started = services.start_service(staff_member=clerk, visit=stale)
    assert started.status == VisitStatus.SERVING
    assert started.service_point_id == setup.counter_1.pk
    assert list(Visit.objects.get(pk=stale.pk).transitions.values_list("from_status", flat=True)) == [
        "",
        "waiting",
        "called",
    ]
