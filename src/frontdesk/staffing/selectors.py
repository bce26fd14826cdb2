"""Reads for the staffing planner: a branch's arrival history, counter holding times and usual staffing.

The planner reads queueing's facts (visits and counter sessions) in bulk, as plain values, in the
branch's own time zone. The three functions that touch queueing's tables (``arrival_history``,
``service_times``, ``usual_staffing``) are the only place it does, so they can move behind a
``queueing.selectors`` function unchanged if that boundary is tightened.
"""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, OpeningHours, Service
from frontdesk.queueing import selectors as queueing_selectors
from frontdesk.queueing.models import CounterSession, Visit, VisitStatus
from frontdesk.science.forecast import ArrivalHistory

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
#: How far back the forecast learns from (its time-of-day profile uses the last 12 weeks).
HISTORY_WEEKS = 16
#: How far back "usually open" and service times look: recent enough to reflect today's team.
USUAL_STAFFING_WEEKS = 4
SERVICE_TIME_DAYS = 28
#: Fewer finished visits than this and the service's configured expected duration is used.
MIN_SERVICE_SAMPLES = 5

# ---------------------------------------------------------------------------------------------
# Access-checked getters


def branches_for_staff(staff_member: StaffMember) -> QuerySet[Branch]:
    return queueing_selectors.branches_for_staff(staff_member)


def branch_get_for_staff(*, slug: str, staff_member: StaffMember) -> Branch:
    """The branch if the staff member works there (any role) or sees every branch; else NotFound."""
    return queueing_selectors.branch_get_for_staff(slug=slug, staff_member=staff_member)


def branch_get(*, slug: str) -> Branch:
    """Any active branch, for operators' commands (which run with the server's own rights)."""
    return queueing_selectors.branch_get_public(slug=slug)


def services_for_branch(branch: Branch) -> QuerySet[Service]:
    return queueing_selectors.services_for_branch(branch)


def active_counter_count(branch: Branch) -> int:
    return queueing_selectors.service_points_for_branch(branch).count()


@dataclass(frozen=True, slots=True)
class CounterSkills:
    """One active counter and the services it serves (``ServicePoint.services``), in display order."""

    service_point_id: int
    name: str
    service_ids: frozenset[int]


def counter_skills(branch: Branch) -> list[CounterSkills]:
    """The branch's active counters with what each serves, in display order (one query and a prefetch)."""
    return [
        CounterSkills(point.pk, point.name, frozenset(service.pk for service in point.services.all()))
        for point in queueing_selectors.service_points_for_branch(branch)
    ]


# ---------------------------------------------------------------------------------------------
# Time helpers


def local_midnight(day: dt.date, time_zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=time_zone)


def slot_of(moment: dt.time) -> int:
    return (moment.hour * 60 + moment.minute) // SLOT_MINUTES


def slot_start(slot: int) -> dt.time:
    minutes = slot * SLOT_MINUTES
    return dt.time(minutes // 60, minutes % 60)


def opening_slots(branch: Branch) -> dict[int, list[int]]:
    """Weekday → the half hours (slot indexes) in which the branch is open, from its opening hours.

    A half hour counts as open when any part of it is (a branch opening at 09:15 plans 09:00–09:30).
    """
    slots: dict[int, set[int]] = defaultdict(set)
    for hours in OpeningHours.objects.filter(branch=branch):
        opens = hours.opens_at.hour * 60 + hours.opens_at.minute
        closes = hours.closes_at.hour * 60 + hours.closes_at.minute
        first, last = opens // SLOT_MINUTES, math.ceil(closes / SLOT_MINUTES)
        slots[hours.weekday].update(range(first, min(last, SLOTS_PER_DAY)))
    return {weekday: sorted(found) for weekday, found in slots.items()}


# ---------------------------------------------------------------------------------------------
# History


def arrival_history(*, branch: Branch, until: dt.date, weeks: int = HISTORY_WEEKS) -> ArrivalHistory:
    """Check-ins per service (keyed by the service id as text), local day and half hour before ``until``.

    Every visit counts, whatever became of it: customers who left or were not there when called
    were demand too. The days covered run from the first day with a visit in the window to the day
    before ``until``, so a day without any visit (an outage, a strike) is a known zero; the
    forecast drops such days from its fit.
    """
    zone = ZoneInfo(branch.time_zone)
    start = until - dt.timedelta(weeks=weeks)
    rows = Visit.objects.filter(
        branch=branch,
        arrived_at__gte=local_midnight(start, zone),
        arrived_at__lt=local_midnight(until, zone),
    ).values_list("service_id", "arrived_at")
    history = ArrivalHistory(SLOT_MINUTES)
    first: dt.date | None = None
    for service_id, arrived_at in rows.iterator(chunk_size=2000):
        local = arrived_at.astimezone(zone)
        day = local.date()
        first = day if first is None or day < first else first
        row = history.counts.setdefault(str(service_id), {}).get(day)
        if row is None:
            row = history.counts[str(service_id)][day] = [0.0] * SLOTS_PER_DAY
        row[slot_of(local.time())] += 1.0
    if first is not None:
        history.days = {first + dt.timedelta(days=n) for n in range((until - first).days)}
    return history


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """How long one service holds a counter per called customer at one branch, and how it was found.

    The planner's "service time" is this counter holding time, from the call to the end of the visit
    (see ``service_times``), not the time from service start to finish.
    """

    mean_seconds: float
    cv: float  # coefficient of variation (standard deviation / mean); 1.0 when unknown
    samples: int  # called visits measured; 0 when the configured expected duration is used


def holding_seconds(
    called_at: dt.datetime | None, started_at: dt.datetime | None, finished_at: dt.datetime | None
) -> float | None:
    """How long one visit held its counter: from the call (or, lacking one, the service start) to the end.

    A counter is taken when it calls a customer, not when service starts: the walk to the counter
    belongs to the counter's time, and a no-show holds it from the call until the mark. Imported
    history without call times falls back to the service start. ``None`` when there is no span.
    """
    begins = [moment for moment in (called_at, started_at) if moment is not None]
    if not begins or finished_at is None:
        return None
    seconds = (finished_at - min(begins)).total_seconds()
    return seconds if seconds > 0 else None


def service_times(
    *, branch: Branch, services: Iterable[Service], until: dt.datetime
) -> dict[int, ServiceTime]:
    """Per service: the mean and spread of counter holding times of the visits ended in recent weeks.

    A visit holds its counter from the call to its end (``holding_seconds``): served visits until
    they finish, no-shows until they are marked, since the counter could call nobody else meanwhile.
    Visits that left the queue never held a counter and are not counted. The call is the last one
    (a recall moves ``called_at``), so time spent waiting before a recall is not counted, and a visit
    transferred away counts only at the counter that finished it.

    Falls back to the service's configured expected duration (and an exponential spread) when fewer
    than ``MIN_SERVICE_SAMPLES`` visits were measured.
    """
    wanted = {service.pk: service for service in services}
    durations: dict[int, list[float]] = defaultdict(list)
    rows = Visit.objects.filter(
        Q(called_at__isnull=False) | Q(service_started_at__isnull=False),
        branch=branch,
        service_id__in=list(wanted),
        status__in=[VisitStatus.DONE, VisitStatus.NO_SHOW],
        finished_at__gte=until - dt.timedelta(days=SERVICE_TIME_DAYS),
        finished_at__lt=until,
    ).values_list("service_id", "called_at", "service_started_at", "finished_at")
    for service_id, called, started, finished in rows.iterator(chunk_size=2000):
        seconds = holding_seconds(called, started, finished)
        if seconds is not None:
            durations[service_id].append(seconds)
    result = {}
    for service_id, service in wanted.items():
        values = durations.get(service_id, [])
        if len(values) < MIN_SERVICE_SAMPLES:
            result[service_id] = ServiceTime(service.expected_duration_minutes * 60.0, 1.0, 0)
            continue
        mean = math.fsum(values) / len(values)
        variance = math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1)
        result[service_id] = ServiceTime(mean, math.sqrt(variance) / mean, len(values))
    return result


