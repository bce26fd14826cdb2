"""The demo organisation: big enough, shaped like a real branch network, consistent, reproducible, alive."""

import datetime as dt
import hashlib
import itertools
import statistics
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine

from frontdesk.accounts.models import ApiToken, StaffMember
from frontdesk.branches.models import Branch, OpeningHours, Service, ServicePoint
from frontdesk.demo import builder
from frontdesk.queueing.models import CounterSession, TicketSequence, Visit, VisitStatus, VisitTransition

MADRID_TIME = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 3, 18, 10, 40, tzinfo=dt.UTC)  # a Wednesday, 11:40 in Madrid: every branch open
TODAY = dt.date(2026, 3, 18)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One build shared by the tests that only read it (committed, so wiped at the end)."""
    with django_db_blocker.unblock():
        with time_machine.travel(NOW, tick=False):
            summary = builder.build(seed=7, weeks=2)
        try:
            yield summary
        finally:
            _wipe()


@pytest.fixture
def built(demo, db) -> str:
    return demo


def _history(**filters) -> list[Visit]:
    return list(
        Visit.objects.filter(business_date__lt=TODAY, **filters).select_related(
            "service", "service_point", "staff_member"
        )
    )


def test_is_loaded_says_whether_the_demo_is_there(built):
    assert builder.is_loaded()
    _wipe()  # inside this test's transaction: the shared build comes back afterwards
    assert not builder.is_loaded()


def test_the_organisation_is_big_enough_to_show(built):
    assert Branch.objects.count() >= 3
    assert set(Branch.objects.values_list("time_zone", flat=True)) == {"Europe/Madrid"}
    assert Service.objects.count() >= 4
    assert ServicePoint.objects.count() >= 10
    assert StaffMember.objects.count() >= 15
    admin = StaffMember.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.role == StaffMember.Role.HEAD_OFFICE
    assert admin.check_password(builder.DEMO_PASSWORD)
    for branch in Branch.objects.all():
        assert branch.staff_members.filter(role=StaffMember.Role.BRANCH_MANAGER).count() == 1
        assert branch.services.count() == Service.objects.count()
    clerks = StaffMember.objects.filter(role=StaffMember.Role.CLERK)
    assert sum(1 for clerk in clerks if clerk.branches.count() == 2) >= 2
    assert any(clerk.services.exists() for clerk in clerks)
    for service in Service.objects.all():
        assert service.name_en
        assert service.name_es
        assert service.name_en != service.name_es
        assert service.description_en
        assert service.description_es
    assert len(set(Service.objects.values_list("expected_duration_minutes", flat=True))) >= 3
    closed_on_saturday = [
        branch for branch in Branch.objects.all() if not branch.opening_hours.filter(weekday=5).exists()
    ]
    assert closed_on_saturday  # one branch keeps other hours
    assert OpeningHours.objects.filter(weekday=5).exists()
    assert ApiToken.objects.filter(staff_member=admin, scopes=["queue:read", "queue:write"]).count() == 1


def test_history_looks_like_a_branch_network(built):
    history = _history()
    assert len({visit.business_date for visit in history}) >= 10
    per_branch_day = Counter((visit.branch_id, visit.business_date) for visit in history)
    assert 80 <= statistics.fmean(per_branch_day.values()) <= 200
    statuses = Counter(visit.status for visit in history)
    assert set(statuses) == {VisitStatus.DONE, VisitStatus.NO_SHOW, VisitStatus.LEFT}
    assert 0.02 <= statuses[VisitStatus.NO_SHOW] / len(history) <= 0.07
    assert 0.03 <= statuses[VisitStatus.LEFT] / len(history) <= 0.10
    priority = sum(1 for visit in history if visit.priority_reason)
    assert 0.02 <= priority / len(history) <= 0.09


def test_arrivals_peak_in_the_morning_on_mondays_and_on_saturdays(built):
    madrid = Branch.objects.get(slug="madrid-gran-via")  # open on Saturday mornings
    arrivals = [visit.arrived_at.astimezone(MADRID_TIME) for visit in _history(branch=madrid)]
    weekdays = {moment.date() for moment in arrivals if moment.weekday() < 5}
    saturdays = {moment.date() for moment in arrivals if moment.weekday() == 5}
    assert saturdays

    def per_hour(hours: range, days: set[dt.date]) -> float:
        count = sum(1 for moment in arrivals if moment.date() in days and moment.hour in hours)
        return count / (len(hours) * len(days))

    assert per_hour(range(10, 12), weekdays) > 1.5 * per_hour(range(15, 17), weekdays)
    assert per_hour(range(10, 14), saturdays) > per_hour(range(9, 20), weekdays)

    per_day = Counter(visit.business_date for visit in _history())
    mondays = [count for day, count in per_day.items() if day.weekday() == 0]
    wednesdays = [count for day, count in per_day.items() if day.weekday() == 2]
    assert statistics.fmean(mondays) > statistics.fmean(wednesdays)


def test_service_times_vary_around_each_services_expected_duration(built):
    durations = defaultdict(list)
    for visit in _history(status=VisitStatus.DONE):
        durations[visit.service].append((visit.finished_at - visit.service_started_at).total_seconds() / 60)
    assert len(durations) >= 4
    for service, minutes in durations.items():
        mean = statistics.fmean(minutes)
        assert 0.7 * service.expected_duration_minutes <= mean <= 1.35 * service.expected_duration_minutes
        assert statistics.pstdev(minutes) / mean > 0.3


def test_counters_serve_one_customer_at_a_time_and_only_what_they_serve(built):
    counter_services = _pairs(ServicePoint.services.through, "servicepoint_id", "service_id")
    staff_services = _pairs(StaffMember.services.through, "staffmember_id", "service_id")
    staff_branches = _pairs(StaffMember.branches.through, "staffmember_id", "branch_id")
    by_counter = defaultdict(list)
    for visit in _history():
        assert visit.arrived_at <= (visit.called_at or visit.finished_at) <= visit.finished_at
        if visit.status == VisitStatus.LEFT:
            assert visit.service_point_id is None
            assert visit.called_at is None
            continue
        by_counter[visit.service_point_id].append(visit)
        assert visit.branch_id in staff_branches[visit.staff_member_id]
        assert visit.service_id in counter_services[visit.service_point_id]
        allowed = staff_services[visit.staff_member_id]
        assert not allowed or visit.service_id in allowed
        if visit.status == VisitStatus.DONE:
            assert visit.called_at <= visit.service_started_at <= visit.finished_at
    for visits in by_counter.values():
        visits.sort(key=lambda visit: visit.called_at)
        for earlier, later in itertools.pairwise(visits):
            assert earlier.finished_at <= later.called_at
    # Every past visit went through the import with its transitions.
    assert VisitTransition.objects.filter(action="check_in").count() == Visit.objects.count()


def _pairs(through, left: str, right: str) -> defaultdict[int, set[int]]:
    pairs: defaultdict[int, set[int]] = defaultdict(set)
    for key, value in through.objects.values_list(left, right):
        pairs[key].add(value)
    return pairs


def test_today_has_a_live_queue_in_every_branch(built):
    today = Visit.objects.filter(business_date=TODAY)
    for branch in Branch.objects.all():
        waiting = today.filter(branch=branch, status=VisitStatus.WAITING)
        assert 5 <= waiting.count() <= 12
        assert all(visit.arrived_at <= NOW for visit in waiting)
        # The morning so far was imported first, and live check-ins carried on its numbers.
        assert today.filter(branch=branch, status=VisitStatus.DONE).exists()
        numbers = defaultdict(list)
        for visit in today.filter(branch=branch).order_by("arrived_at", "id"):
            numbers[visit.service_id].append(visit.ticket_number)
        assert all(found == list(range(1, len(found) + 1)) for found in numbers.values())
        assert CounterSession.objects.filter(service_point__branch=branch, ended_at__isnull=True).count() >= 2
    assert today.filter(status=VisitStatus.SERVING).exists()
    phones = [
        str(phone) for phone in today.exclude(customer_phone="").values_list("customer_phone", flat=True)
    ]
    assert phones
    assert all(phone.startswith("+346") and len(phone) == 12 for phone in phones)
    assert today.exclude(customer_name="").exists()


def _digest() -> str:
    rows = Visit.objects.order_by("branch__slug", "arrived_at", "ticket_code").values_list(
        "branch__slug", "ticket_code", "arrived_at", "status", "called_at", "service_point__name"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def _wipe() -> None:
    VisitTransition.objects.all().delete()
    Visit.objects.all().delete()
    for model in (TicketSequence, CounterSession, ApiToken, StaffMember, Branch, Service):
        model.objects.all().delete()


def test_the_same_seed_builds_the_same_visits(db):
    _wipe()
    saturday = dt.date(2026, 3, 14)  # another day than the clock's, and one branch closed on it
    with time_machine.travel(NOW, tick=False):
        builder.build(seed=3, weeks=1, today=saturday)
        first, count = _digest(), Visit.objects.count()
        _wipe()
        builder.build(seed=3, weeks=1, today=saturday)
        assert (_digest(), Visit.objects.count()) == (first, count)
    assert not Visit.objects.filter(business_date__gt=saturday).exists()


def test_addresses_name_every_page_and_sign_in():
    text = builder.addresses("http://127.0.0.1:8000/")
    for spec in builder.BRANCHES:
        for page in ("kiosk", "display", "join", "manage"):
            assert f"http://127.0.0.1:8000/{page}/{spec.slug}/" in text
    assert "http://127.0.0.1:8000/console/" in text
    assert "http://127.0.0.1:8000/admin/" in text
    assert builder.DEMO_PASSWORD in text
    for username in ("admin", "marta", "montse", "amparo", "clara", "ines"):
        assert username in text
