"""Walk-in queue API: check-in, queue state, counters, every visit transition, history.

Endpoints parse, authorise (through selectors), call one service or selector and serialise.
"""

import datetime as dt
import uuid
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.throttling import AnonRateThrottle

from frontdesk.accounts.api import checked_in_statement_auth, staff_auth, staff_of, token_to_check
from frontdesk.branches.models import ServicePoint
from frontdesk.core import clock
from frontdesk.core.api import ErrorOut

from . import selectors, services
from .links import ticket_path
from .models import Channel, Outcome, Visit


class PublicCheckInThrottle(AnonRateThrottle):
    """Per client address, at the same ``PUBLIC_CHECK_IN_RATE`` as the kiosk pages (read per request)."""

    def __init__(self) -> None:
        super().__init__(rate="1/s")  # replaced from settings on every request

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.PUBLIC_CHECK_IN_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


router = Router(tags=["queueing"], auth=staff_auth)
public_router = Router(tags=["public"], auth=None)

READ = "queue:read"
WRITE = "queue:write"
ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


# ---------------------------------------------------------------------------------------------
# Schemas


class ServiceOut(Schema):
    id: int
    name: str
    ticket_letter: str
    expected_duration_minutes: int


class CounterRef(Schema):
    id: int
    name: str


class VisitOut(Schema):
    id: int
    ticket_code: str
    status: str
    branch: str
    service: ServiceOut
    channel: str
    priority_reason: str
    customer_name: str
    arrived_at: dt.datetime
    called_at: dt.datetime | None
    service_started_at: dt.datetime | None
    finished_at: dt.datetime | None
    counter: CounterRef | None
    target_counter: CounterRef | None
    recall_count: int
    outcome: str
    note: str
    ticket_url: str

    @staticmethod
    def of(visit: Visit) -> "VisitOut":
        """Built without validation (``model_construct``): every value comes from a saved visit, and
        validating it field by field cost more than the rest of a call-next request (BENCHMARKS.md)."""
        service = visit.service
        return VisitOut.model_construct(
            id=visit.pk,
            ticket_code=visit.ticket_code,
            status=visit.status,
            branch=visit.branch.slug,
            service=ServiceOut.model_construct(
                id=service.pk,
                name=str(service.name),
                ticket_letter=service.ticket_letter,
                expected_duration_minutes=service.expected_duration_minutes,
            ),
            channel=visit.channel,
            priority_reason=visit.priority_reason,
            customer_name=visit.customer_name,
            arrived_at=visit.arrived_at,
            called_at=visit.called_at,
            service_started_at=visit.service_started_at,
            finished_at=visit.finished_at,
            counter=_counter_ref(visit.service_point),
            target_counter=_counter_ref(visit.target_service_point),
            recall_count=visit.recall_count,
            outcome=visit.outcome,
            note=visit.note,
            ticket_url=ticket_path(visit.public_id),
        )


def _counter_ref(point: ServicePoint | None) -> CounterRef | None:
    return CounterRef.model_construct(id=point.pk, name=point.name) if point is not None else None


class TransitionOut(Schema):
    action: str
    from_status: str
    to_status: str
    at: dt.datetime
    staff_member: str | None
    counter: str | None
    service: str
    reason: str


class VisitDetailOut(VisitOut):
    transitions: list[TransitionOut]


class CheckInIn(Schema):
    service_id: int
    customer_name: str = Field("", max_length=120)
    customer_phone: str = Field("", max_length=32, description="Any format; stored in E.164.")
    priority_reason: Literal["", "appointment", "accessibility", "vip"] = ""
    language: Literal["en", "es"] = "en"
    idempotency_key: str | None = Field(
        None, max_length=64, description="The same key returns the same ticket."
    )


class PublicCheckInIn(Schema):
    service_id: int
    customer_name: str = Field("", max_length=120)
    customer_phone: str = Field("", max_length=32)
    language: Literal["en", "es"] = "en"
    idempotency_key: str | None = Field(None, max_length=64)


class CallIn(Schema):
    counter_id: int
    reason: str = Field(..., min_length=1, max_length=255, description="Why this ticket goes out of order.")


class ReasonIn(Schema):
    reason: str = Field("", max_length=255)


class FinishIn(Schema):
    outcome: Literal["resolved", "follow_up", "referred", "not_resolved"]
    note: str = Field("", max_length=4000)


