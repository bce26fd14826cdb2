"""Reads of the walk-in queue: access-checked getters, queues in calling order, live summaries.

Branch isolation lives here: anything a member of staff asks for goes through a getter that
checks they work at the branch (head office sees every branch).
"""

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    QuerySet,
)

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, Service, ServicePoint
from frontdesk.core import clock
from frontdesk.core.errors import NotFound
from frontdesk.core.joined import JoinedRead

from . import statements
from .estimates import estimate_for
from .models import CounterSession, Visit, VisitStatus, VisitTransition
from .ordering import calling_order

# ---------------------------------------------------------------------------------------------
# Access-checked getters

# Every API call reads its branch, service, counter or visit first: compiled once (core.joined).
_BRANCH = JoinedRead(Branch, [])
_SERVICE = JoinedRead(Service, [])
_POINT_WITH_BRANCH = JoinedRead(ServicePoint, ["branch"])
_PUBLIC_VISIT = JoinedRead(Visit, ["branch", "service", "service_point"])
_VISIT_WITH_RELATIONS = JoinedRead(
    Visit, ["branch", "service", "service_point", "target_service_point", "staff_member"]
)


def _staff_params(staff_member: StaffMember) -> dict[str, object]:
    return {"staff": staff_member.pk, "any_branch": staff_member.sees_every_branch}


def branches_for_staff(staff_member: StaffMember) -> QuerySet[Branch]:
    branches = Branch.objects.filter(is_active=True)
    if staff_member.sees_every_branch:
        return branches
    return branches.filter(staff_members=staff_member)


def branch_get_for_staff(*, slug: str, staff_member: StaffMember) -> Branch:
    branch = _BRANCH.first(
        f"t0.slug = %(slug)s AND t0.is_active AND {statements.works_at_branch_sql('t0.id')}",
        {"slug": slug, **_staff_params(staff_member)},
    )
    if branch is None:
        raise NotFound("No such branch, or you do not work there.")
    return branch


def branch_get_public(*, slug: str) -> Branch:
    branch = Branch.objects.filter(slug=slug, is_active=True).first()
    if branch is None:
        raise NotFound("No such branch.")
    return branch


def branch_get_public_all() -> QuerySet[Branch]:
    return Branch.objects.filter(is_active=True)


def service_point_get_for_staff(*, service_point_id: int, staff_member: StaffMember) -> ServicePoint:
    """The counter with its branch, if it is at an active branch the staff member works at."""
    point = _POINT_WITH_BRANCH.first(
        f"t0.id = %(point)s AND t1.is_active AND {statements.works_at_branch_sql('t0.branch_id')}",
        {"point": service_point_id, **_staff_params(staff_member)},
    )
    if point is None:
        raise NotFound("No such counter, or you do not work at its branch.")
    return point


def visit_get_for_staff(*, visit_id: int, staff_member: StaffMember) -> Visit:
    """The visit with its branch, service, counters and staff member, if at a branch they work at."""
    visit = _VISIT_WITH_RELATIONS.first(
        f"t0.id = %(visit)s AND t1.is_active AND {statements.works_at_branch_sql('t0.branch_id')}",
        {"visit": visit_id, **_staff_params(staff_member)},
    )
    if visit is None:
        raise NotFound("No such ticket, or it belongs to a branch you do not work at.")
    return visit


def visit_get_public(*, public_id: uuid.UUID | str) -> Visit:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise NotFound("No such ticket.") from error
    stored = Visit._meta.get_field("public_id").get_db_prep_value(key, connection)  # hex text on SQLite
    visit = _PUBLIC_VISIT.first("t0.public_id = %(key)s", {"key": stored})
    if visit is None:
        raise NotFound("No such ticket.")
    return visit


def service_by_id(service_id: int) -> Service | None:
    """A service of the catalogue, read cheaply (what a called visit shows next)."""
    return _SERVICE.first("t0.id = %(service)s", {"service": service_id})


def service_get_for_branch(*, branch: Branch, service_id: int) -> Service:
    service = _SERVICE.first(
        f"t0.id = %(service)s AND {statements.offered_at_branch_sql('t0.id')}",
        {"service": service_id, "branch": branch.pk},
    )
    if service is None:
        raise NotFound(f"{branch.name} does not offer that service.")
    return service


def services_for_branch(branch: Branch) -> QuerySet[Service]:
    return branch.services.all()