def usual_staffing(
    *, branch: Branch, until: dt.date, weeks: int = USUAL_STAFFING_WEEKS
) -> dict[int, list[float]]:
    """Weekday → mean number of counters open in each half hour over the last ``weeks`` weeks.

    Frontdesk has no staff rota yet, so "scheduled" means what the branch usually opens. A counter
    counts as open in a half hour when a member of staff was signed in at it (a counter session)
    or it called or served a visit then (imported history has visits but no sessions). Each
    weekday is averaged over its days that had any visit; weekdays without history are absent.
    """
    zone = ZoneInfo(branch.time_zone)
    start, end = local_midnight(until - dt.timedelta(weeks=weeks), zone), local_midnight(until, zone)
    open_counters: dict[tuple[dt.date, int], set[int]] = defaultdict(set)

    def mark(service_point_id: int, begin: dt.datetime, finish: dt.datetime) -> None:
        begin, finish = max(begin, start).astimezone(zone), min(finish, end).astimezone(zone)
        moment = begin.replace(minute=begin.minute - begin.minute % SLOT_MINUTES, second=0, microsecond=0)
        while moment < finish:
            open_counters[(moment.date(), slot_of(moment.time()))].add(service_point_id)
            moment = (moment + dt.timedelta(minutes=SLOT_MINUTES)).astimezone(zone)

    visits = Visit.objects.filter(
        branch=branch,
        service_point__isnull=False,
        finished_at__isnull=False,
        arrived_at__gte=start,
        arrived_at__lt=end,
    ).values_list("service_point_id", "called_at", "service_started_at", "finished_at", "business_date")
    days: set[dt.date] = set()
    for service_point_id, called_at, started_at, finished_at, business_date in visits.iterator(
        chunk_size=2000
    ):
        days.add(business_date)
        begin = called_at or started_at
        if begin is not None and finished_at is not None:
            mark(service_point_id, begin, max(finished_at, begin + dt.timedelta(seconds=1)))
    sessions = CounterSession.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start),
        service_point__branch=branch,
        started_at__lt=end,
    ).values_list("service_point_id", "started_at", "ended_at")
    for service_point_id, started_at, ended_at in sessions:
        mark(service_point_id, started_at, ended_at or end)
    days.update(day for day, _slot in open_counters)
    per_weekday: dict[int, list[dt.date]] = defaultdict(list)
    for day in days:
        per_weekday[day.weekday()].append(day)
    result: dict[int, list[float]] = {}
    for weekday, weekday_days in per_weekday.items():
        result[weekday] = [
            sum(len(open_counters.get((day, slot), ())) for day in weekday_days) / len(weekday_days)
            for slot in range(SLOTS_PER_DAY)
        ]
    return result


def appointment_load(*, branch: Branch, days: Iterable[dt.date]) -> dict[int, dict[dt.date, list[float]]]:
    """Booked appointments per service id, day and half hour, to add to the walk-in forecast.

    Frontdesk has no appointment book yet (capability 5), so this is zero everywhere. When it has,
    return the expected arrivals of booked appointments here (bookings times the share who keep
    them); ``plan_week`` adds them to the forecast before staffing each half hour.
    """
    return {}