class EndAndCallNextIn(Schema):
    visit_id: int
    end_as: Literal["finish", "no_show"]
    outcome: Literal["resolved", "follow_up", "referred", "not_resolved"] | None = None
    note: str = Field("", max_length=4000)


class EndAndCallNextOut(Schema):
    ended: VisitOut
    called: VisitOut | None


class TransferIn(Schema):
    service_id: int | None = None
    counter_id: int | None = None
    reason: str = Field("", max_length=255)


class QueueEntryOut(Schema):
    id: int
    ticket_code: str
    service_id: int
    priority_reason: str
    arrived_at: dt.datetime
    waited_seconds: int
    target_counter_id: int | None


class ServiceQueueOut(Schema):
    service: ServiceOut
    waiting: list[QueueEntryOut]


class BranchOut(Schema):
    id: int
    slug: str
    name: str
    time_zone: str
    max_wait_minutes: int


class CounterStateOut(Schema):
    id: int
    name: str
    open: bool
    staff_member: str
    current_ticket: str | None
    current_status: str | None


class ServiceLiveOut(Schema):
    service: ServiceOut
    waiting: int
    longest_wait_seconds: int
    over_alert: int


class BranchLiveOut(Schema):
    branch: BranchOut
    services: list[ServiceLiveOut]
    counters: list[CounterStateOut]


class PublicTicketOut(Schema):
    ticket_code: str
    status: str
    service: str
    position: int | None
    estimated_wait_minutes: int | None
    estimate_low_minutes: int | None = Field(None, description="Most customers wait at least this long.")
    estimate_high_minutes: int | None = Field(None, description="Most customers wait at most this long.")
    counter: str | None
    branch: str


class CounterSessionOut(Schema):
    counter: CounterRef
    staff_member: str
    started_at: dt.datetime


# ---------------------------------------------------------------------------------------------
# Helpers


# ---------------------------------------------------------------------------------------------
# Staff and integration endpoints


@router.get("/branches", response={200: list[BranchOut], **ERRORS})
def list_branches(request: HttpRequest) -> list[BranchOut]:
    staff = staff_of(request, scope=READ)
    return [BranchOut.model_validate(b, from_attributes=True) for b in selectors.branches_for_staff(staff)]


@router.post("/branches/{branch_slug}/check-ins", response={201: VisitOut, **ERRORS})
def check_in(request: HttpRequest, branch_slug: str, payload: CheckInIn) -> Status[VisitOut]:
    """Check a customer in (reception or another system)."""
    staff = staff_of(request, scope=WRITE)
    branch = selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff)
    service = selectors.service_get_for_branch(branch=branch, service_id=payload.service_id)
    visit = services.check_in(
        branch=branch,
        service=service,
        channel=Channel.API,
        customer_name=payload.customer_name,
        customer_phone=payload.customer_phone,
        priority_reason=payload.priority_reason,
        language=payload.language,
        idempotency_key=payload.idempotency_key,
        staff_member=staff,
    )
    return Status(201, VisitOut.of(visit))


@router.get("/branches/{branch_slug}/queue", response={200: list[ServiceQueueOut], **ERRORS})
def branch_queue(request: HttpRequest, branch_slug: str) -> list[ServiceQueueOut]:
    """Waiting tickets per service, in the order they will be called."""
    staff = staff_of(request, scope=READ)
    branch = selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff)
    now = clock.now()
    waiting = list(selectors.waiting_visits(branch=branch, now=now))
    result = []
    for service in selectors.services_for_branch(branch):
        entries = [
            QueueEntryOut(
                id=v.pk,
                ticket_code=v.ticket_code,
                service_id=v.service_id,
                priority_reason=v.priority_reason,
                arrived_at=v.arrived_at,
                waited_seconds=int((now - v.arrived_at).total_seconds()),
                target_counter_id=v.target_service_point_id,
            )
            for v in waiting
            if v.service_id == service.pk
        ]
        result.append(
            ServiceQueueOut(service=ServiceOut.model_validate(service, from_attributes=True), waiting=entries)
        )
    return result


