"""The live snapshot: a waiting visit's queue now, from the current rows, as the tracker would see it."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Max, Q

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, ServicePoint
from frontdesk.core import clock
from frontdesk.science.estimator import (
    FORGET_AFTER,
    RECENT_WAITS,
    RECENT_WINDOW,
    QueueSnapshot,
    hour_and_weekday,
)

from ..models import CounterSession, Visit, VisitStatus, VisitTransition
from ..ordering import calling_order
from .event_log import (
    CALL_ACTIONS,
    COUNTER_ACTIVITY_ACTIONS,
    ENTRY_ACTIONS,
    pool_of,
    queue_name,
    wall_clock_seconds,
)

RECENT_COUNTER_WINDOW = dt.timedelta(seconds=RECENT_WINDOW)


def _servable(service_ids: set[int], staff_service_ids: set[int]) -> set[int]:
    """What a counter's member of staff may be called for (the rule of ``services.call_next``)."""
    return service_ids & staff_service_ids if staff_service_ids else service_ids


def live_snapshot(visit: Visit, now: dt.datetime | None = None) -> QueueSnapshot:
    """The snapshot of a waiting visit's queue now, from the current rows, as the tracker would build it.

    ``ahead_*``: the visits before it in the calling order (``waiting_visits``), by class and queue;
    ``counters_open``/``counters_for_queue``: open counter sessions whose counter and member of staff
    serve the pool/the visit's service; ``counters_busy``/``elapsed_service``: visits called or being
    served, timed from their call; ``counters_recent``: counters that called or let go of a customer of
    the pool in the last five minutes; ``recent_waits``: the last waits of the service ended today (a
    call minus the entry into the queue); head-of-line waits count from ``queued_at``. Like the tracker,
    visits waiting or at a counter for more than a day are ignored. No appointments are due yet.
    """
    now = now or clock.now()
    branch = visit.branch
    queue = queue_name(visit.service_id)
    pool = pool_of(queue)
    service_ids = set(branch.services.values_list("pk", flat=True)) | {visit.service_id}
    pool_services = {service for service in service_ids if pool_of(queue_name(service)) == pool}
    line = _line(visit, pool_services, now)
    counters_open, counters_for_queue = _open_counters(visit, pool_services)
    elapsed = _elapsed_services(branch, pool_services, now)
    recent_waits = _recent_waits(visit, now)
    hour, weekday = hour_and_weekday(wall_clock_seconds(now, ZoneInfo(branch.time_zone)))
    return QueueSnapshot(
        queue=queue,
        pool=pool,
        priority=1 if visit.priority_reason else 0,
        hour=hour,
        weekday=weekday,
        ahead_regular_same=line.ahead[True, False],
        ahead_priority_same=line.ahead[True, True],
        ahead_regular_other=line.ahead[False, False],
        ahead_priority_other=line.ahead[False, True],
        waiting_total=line.waiting_total,
        appointments_due=0,
        counters_open=counters_open,
        counters_recent=_recently_active_counters(branch, pool_services, now),
        counters_for_queue=counters_for_queue,
        counters_busy=len(elapsed),  # one visit per counter
        elapsed_service=elapsed,
        recent_waits=recent_waits,
        last_entered_wait=recent_waits[-1] if recent_waits else None,
        head_of_line_wait=line.head_same,
        pool_head_of_line_wait=line.head_pool,
    )


@dataclass
class _Line:
    """Who waits in the pool: how many ahead of the ticket by (same queue, priority), longest waits."""

    ahead: dict[tuple[bool, bool], int] = field(
        default_factory=lambda: {(True, False): 0, (True, True): 0, (False, False): 0, (False, True): 0}
    )
    waiting_total: int = 0
    head_same: float = 0.0
    head_pool: float = 0.0