def service_points_for_branch(branch: Branch) -> QuerySet[ServicePoint]:
    return branch.service_points.filter(is_active=True).prefetch_related("services")


def staff_at_counters(branches: list[Branch]) -> dict[int, str]:
    """Who is signed in at each open counter of these branches: counter id → display name."""
    return {
        session.service_point_id: session.staff_member.display_name
        for session in CounterSession.objects.filter(
            service_point__branch__in=branches, ended_at__isnull=True
        ).select_related("staff_member")
    }


def open_session_for_staff(staff_member: StaffMember) -> CounterSession | None:
    return (
        CounterSession.objects.select_related("service_point__branch")
        .prefetch_related("service_point__services")
        .filter(staff_member=staff_member, ended_at__isnull=True)
        .first()
    )


# ---------------------------------------------------------------------------------------------
# Queues


def waiting_visits(
    *, branch: Branch, service_ids: list[int] | None = None, now: dt.datetime | None = None
) -> QuerySet[Visit]:
    """Waiting visits of a branch in calling order (optionally for some services only)."""
    moment = now or clock.now()
    visits = Visit.objects.filter(branch=branch, status=VisitStatus.WAITING).select_related(
        "service", "target_service_point"
    )
    if service_ids is not None:
        visits = visits.filter(service_id__in=service_ids)
    return visits.order_by(*calling_order(now=moment, max_wait=dt.timedelta(minutes=branch.max_wait_minutes)))


def current_visit_at(service_point: ServicePoint) -> Visit | None:
    return (
        Visit.objects.select_related("service")
        .filter(service_point=service_point, status__in=[VisitStatus.CALLED, VisitStatus.SERVING])
        .first()
    )


def mean_service_seconds(*, branch: Branch, service: Service, since_days: int = 14) -> float:
    """Recent mean service time of a service at a branch, or its expected duration when unknown."""
    since = clock.now() - dt.timedelta(days=since_days)
    duration = ExpressionWrapper(F("finished_at") - F("service_started_at"), output_field=DurationField())
    result = (
        Visit.objects.filter(
            branch=branch,
            service=service,
            status=VisitStatus.DONE,
            finished_at__gte=since,
            service_started_at__isnull=False,
        )
        .annotate(duration=duration)
        .aggregate(mean=Avg("duration"), n=Count("id"))
    )
    mean = result["mean"]
    if result["n"] < 5 or mean is None:
        return service.expected_duration_minutes * 60.0
    return float(mean.total_seconds() if isinstance(mean, dt.timedelta) else mean / 1_000_000)


@dataclass(frozen=True)
class TicketStatus:
    """What the customer's ticket page shows.

    ``estimated_wait_minutes`` is the remaining wait rounded up (at least one minute);
    ``estimate_low_minutes``–``estimate_high_minutes`` the range announced with it (about 8 in 10 real
    waits fall in it), None when the estimate is the simple fallback, which has no range.
    """

    visit: Visit
    position: int | None  # 1 = next; None when not waiting
    estimated_wait_minutes: int | None
    counters_open: int
    estimate_low_minutes: int | None = None
    estimate_high_minutes: int | None = None
    estimate_source: str = ""  # "estimator" (the fitted model), "simple" (the fallback) or "" (none)


def ticket_status(visit: Visit) -> TicketStatus:
    """Position and the remaining wait, from the fitted waiting-time estimator (``estimates.estimate_for``).

    Until a model has been fitted for the branch (or the network), the simple estimate: people up to and
    including me × mean service time ÷ counters open.
    """
    if visit.status != VisitStatus.WAITING:
        return TicketStatus(visit=visit, position=None, estimated_wait_minutes=None, counters_open=0)
    ids = statements.waiting_ids_in_calling_order(
        branch_id=visit.branch_id,
        service_id=visit.service_id,
        now=clock.now(),
        max_wait=dt.timedelta(minutes=visit.branch.max_wait_minutes),
    )
    position = ids.index(visit.pk) + 1 if visit.pk in ids else len(ids) + 1
    counters_open = statements.open_counters_serving(branch_id=visit.branch_id, service_id=visit.service_id)
    estimate = estimate_for(visit)
    if estimate is not None:
        minutes = max(1, math.ceil(estimate.expected_seconds / 60))
        return TicketStatus(
            visit=visit,
            position=position,
            estimated_wait_minutes=minutes,
            counters_open=counters_open,
            estimate_low_minutes=min(minutes, math.floor(estimate.low_seconds / 60)),
            estimate_high_minutes=max(minutes, math.ceil(estimate.high_seconds / 60)),
            estimate_source="estimator",
        )
    mean = mean_service_seconds(branch=visit.branch, service=visit.service)
    return TicketStatus(
        visit=visit,
        position=position,
        estimated_wait_minutes=math.ceil(position * mean / max(counters_open, 1) / 60),
        counters_open=counters_open,
        estimate_source="simple",
    )