@router.get("/branches/{branch_slug}/live", response={200: BranchLiveOut, **ERRORS})
def branch_live(request: HttpRequest, branch_slug: str) -> BranchLiveOut:
    """The manager's live view: queues, longest waits, counters and who serves which ticket."""
    staff = staff_of(request, scope=READ)
    live = selectors.branch_live(selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff))
    return BranchLiveOut(
        branch=BranchOut.model_validate(live.branch, from_attributes=True),
        services=[
            ServiceLiveOut(
                service=ServiceOut.model_validate(s.service, from_attributes=True),
                waiting=s.waiting,
                longest_wait_seconds=s.longest_wait_seconds,
                over_alert=s.over_alert,
            )
            for s in live.services
        ],
        counters=[
            CounterStateOut(
                id=c.service_point.pk,
                name=c.service_point.name,
                open=bool(c.staff_name),
                staff_member=c.staff_name,
                current_ticket=c.visit.ticket_code if c.visit else None,
                current_status=c.visit.status if c.visit else None,
            )
            for c in live.counters
        ],
    )


@router.get("/branches/{branch_slug}/visits", response={200: list[VisitOut], **ERRORS})
def visit_history(request: HttpRequest, branch_slug: str, date: dt.date | None = None) -> list[VisitOut]:
    """Every visit of one local day at a branch (today when no date is given)."""
    staff = staff_of(request, scope=READ)
    branch = selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff)
    day = date or clock.local_date(clock.now(), branch.time_zone)
    return [VisitOut.of(v) for v in selectors.visit_history(branch=branch, business_date=day)]


@router.post("/counters/{counter_id}/open", response={200: CounterSessionOut, **ERRORS})
def open_counter(request: HttpRequest, counter_id: int) -> CounterSessionOut:
    """Sign the caller in at a counter."""
    staff = staff_of(request, scope=WRITE)
    point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
    session = services.open_counter(staff_member=staff, service_point=point)
    return CounterSessionOut(
        counter=CounterRef(id=point.pk, name=point.name),
        staff_member=staff.display_name,
        started_at=session.started_at,
    )


@router.post("/counters/close", response={204: None, **ERRORS})
def close_counter(request: HttpRequest) -> Status[None]:
    """Sign the caller out of their counter."""
    services.close_counter(staff_member=staff_of(request, scope=WRITE))
    return Status(204, None)


@router.post("/counters/{counter_id}/call-next", response={200: VisitOut, **ERRORS})
def call_next(request: HttpRequest, counter_id: int) -> VisitOut:
    """Call the next ticket for this counter (409 ``queue_empty`` when nobody waits)."""
    staff = staff_of(request, scope=WRITE)
    point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
    return VisitOut.of(services.call_next(staff_member=staff, service_point=point))


@router.post(
    "/counters/{counter_id}/end-and-call-next",
    response={200: EndAndCallNextOut, **ERRORS},
    auth=checked_in_statement_auth,  # the token is checked again inside the press's statement
)
def end_and_call_next(request: HttpRequest, counter_id: int, payload: EndAndCallNextIn) -> EndAndCallNextOut:
    """End the counter's visit and call the next ticket in one step.

    ``end_as`` is ``finish`` (a served visit; ``outcome`` required) or ``no_show`` (a called customer
    who did not come). The visit is ended even when nobody waits; ``called`` is then null.
    """
    ended, called = services.end_and_call_next(
        staff_member=staff_of(request, scope=WRITE),
        service_point_id=counter_id,
        visit_id=payload.visit_id,
        action=payload.end_as,
        outcome=payload.outcome or "",
        note=payload.note,
        token=token_to_check(request, scope=WRITE),
    )
    # Built without validation, as VisitOut.of: validating would wrap and re-read both visits.
    return EndAndCallNextOut.model_construct(
        ended=VisitOut.of(ended), called=VisitOut.of(called) if called else None
    )


@router.get("/visits/{visit_id}", response={200: VisitDetailOut, **ERRORS})
def visit_detail(request: HttpRequest, visit_id: int) -> VisitDetailOut:
    """One visit with every recorded transition."""
    staff = staff_of(request, scope=READ)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitDetailOut(
        **VisitOut.of(visit).model_dump(),
        transitions=[
            TransitionOut(
                action=t.action,
                from_status=t.from_status,
                to_status=t.to_status,
                at=t.at,
                staff_member=t.staff_member.display_name if t.staff_member else None,
                counter=t.service_point.name if t.service_point else None,
                service=t.service.name,
                reason=t.reason,
            )
            for t in selectors.visit_transitions(visit)
        ],
    )


@router.post("/visits/{visit_id}/call", response={200: VisitOut, **ERRORS})
def call_visit(request: HttpRequest, visit_id: int, payload: CallIn) -> VisitOut:
    """Call this ticket out of order, with a reason that is recorded."""
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    point = selectors.service_point_get_for_staff(service_point_id=payload.counter_id, staff_member=staff)
    return VisitOut.of(
        services.call_visit(staff_member=staff, service_point=point, visit=visit, reason=payload.reason)
    )