def _line(visit: Visit, pool_services: set[int], now: dt.datetime) -> _Line:
    branch = visit.branch
    waiting = (
        Visit.objects.filter(branch=branch, status=VisitStatus.WAITING, service_id__in=pool_services)
        .order_by(*calling_order(now=now, max_wait=dt.timedelta(minutes=branch.max_wait_minutes)))
        .values_list("pk", "service_id", "priority_reason", "queued_at")
    )
    line = _Line()
    before_me = True
    for pk, service_id, priority_reason, queued_at in waiting:
        if pk == visit.pk:
            before_me = False
        waited = (now - queued_at).total_seconds()
        if waited > FORGET_AFTER:
            continue
        line.waiting_total += 1
        same = service_id == visit.service_id
        line.head_pool = max(line.head_pool, waited)
        if same:
            line.head_same = max(line.head_same, waited)
        if before_me and pk != visit.pk:
            line.ahead[same, bool(priority_reason)] += 1
    return line


def _open_counters(visit: Visit, pool_services: set[int]) -> tuple[int, int]:
    """Open counters whose member of staff may serve the pool, and this visit's service."""
    sessions = list(
        CounterSession.objects.filter(
            ended_at__isnull=True, service_point__branch_id=visit.branch_id
        ).values_list("service_point_id", "staff_member_id")
    )
    point_services: dict[int, set[int]] = defaultdict(set)
    for point, service in ServicePoint.services.through.objects.filter(
        servicepoint_id__in=[point for point, _ in sessions]
    ).values_list("servicepoint_id", "service_id"):
        point_services[point].add(service)
    staff_services: dict[int, set[int]] = defaultdict(set)
    for staff, service in StaffMember.services.through.objects.filter(
        staffmember_id__in=[staff for _, staff in sessions]
    ).values_list("staffmember_id", "service_id"):
        staff_services[staff].add(service)
    for_pool = for_queue = 0
    for point, staff in sessions:
        servable = _servable(point_services[point], staff_services[staff])
        for_pool += bool(servable & pool_services)
        for_queue += visit.service_id in servable
    return for_pool, for_queue


def _elapsed_services(branch: Branch, pool_services: set[int], now: dt.datetime) -> tuple[float, ...]:
    """How long each visit at a counter has been there since its call, longest first."""
    at_counters = (
        Visit.objects.filter(
            branch=branch, status__in=[VisitStatus.CALLED, VisitStatus.SERVING], service_id__in=pool_services
        )
        .annotate(last_call=Max("transitions__at", filter=Q(transitions__action__in=CALL_ACTIONS)))
        .values_list("last_call", "called_at")
    )
    started = sorted(
        start for last_call, called_at in at_counters if (start := last_call or called_at) is not None
    )
    return tuple(elapsed for start in started if (elapsed := (now - start).total_seconds()) <= FORGET_AFTER)


def _recently_active_counters(branch: Branch, pool_services: set[int], now: dt.datetime) -> int:
    """Counters that called or let go of a customer of the pool in the last five minutes."""
    today = clock.local_date(now, branch.time_zone)
    return (
        VisitTransition.objects.filter(
            visit__branch=branch,
            visit__business_date__in=[today - dt.timedelta(days=1), today],  # the (branch, day) index
            service_id__in=pool_services,
            action__in=COUNTER_ACTIVITY_ACTIONS,
            service_point__isnull=False,
            at__gte=now - RECENT_COUNTER_WINDOW,
            at__lte=now,
        )
        .values("service_point_id")
        .distinct()
        .count()
    )


def _recent_waits(visit: Visit, now: dt.datetime) -> tuple[float, ...]:
    """The last waits of the visit's service ended today (call minus entry into the queue), oldest first.

    Read from today's entries and calls, found through today's visits (the (branch, day) index), so the
    cost does not grow with the history.
    """
    steps = (
        VisitTransition.objects.filter(
            visit__in=Visit.objects.filter(
                branch_id=visit.branch_id, business_date=clock.local_date(now, visit.branch.time_zone)
            ),
            action__in=(*ENTRY_ACTIONS, *CALL_ACTIONS),
            at__lte=now,
        )
        .order_by("visit_id", "at", "id")
        .values_list("visit_id", "action", "at", "service_id")
    )
    waits: list[tuple[dt.datetime, float]] = []
    entered: dict[int, dt.datetime] = {}
    for visit_id, action, at, service_id in steps:
        if action in ENTRY_ACTIONS:
            entered[visit_id] = at
        elif service_id == visit.service_id and visit_id in entered:
            waits.append((at, (at - entered.pop(visit_id)).total_seconds()))
    return tuple(wait for _at, wait in sorted(waits)[-RECENT_WAITS:])
