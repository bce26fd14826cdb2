"""A press's service, counter and branch come from the process's memory (branches.selectors),
held by a version that every write to those tables moves: what the press answers is never older
than the rows."""

import datetime as dt

import pytest
from django.db import connection, transaction

from frontdesk.branches.models import Branch, ReferenceVersion, Service, ServicePoint
from frontdesk.branches.selectors import reference_row, reference_version
from frontdesk.core import clock
from frontdesk.core.errors import DomainError
from frontdesk.queueing import services
from frontdesk.queueing.models import PriorityReason, Visit, VisitStatus


def _kept() -> bool:
    """PostgreSQL's triggers keep the version; on SQLite there is none and nothing is held."""
    return connection.vendor == "postgresql"


def _press(setup, clerk, visit):
    ended, called = services.end_and_call_next(
        staff_member=clerk, service_point_id=setup.counter_1.pk, visit_id=visit.pk, action="no_show"
    )
    assert called is not None
    return ended, called


def test_a_press_answers_with_names_changed_since_the_last_press(setup, clerk):
    visits = [services.check_in(branch=setup.branch, service=setup.general) for _ in range(4)]
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    current = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert current.pk == visits[0].pk

    _ended, current = _press(setup, clerk, current)
    assert current.service_point.name == "Counter 1"
    assert str(current.service.name) == "General enquiries"

    # Renamed through the ORM (as the admin does), and through plain SQL.
    ServicePoint.objects.filter(pk=setup.counter_1.pk).update(name="Desk 1")
    with connection.cursor() as cursor:
        services_table, branches_table = Service._meta.db_table, Branch._meta.db_table
        cursor.execute(f"UPDATE {services_table} SET name_en = 'Questions' WHERE id = %s", [setup.general.pk])
        cursor.execute(f"UPDATE {branches_table} SET slug = 'gran-via-2' WHERE id = %s", [setup.branch.pk])

    ended, current = _press(setup, clerk, current)
    for visit in (ended, current):
        assert visit.service_point.name == "Desk 1"
        assert str(visit.service.name) == "Questions"
        assert visit.branch.slug == "gran-via-2"
        assert visit.service_point.branch.slug == "gran-via-2"


def test_a_press_follows_its_branchs_maximum_wait_and_closing_changed_since_the_last_press(setup, clerk):
    # The press takes its branch's maximum wait and active flag from the counter the process
    # holds, and its statement checks that the version it holds them at is still the database's.
    assert setup.branch.max_wait_minutes == 20
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    first = services.check_in(branch=setup.branch, service=setup.general)
    services.check_in(branch=setup.branch, service=setup.general)
    current = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert current.pk == first.pk
    _ended, current = _press(setup, clerk, current)  # the process now holds the counter's branch

    now = clock.now()
    regular = services.check_in(
        branch=setup.branch, service=setup.general, arrived_at=now - dt.timedelta(minutes=15)
    )
    priority = services.check_in(
        branch=setup.branch, service=setup.general, priority_reason=PriorityReason.ACCESSIBILITY
    )
    # 15 minutes is under the held 20: the priority ticket would go first. Lowered behind the
    # process's back, the regular ticket has waited too long and goes before it.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Branch._meta.db_table} SET max_wait_minutes = 10 WHERE id = %s", [setup.branch.pk]
        )
    ended, current = _press(setup, clerk, current)
    assert current.pk == regular.pk
    assert ended.status == VisitStatus.NO_SHOW

    # Closed behind the process's back: the press is refused and changes nothing.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Branch._meta.db_table} SET is_active = false WHERE id = %s", [setup.branch.pk]
        )
    with pytest.raises(DomainError):
        _press(setup, clerk, current)
    assert Visit.objects.get(pk=current.pk).status == VisitStatus.CALLED
    assert Visit.objects.get(pk=priority.pk).status == VisitStatus.WAITING


def test_the_rows_held_are_the_orms(setup):
    version = reference_version()
    assert (version is not None) == _kept()
    point = reference_row(ServicePoint, setup.counter_2.pk, version)
    expected = ServicePoint.objects.get(pk=setup.counter_2.pk)
    for field in ServicePoint._meta.concrete_fields:
        assert getattr(point, field.attname) == getattr(expected, field.attname), field.name
    assert point.branch == setup.branch
    service = reference_row(Service, setup.business.pk, version)
    assert (service.name_en, service.name_es) == ("Business customers", "Clientes de empresa")
    # Held while the version holds (the counter's branch the same instance as the branch's own);
    # without a version, read every time.
    assert (reference_row(Service, setup.business.pk, version) is service) == _kept()
    assert (point.branch is reference_row(Branch, setup.branch.pk, version)) == _kept()


def test_every_write_moves_the_version_and_a_rolled_back_one_is_never_reused(setup):
    before = reference_version()
    if not _kept():
        Service.objects.filter(pk=setup.general.pk).update(expected_duration_minutes=7)
        assert before is None
        assert reference_version() is None
        return
    assert before is not None
    with transaction.atomic():
        Service.objects.filter(pk=setup.general.pk).update(expected_duration_minutes=7)
        inside = reference_version()
        transaction.set_rollback(True)
    assert inside != before
    assert reference_version() == before  # rolled back with the change

    Service.objects.filter(pk=setup.general.pk).update(expected_duration_minutes=8)
    after = reference_version()
    assert after not in (before, inside)  # from a sequence: a value held in memory for the
    # rolled-back rows cannot come back naming other rows

    ServicePoint.objects.create(branch=setup.branch, name="Counter 9")
    assert reference_version() not in (before, inside, after)


def test_the_version_comes_back_after_its_row_is_flushed(setup):
    ReferenceVersion.objects.all().delete()
    assert reference_version() is None
    # Without a version every row is read again, never held.
    first = reference_row(Branch, setup.branch.pk, None)
    assert reference_row(Branch, setup.branch.pk, None) is not first
    assert first.name == "Gran Vía"

    Branch.objects.filter(pk=setup.branch.pk).update(name="Gran Vía 2")
    assert (reference_version() is not None) == _kept()