@router.post("/visits/{visit_id}/recall", response={200: VisitOut, **ERRORS})
def recall_visit(request: HttpRequest, visit_id: int) -> VisitOut:
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitOut.of(services.recall_visit(staff_member=staff, visit=visit))


@router.post("/visits/{visit_id}/start", response={200: VisitOut, **ERRORS})
def start_service(request: HttpRequest, visit_id: int) -> VisitOut:
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitOut.of(services.start_service(staff_member=staff, visit=visit))


@router.post("/visits/{visit_id}/no-show", response={200: VisitOut, **ERRORS})
def mark_no_show(request: HttpRequest, visit_id: int) -> VisitOut:
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitOut.of(services.mark_no_show(staff_member=staff, visit=visit))


@router.post("/visits/{visit_id}/put-back", response={200: VisitOut, **ERRORS})
def put_back(request: HttpRequest, visit_id: int, payload: ReasonIn) -> VisitOut:
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitOut.of(services.put_back(staff_member=staff, visit=visit, reason=payload.reason))


@router.post("/visits/{visit_id}/transfer", response={200: VisitOut, **ERRORS})
def transfer_visit(request: HttpRequest, visit_id: int, payload: TransferIn) -> VisitOut:
    """Move to another service's queue and/or one counter, keeping the original arrival time."""
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    to_service = (
        selectors.service_get_for_branch(branch=visit.branch, service_id=payload.service_id)
        if payload.service_id is not None
        else None
    )
    to_point = (
        selectors.service_point_get_for_staff(service_point_id=payload.counter_id, staff_member=staff)
        if payload.counter_id is not None
        else None
    )
    return VisitOut.of(
        services.transfer_visit(
            staff_member=staff,
            visit=visit,
            to_service=to_service,
            to_service_point=to_point,
            reason=payload.reason,
        )
    )


@router.post("/visits/{visit_id}/finish", response={200: VisitOut, **ERRORS})
def finish_visit(request: HttpRequest, visit_id: int, payload: FinishIn) -> VisitOut:
    staff = staff_of(request, scope=WRITE)
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
    return VisitOut.of(
        services.finish_visit(
            staff_member=staff, visit=visit, outcome=Outcome(payload.outcome), note=payload.note
        )
    )


# ---------------------------------------------------------------------------------------------
# Public endpoints (no sign-in; rate limited; reveal nothing about other customers)


@public_router.post(
    "/branches/{branch_slug}/check-ins",
    response={201: PublicTicketOut, **ERRORS, 429: ErrorOut},
    throttle=[PublicCheckInThrottle()],
)
def public_check_in(
    request: HttpRequest, branch_slug: str, payload: PublicCheckInIn
) -> Status[dict[str, object]]:
    """Join the queue from a phone (the branch's public link or QR code)."""
    branch = selectors.branch_get_public(slug=branch_slug)
    service = selectors.service_get_for_branch(branch=branch, service_id=payload.service_id)
    visit = services.check_in(
        branch=branch,
        service=service,
        channel=Channel.WEB,
        customer_name=payload.customer_name,
        customer_phone=payload.customer_phone,
        language=payload.language,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, _public_ticket(visit))


@public_router.get("/tickets/{public_id}", response={200: PublicTicketOut, **ERRORS})
def public_ticket(request: HttpRequest, public_id: uuid.UUID) -> dict[str, object]:
    """A customer's own ticket: position, estimated wait, or the counter to go to."""
    return _public_ticket(selectors.visit_get_public(public_id=public_id))


@public_router.post("/tickets/{public_id}/leave", response={200: PublicTicketOut, **ERRORS})
def public_leave(request: HttpRequest, public_id: uuid.UUID) -> dict[str, object]:
    """Give up one's place in the queue."""
    visit = services.leave_queue(visit=selectors.visit_get_public(public_id=public_id))
    return _public_ticket(visit)


def _public_ticket(visit: Visit) -> dict[str, object]:
    status = selectors.ticket_status(visit)
    return {
        "ticket_code": visit.ticket_code,
        "status": visit.status,
        "service": visit.service.name,
        "position": status.position,
        "estimated_wait_minutes": status.estimated_wait_minutes,
        "estimate_low_minutes": status.estimate_low_minutes,
        "estimate_high_minutes": status.estimate_high_minutes,
        "counter": visit.service_point.name if visit.service_point else None,
        "branch": visit.branch.name,
    }