# ---------------------------------------------------------------------------------------------
# Live views


@dataclass
class ServiceQueueSummary:
    service: Service
    waiting: int = 0
    longest_wait_seconds: int = 0
    over_alert: int = 0

    @property
    def longest_wait_minutes(self) -> int:
        """Whole minutes, counted down as the long-wait list's "18 minutes" is, so the two agree."""
        return self.longest_wait_seconds // 60


@dataclass
class CounterLive:
    service_point: ServicePoint
    staff_name: str = ""
    visit: Visit | None = None


@dataclass
class BranchLive:
    branch: Branch
    services: list[ServiceQueueSummary] = field(default_factory=list)
    counters: list[CounterLive] = field(default_factory=list)
    long_waits: list[Visit] = field(default_factory=list)

    @property
    def counters_open(self) -> int:
        return sum(1 for counter in self.counters if counter.staff_name)


def branch_live(branch: Branch) -> BranchLive:
    """The manager's live view: per-service queue, counters and who serves what, long waits."""
    now = clock.now()
    alert = dt.timedelta(minutes=branch.wait_alert_minutes)
    by_service = {
        row["service_id"]: row
        for row in Visit.objects.filter(branch=branch, status=VisitStatus.WAITING)
        .values("service_id")
        .annotate(waiting=Count("id"), oldest=Min("arrived_at"))
    }
    live = BranchLive(branch=branch)
    for service in services_for_branch(branch):
        row = by_service.get(service.pk)
        summary = ServiceQueueSummary(service=service)
        if row:
            summary.waiting = row["waiting"]
            summary.longest_wait_seconds = int((now - row["oldest"]).total_seconds())
        live.services.append(summary)
    live.long_waits = list(
        Visit.objects.filter(branch=branch, status=VisitStatus.WAITING, arrived_at__lte=now - alert)
        .select_related("service")
        .order_by("arrived_at")[:50]
    )
    for visit in live.long_waits:
        for summary in live.services:
            if summary.service.pk == visit.service_id:
                summary.over_alert += 1
    sessions = {
        session.service_point_id: session
        for session in CounterSession.objects.filter(
            service_point__branch=branch, ended_at__isnull=True
        ).select_related("staff_member")
    }
    current = {
        visit.service_point_id: visit
        for visit in Visit.objects.filter(
            branch=branch, status__in=[VisitStatus.CALLED, VisitStatus.SERVING]
        ).select_related("service")
    }
    for point in service_points_for_branch(branch):
        session = sessions.get(point.pk)
        live.counters.append(
            CounterLive(
                service_point=point,
                staff_name=session.staff_member.display_name if session else "",
                visit=current.get(point.pk),
            )
        )
    return live


@dataclass(frozen=True)
class BoardCall:
    ticket_code: str
    service_point_name: str
    called_at: dt.datetime
    recall_count: int


def board_calls(branch: Branch, *, limit: int = 8) -> list[BoardCall]:
    """The tickets most recently called at a branch today, newest first: ticket numbers only, never names."""
    today = clock.local_date(clock.now(), branch.time_zone)
    visits = (
        Visit.objects.filter(
            branch=branch,
            business_date=today,
            status__in=[VisitStatus.CALLED, VisitStatus.SERVING],
        )
        .select_related("service_point")
        .order_by("-called_at")[:limit]
    )
    return [
        BoardCall(
            ticket_code=visit.ticket_code,
            service_point_name=visit.service_point.name if visit.service_point else "",
            called_at=visit.called_at or visit.arrived_at,
            recall_count=visit.recall_count,
        )
        for visit in visits
    ]


def visit_history(*, branch: Branch, business_date: dt.date) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(branch=branch, business_date=business_date)
        .select_related("branch", "service", "service_point", "target_service_point", "staff_member")
        .order_by("arrived_at", "id")
    )


def visit_transitions(visit: Visit) -> QuerySet[VisitTransition]:
    return visit.transitions.select_related("staff_member", "service_point", "service").order_by("at", "id")
