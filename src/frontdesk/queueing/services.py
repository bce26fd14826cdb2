"""Every change to the walk-in queue: check-in, counters opening and closing, and each visit transition.

Each service is one transaction, locks what it changes, records a :class:`VisitTransition` and
publishes one domain event after commit. Callers (views, API, commands, the demo) never write
queue rows themselves.
"""

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException

from frontdesk.accounts.models import StaffMember
from frontdesk.accounts.selectors import TokenCheck, staff_for_token_check
from frontdesk.branches.models import Branch, Service, ServicePoint
from frontdesk.branches.selectors import held_row
from frontdesk.core import clock
from frontdesk.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, QueueEmpty
from frontdesk.core.realtime import publish_on_commit

from . import selectors, statements
from .events import CounterChanged, VisitChanged, branch_group
from .models import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    Channel,
    CounterSession,
    Outcome,
    PriorityReason,
    Visit,
    VisitAction,
    VisitStatus,
    VisitTransition,
)

# ---------------------------------------------------------------------------------------------
# Check-in


def normalise_phone(raw: str) -> str:
    """A phone number in E.164, or "" for none; national numbers use PHONENUMBER_DEFAULT_REGION."""
    text = raw.strip()
    if not text:
        return ""
    try:
        number = PhoneNumber.from_string(
            text, region=None if text.startswith("+") else settings.PHONENUMBER_DEFAULT_REGION
        )
    except NumberParseException:
        number = None
    if number is None or not number.is_valid():
        raise DomainError(
            "That phone number does not look right; include the country code, e.g. +34 612 345 678.",
            field="customer_phone",
        )
    return str(number.as_e164)


def format_ticket_code(service: Service, number: int) -> str:
    return f"{service.ticket_letter}-{number:03d}"


def _atomic_unless_one_statement() -> contextlib.AbstractContextManager[Any]:
    """A transaction for a step that takes several statements (SQLite), none for one that is a
    single statement, atomic by itself (PostgreSQL). Inside a caller's transaction it is a
    savepoint all the same, so a refusal by a unique index leaves that transaction usable."""
    if statements.writes_in_one_statement() and not transaction.get_connection().in_atomic_block:
        return contextlib.nullcontext()
    return transaction.atomic()


def check_in(
    *,
    branch: Branch,
    service: Service,
    channel: Channel = Channel.KIOSK,
    customer_name: str = "",
    customer_phone: str = "",
    priority_reason: PriorityReason | str = PriorityReason.NONE,
    language: str = "en",
    idempotency_key: str | None = None,
    staff_member: StaffMember | None = None,
    arrived_at: dt.datetime | None = None,
) -> Visit:
    """Give a customer a ticket for a service at a branch.

    The same ``idempotency_key`` (sent by the kiosk page with each form) always returns the same
    visit, so a double tap gives one ticket.
    """
    if not branch.is_active:
        raise DomainError(f"{branch.name} is not taking check-ins.")
    if priority_reason not in PriorityReason.values:
        raise DomainError("Unknown priority reason.", field="priority_reason")
    phone = normalise_phone(customer_phone)
    if idempotency_key:
        existing = Visit.objects.filter(branch=branch, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = arrived_at or clock.now()
    visit = Visit(
        branch=branch,
        service=service,
        business_date=clock.local_date(now, branch.time_zone),
        channel=channel,
        priority_reason=priority_reason,
        customer_name=customer_name.strip(),
        customer_phone=phone,
        language=language,
        arrived_at=now,
        queued_at=now,
        idempotency_key=idempotency_key or None,
    )
    not_offered = DomainError(f"{branch.name} does not offer {service.name}.", field="service")
    try:
        with _atomic_unless_one_statement():
            if statements.writes_in_one_statement():
                # Number, visit and transition in one statement (PostgreSQL).
                if not statements.check_in_visit(
                    visit,
                    action=str(VisitAction.CHECK_IN),
                    staff_member_id=staff_member.pk if staff_member else None,
                ):
                    raise not_offered
                _publish_visit(visit, VisitAction.CHECK_IN, at=now)
            else:
                number = statements.take_ticket_number(
                    branch_id=branch.pk, service_id=service.pk, business_date=visit.business_date
                )
                if number is None:
                    raise not_offered
                visit.ticket_number, visit.ticket_code = number, format_ticket_code(service, number)
                statements.insert_visit(visit)
                _record(visit, VisitAction.CHECK_IN, from_status="", staff_member=staff_member, at=now)
    except IntegrityError:
        # Two taps raced with the same key: the first one's ticket is the answer.
        if idempotency_key:
            existing = Visit.objects.filter(branch=branch, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return visit


# ---------------------------------------------------------------------------------------------
# Counters


def open_counter(*, staff_member: StaffMember, service_point: ServicePoint) -> CounterSession:
    """Sign a member of staff in at a counter (leaving any other counter they were at)."""
    _require_branch(staff_member, service_point.branch)
    if not service_point.is_active:
        raise DomainError(f"{service_point.name} is out of service.")
    now = clock.now()
    with transaction.atomic():
        current = (
            CounterSession.objects.select_for_update()
            .filter(service_point=service_point, ended_at__isnull=True)
            .select_related("staff_member")
            .first()
        )
        if current is not None:
            if current.staff_member_id == staff_member.pk:
                return current
            raise DomainError(
                f"{current.staff_member.display_name} is signed in at {service_point.name}.",
                field="service_point",
            )
        close_counter(staff_member=staff_member)
        try:
            with transaction.atomic():
                session = CounterSession.objects.create(
                    service_point=service_point, staff_member=staff_member, started_at=now
                )
        except IntegrityError as error:
            raise DomainError(f"Someone just signed in at {service_point.name}.") from error
        _publish_counter(service_point, "opened", now)
    return session


def close_counter(*, staff_member: StaffMember) -> None:
    """Sign a member of staff out of their counter, if they are at one."""
    now = clock.now()
    with transaction.atomic():
        for session in (
            CounterSession.objects.select_for_update()
            .filter(staff_member=staff_member, ended_at__isnull=True)
            .select_related("service_point")
        ):
            session.ended_at = now
            session.save(update_fields=["ended_at"])
            _publish_counter(session.service_point, "closed", now)


def _open_session(*, staff_member: StaffMember, service_point: ServicePoint) -> CounterSession:
    """The caller's open session at this counter, locked, so one counter calls one at a time."""
    session = (
        CounterSession.objects.select_for_update()
        .filter(service_point=service_point, staff_member=staff_member, ended_at__isnull=True)
        .first()
    )
    if session is None:
        raise DomainError(f"Sign in at {service_point.name} before calling customers.", field="service_point")
    return session


def _servable_service_ids(*, staff_member: StaffMember, service_point: ServicePoint) -> list[int]:
    counter_services = {service.pk for service in service_point.services.all()}
    staff_services = {service.pk for service in staff_member.services.all()}
    return sorted(counter_services & staff_services if staff_services else counter_services)


def _require_counter_free(service_point: ServicePoint) -> None:
    busy = statements.ticket_at_counter(service_point_id=service_point.pk)
    if busy is not None:
        raise DomainError(f"{service_point.name} is still with {busy}: finish it or put it back first.")


# ---------------------------------------------------------------------------------------------
# Transitions


def call_next(*, staff_member: StaffMember, service_point: ServicePoint) -> Visit:
    """Call the first waiting visit this counter may serve, by the calling-order rule.

    One statement (``statements``) picks and calls the first ticket with ``FOR UPDATE SKIP LOCKED``,
    checking in the same statement that the caller is signed in at the counter, works at its branch
    and that the counter is free, so that 32 counters call at once without waiting on each other and
    never take the same ticket, and records the transition in the same statement (PostgreSQL; on
    SQLite the IMMEDIATE transaction serialises writers instead, and the transition is a second
    statement). Why nothing was called (not your branch, not signed in,
    counter still busy, nobody waiting) is worked out only when nothing was.
    """
    try:
        with _atomic_unless_one_statement():
            return _call_first_waiting(staff_member, service_point)
    except IntegrityError:
        # A second call at the same counter at the same moment (a double click): the first one
        # committed, and the one-visit-per-counter index refused this one.
        _require_counter_free(service_point)
        raise


def end_and_call_next(
    *,
    staff_member: StaffMember,
    service_point_id: int,
    visit_id: int,
    action: VisitAction | str,
    outcome: Outcome | str = "",
    note: str = "",
    token: TokenCheck | None = None,
) -> tuple[Visit, Visit | None]:
    """End the counter's visit and call the next ticket with one press, as a clerk does all day.

    ``action`` is ``finish`` (a served visit, with its outcome and note) or ``no_show`` (a called
    customer who did not come). Both steps are atomic; when nobody is waiting the visit is still
    ended and the called visit is None. Any other refusal (no such counter or ticket, not your
    branch or counter, not signed in, the visit not in that state) changes nothing.

    On PostgreSQL both steps and their transitions are one statement
    (:func:`statements.end_and_call_next`); when it changes nothing, or on SQLite, the steps are
    taken one by one in a transaction, which also says why a step is refused.

    ``token``: ``staff_member`` is a remembered API token's claim, taken on trust by the one
    statement, which checks it again; elsewhere the token is read first (401 or 403 when it no
    longer holds).
    """
    changes = _ending(action, outcome=outcome, note=note)
    action = VisitAction(action)
    one_statement = statements.writes_in_one_statement()
    if token is not None and not one_statement:
        staff_member = staff_for_token_check(token)
    if one_statement:
        now = clock.now()
        done = _end_and_call_next_at_once(
            staff_member=staff_member,
            service_point_id=service_point_id,
            visit_id=visit_id,
            action=action,
            changes=changes,
            token=token,
            now=now,
        )
        if done is None and token is not None:
            staff_member = staff_for_token_check(token)  # read again, to say why or act as who it is now
            return end_and_call_next(
                staff_member=staff_member,
                service_point_id=service_point_id,
                visit_id=visit_id,
                action=action,
                outcome=outcome,
                note=note,
            )
        if done is not None:
            ended, called = done
            events = [_visit_event(ended, action, at=now)]
            if called is not None:
                called.staff_member = staff_member
                events.append(_visit_event(called, VisitAction.CALL, at=now))
            publish_on_commit([branch_group(ended.branch_id)], *events)
            return ended, called
    service_point = selectors.service_point_get_for_staff(
        service_point_id=service_point_id, staff_member=staff_member
    )
    visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff_member)
    if visit.service_point_id != service_point.pk:
        raise DomainError(f"{visit.ticket_code} is not at {service_point.name}.", field="visit")
    try:
        with transaction.atomic():
            closed = _counter_step_in_transaction(
                staff_member=staff_member, visit=visit, action=action, changes=changes
            )
            try:
                called_next: Visit | None = _call_first_waiting(staff_member, service_point)
            except QueueEmpty:
                called_next = None  # the visit is over all the same
    except IntegrityError:
        _require_counter_free(service_point)
        raise
    return closed, called_next


def _end_and_call_next_at_once(
    *,
    staff_member: StaffMember,
    service_point_id: int,
    visit_id: int,
    action: VisitAction,
    changes: Callable[[dt.datetime], dict[str, Any]],
    token: TokenCheck | None,
    now: dt.datetime,
) -> tuple[Visit, Visit | None] | None:
    """:func:`end_and_call_next` as one statement, at the counter's branch as this process holds it
    (:func:`~frontdesk.branches.selectors.held_row`); once more with the rows of the database's
    version when the catalogue changed since. None when nothing was changed."""
    (from_status,), to_status = TRANSITIONS[action]
    tried: int | None = None
    for fresh in (False, True):
        held = held_row(ServicePoint, service_point_id, fresh=fresh)
        if held is None or held[0] == tried:
            return None  # no such counter, or nothing changed that the statement relied on
        tried, counter = held
        branch = counter.branch
        if not branch.is_active:
            return None
        done = statements.end_and_call_next(
            visit_id=visit_id,
            service_point_id=service_point_id,
            staff_member_id=staff_member.pk,
            any_branch=staff_member.sees_every_branch,
            end_action=str(action),
            from_status=from_status,
            changes={"status": to_status, **changes(now)},
            call_action=str(VisitAction.CALL),
            now=now,
            branch_id=branch.pk,
            max_wait=dt.timedelta(minutes=branch.max_wait_minutes),
            reference_version=tried,
            token=token,
        )
        if done is not None:
            return done
    return None


def _call_first_waiting(staff_member: StaffMember, service_point: ServicePoint) -> Visit:
    """Call next (see :func:`call_next`): on PostgreSQL one statement with its transition; on
    SQLite inside the caller's transaction, with the transition as a second statement."""
    now = clock.now()
    branch = service_point.branch
    at_once = statements.writes_in_one_statement()
    visit = statements.call_first_waiting(
        branch_id=branch.pk,
        service_point_id=service_point.pk,
        staff_member_id=staff_member.pk,
        any_branch=staff_member.sees_every_branch,
        now=now,
        max_wait=dt.timedelta(minutes=branch.max_wait_minutes),
        record_as=str(VisitAction.CALL) if at_once else None,
    )
    if visit is None:
        _explain_nothing_called(staff_member, service_point)
    assert visit is not None
    visit.branch = branch
    visit.service_point = service_point
    visit.staff_member = staff_member
    if at_once:
        _publish_visit(visit, VisitAction.CALL, at=now)
        return visit
    service = selectors.service_by_id(visit.service_id)  # what the caller shows next
    if service is not None:
        visit.service = service
    _record(visit, VisitAction.CALL, from_status=VisitStatus.WAITING, staff_member=staff_member, at=now)
    return visit


def _explain_nothing_called(staff_member: StaffMember, service_point: ServicePoint) -> None:
    """Raise the reason ``call_next`` called nobody, in the order a clerk would fix them."""
    _require_branch(staff_member, service_point.branch)
    if not CounterSession.objects.filter(
        service_point=service_point, staff_member=staff_member, ended_at__isnull=True
    ).exists():
        raise DomainError(f"Sign in at {service_point.name} before calling customers.", field="service_point")
    _require_counter_free(service_point)
    raise QueueEmpty(f"Nobody is waiting for {service_point.name}.")


def call_visit(*, staff_member: StaffMember, service_point: ServicePoint, visit: Visit, reason: str) -> Visit:
    """Call one ticket out of order. A reason is required and recorded: no silent cherry-picking."""
    _require_branch(staff_member, service_point.branch)
    if not reason.strip():
        raise DomainError("Say why this ticket is called out of order.", field="reason")
    now = clock.now()
    with transaction.atomic():
        _open_session(staff_member=staff_member, service_point=service_point)
        _require_counter_free(service_point)
        visit = _lock(visit)
        if visit.branch_id != service_point.branch_id:
            raise DomainError("That ticket belongs to another branch.", field="visit")
        if visit.service_id not in _servable_service_ids(
            staff_member=staff_member, service_point=service_point
        ):
            raise DomainError(f"{service_point.name} does not serve {visit.service.name}.", field="visit")
        _transition(
            visit,
            VisitAction.CALL_OUT_OF_ORDER,
            staff_member=staff_member,
            service_point=service_point,
            at=now,
            reason=reason.strip(),
            changes={
                "called_at": now,
                "service_point": service_point,
                "staff_member": staff_member,
                "target_service_point": None,
            },
        )
    return visit


def recall_visit(*, staff_member: StaffMember, visit: Visit) -> Visit:
    """Call the same ticket again (the board chimes again)."""
    return _staff_step(
        staff_member=staff_member,
        visit=visit,
        action=VisitAction.RECALL,
        changes=lambda locked, now: {"called_at": now, "recall_count": locked.recall_count + 1},
    )


def start_service(*, staff_member: StaffMember, visit: Visit) -> Visit:
    return _counter_step(
        staff_member=staff_member,
        visit=visit,
        action=VisitAction.START,
        changes=lambda now: {"service_started_at": now, "staff_member": staff_member},
    )


def mark_no_show(*, staff_member: StaffMember, visit: Visit) -> Visit:
    return _counter_step(
        staff_member=staff_member,
        visit=visit,
        action=VisitAction.NO_SHOW,
        changes=_ending(VisitAction.NO_SHOW),
    )


def finish_visit(*, staff_member: StaffMember, visit: Visit, outcome: Outcome | str, note: str = "") -> Visit:
    """End the service with an outcome and an optional note."""
    return _counter_step(
        staff_member=staff_member,
        visit=visit,
        action=VisitAction.FINISH,
        changes=_ending(VisitAction.FINISH, outcome=outcome, note=note),
    )


def _ending(
    action: VisitAction | str, *, outcome: Outcome | str = "", note: str = ""
) -> Callable[[dt.datetime], dict[str, Any]]:
    """The changes that end a visit as finished (with an outcome) or not shown; refuses the rest."""
    if action == VisitAction.NO_SHOW:
        return lambda now: {"finished_at": now}
    if action != VisitAction.FINISH:
        raise DomainError("End the visit as finished or as not shown.", field="action")
    if outcome not in Outcome.values:
        raise DomainError("Choose an outcome.", field="outcome")
    return lambda now: {"finished_at": now, "outcome": outcome, "note": note.strip()}


def put_back(*, staff_member: StaffMember, visit: Visit, reason: str = "") -> Visit:
    """Return a called or served visit to its queue, at its original place."""
    return _staff_step(
        staff_member=staff_member,
        visit=visit,
        action=VisitAction.PUT_BACK,
        changes=lambda _locked, now: _back_in_queue(now),
        reason=reason,
    )


def _staff_step(
    *,
    staff_member: StaffMember,
    visit: Visit,
    action: VisitAction,
    changes: Callable[[Visit, dt.datetime], dict[str, Any]],
    reason: str = "",
) -> Visit:
    """One transition taken by staff at the visit's counter: lock, check the branch, apply, record."""
    now = clock.now()
    with transaction.atomic():
        locked = _lock(visit, staff_member)
        _transition(
            locked,
            action,
            staff_member=staff_member,
            service_point=locked.service_point,
            at=now,
            reason=reason.strip(),
            changes=changes(locked, now),
        )
    return locked


def _counter_step(
    *,
    staff_member: StaffMember,
    visit: Visit,
    action: VisitAction,
    changes: Callable[[dt.datetime], dict[str, Any]],
) -> Visit:
    """A step from one status whose change does not depend on the row (start, no-show, finish).

    One conditional ``UPDATE … RETURNING`` checks the status and the staff member's branch and makes
    the change; only when it changes nothing does the step go the locking way (``_staff_step``),
    which says why (no such ticket, not your branch, not in that status) or, if the visit came back
    to that status meanwhile, takes the step after all. On PostgreSQL the ``UPDATE`` records the
    transition too, as one statement that needs no transaction of its own.
    """
    if statements.writes_in_one_statement():
        changed = _change_at_counter(staff_member=staff_member, visit=visit, action=action, changes=changes)
        if changed is not None:
            return changed
    with transaction.atomic():
        return _counter_step_in_transaction(
            staff_member=staff_member, visit=visit, action=action, changes=changes
        )


def _counter_step_in_transaction(
    *,
    staff_member: StaffMember,
    visit: Visit,
    action: VisitAction,
    changes: Callable[[dt.datetime], dict[str, Any]],
) -> Visit:
    changed = _change_at_counter(staff_member=staff_member, visit=visit, action=action, changes=changes)
    if changed is None:
        return _staff_step(
            staff_member=staff_member, visit=visit, action=action, changes=lambda _locked, at: changes(at)
        )
    return changed


def _change_at_counter(
    *,
    staff_member: StaffMember,
    visit: Visit,
    action: VisitAction,
    changes: Callable[[dt.datetime], dict[str, Any]],
) -> Visit | None:
    """The conditional ``UPDATE`` of a counter step and its transition (in the same statement where
    the database can, else a second one); None when it changed nothing."""
    at_once = statements.writes_in_one_statement()
    (from_status,), to_status = TRANSITIONS[action]
    now = clock.now()
    changed = statements.change_visit_if(
        visit_id=visit.pk,
        status=from_status,
        changes={"status": to_status, **changes(now)},
        staff_member_id=staff_member.pk,
        any_branch=staff_member.sees_every_branch,
        record_as=(str(action), now) if at_once else None,
    )
    if changed is None:
        return None
    _carry_related(visit, changed)
    for name, value in changes(now).items():
        if isinstance(value, Model):
            setattr(changed, name, value)
    if at_once:
        _publish_visit(changed, action, at=now)
    else:
        _record(changed, action, from_status=from_status, staff_member=staff_member, at=now)
    return changed


def transfer_visit(
    *,
    staff_member: StaffMember,
    visit: Visit,
    to_service: Service | None = None,
    to_service_point: ServicePoint | None = None,
    reason: str = "",
) -> Visit:
    """Move a visit to another service's queue or to one counter, keeping its original arrival time."""
    if to_service is None and to_service_point is None:
        raise DomainError("Choose a service or a counter to transfer to.", field="to_service")
    now = clock.now()
    with transaction.atomic():
        visit = _lock(visit, staff_member)
        branch = visit.branch
        service = to_service or visit.service
        if not branch.services.filter(pk=service.pk).exists():
            raise DomainError(f"{branch.name} does not offer {service.name}.", field="to_service")
        if to_service_point is not None:
            if to_service_point.branch_id != branch.pk:
                raise DomainError("That counter belongs to another branch.", field="to_service_point")
            if not to_service_point.services.filter(pk=service.pk).exists():
                raise DomainError(
                    f"{to_service_point.name} does not serve {service.name}.", field="to_service_point"
                )
        changes: dict[str, Any] = {
            **_back_in_queue(now),
            "service": service,
            "target_service_point": to_service_point,
        }
        _transition(
            visit,
            VisitAction.TRANSFER,
            staff_member=staff_member,
            service_point=visit.service_point,
            at=now,
            reason=reason.strip(),
            changes=changes,
        )
    return visit


def leave_queue(*, visit: Visit) -> Visit:
    """The customer gives up their place (from the ticket page)."""
    now = clock.now()
    with transaction.atomic():
        visit = _lock(visit)
        _transition(
            visit,
            VisitAction.LEAVE,
            staff_member=None,
            service_point=visit.service_point,
            at=now,
            changes={"finished_at": now},
        )
    return visit


# ---------------------------------------------------------------------------------------------
# Internals


def _back_in_queue(now: dt.datetime) -> dict[str, Any]:
    return {
        "queued_at": now,
        "called_at": None,
        "service_started_at": None,
        "service_point": None,
        "staff_member": None,
    }


def _require_branch(staff_member: StaffMember, branch: Branch) -> None:
    if staff_member.sees_every_branch:
        return
    if not staff_member.branches.filter(pk=branch.pk).exists():
        raise PermissionDenied(f"You do not work at {branch.name}.")


_RELATED = ("branch", "service", "service_point", "target_service_point", "staff_member")


def _lock(visit: Visit, staff_member: StaffMember | None = None) -> Visit:
    """Re-read the visit under a row lock, so concurrent steps see each other's result.

    With a staff member, also checks in the same statement that they work at its branch. Related
    objects the caller already holds are carried over when they are still the visit's.
    """
    found = statements.lock_visit(
        visit_id=visit.pk,
        staff_member_id=staff_member.pk if staff_member else None,
        any_branch=staff_member is None or staff_member.sees_every_branch,
    )
    if found is None:
        raise NotFound("No such ticket.")
    locked, works_here = found
    _carry_related(visit, locked)
    if not works_here:
        raise PermissionDenied(f"You do not work at {locked.branch.name}.")
    return locked


def _carry_related(source: Visit, target: Visit) -> None:
    """Give ``target`` (a fresh read of the same visit) the related objects ``source`` holds, where
    they are still its own, so that showing it costs no more queries."""
    for name in _RELATED:
        field = Visit._meta.get_field(name)
        if field.is_cached(source) and getattr(source, field.attname) == getattr(target, field.attname):  # type: ignore[union-attr]
            field.set_cached_value(target, field.get_cached_value(source))  # type: ignore[union-attr]


# For the sentence that refuses a step ("A-001 did not come: it cannot be finished now"); the
# display labels ("Did not come", "Marked no-show") read badly inside it.
_STATUS_IN_A_SENTENCE = {
    VisitStatus.WAITING: "is waiting",
    VisitStatus.CALLED: "has been called",
    VisitStatus.SERVING: "is being served",
    VisitStatus.DONE: "has been served",
    VisitStatus.NO_SHOW: "did not come",
    VisitStatus.LEFT: "has left the queue",
}
_ACTION_DONE_TO_IT = {
    VisitAction.CHECK_IN: "checked in",
    VisitAction.CALL: "called",
    VisitAction.CALL_OUT_OF_ORDER: "called out of order",
    VisitAction.RECALL: "called again",
    VisitAction.START: "served",
    VisitAction.NO_SHOW: "marked as a no-show",
    VisitAction.TRANSFER: "transferred",
    VisitAction.PUT_BACK: "put back in the queue",
    VisitAction.FINISH: "finished",
    VisitAction.LEAVE: "taken out of the queue",
}


def _transition(
    visit: Visit,
    action: VisitAction,
    *,
    staff_member: StaffMember | None,
    service_point: ServicePoint | None,
    at: dt.datetime,
    changes: dict[str, Any],
    reason: str = "",
) -> None:
    """Check the step against the lifecycle, write it to the (locked) visit and record it."""
    allowed_from, to_status = TRANSITIONS[action]
    if visit.status not in allowed_from:
        raise InvalidTransition(
            f"{visit.ticket_code} {_STATUS_IN_A_SENTENCE[VisitStatus(visit.status)]}: "
            f"it cannot be {_ACTION_DONE_TO_IT[VisitAction(action)]} now."
        )
    from_status = visit.status
    for field, value in changes.items():
        setattr(visit, field, value)
    visit.status = to_status
    statements.update_visit(visit_id=visit.pk, changes={"status": to_status, **changes})
    _record(
        visit,
        action,
        from_status=from_status,
        staff_member=staff_member,
        at=at,
        service_point=service_point,
        reason=reason,
    )


def _record(
    visit: Visit,
    action: VisitAction,
    *,
    from_status: str,
    staff_member: StaffMember | None,
    at: dt.datetime,
    service_point: ServicePoint | None = None,
    reason: str = "",
) -> None:
    """Append the transition and publish the visit's event after commit.

    ``service_point`` is where the step happened, recorded on the transition (the visit's own
    counter when not given).
    """
    point = visit.service_point
    where = service_point if service_point is not None else point
    statements.record_transition(
        visit_id=visit.pk,
        action=str(action),
        from_status=str(from_status),
        to_status=str(visit.status),
        at=at,
        staff_member_id=staff_member.pk if staff_member else None,
        service_point_id=where.pk if where else None,
        service_id=visit.service_id,
        reason=reason,
    )
    _publish_visit(visit, action, at=at)


def _publish_visit(visit: Visit, action: VisitAction, *, at: dt.datetime) -> None:
    """Publish the visit's event after commit (to its branch's boards, consoles and pages)."""
    publish_on_commit([branch_group(visit.branch_id)], _visit_event(visit, action, at=at))


def _visit_event(visit: Visit, action: VisitAction, *, at: dt.datetime) -> dict[str, Any]:
    point = visit.service_point
    return VisitChanged(
        action=str(action),
        visit_id=visit.pk,
        branch_id=visit.branch_id,
        service_id=visit.service_id,
        ticket_code=visit.ticket_code,
        status=visit.status,
        service_point_id=point.pk if point else None,
        service_point_name=point.name if point else "",
        occurred_at=at,
    ).as_payload()


def _publish_counter(service_point: ServicePoint, action: str, at: dt.datetime) -> None:
    event = CounterChanged(
        action=action,
        branch_id=service_point.branch_id,
        service_point_id=service_point.pk,
        service_point_name=service_point.name,
        occurred_at=at,
    )
    publish_on_commit([branch_group(service_point.branch_id)], event.as_payload())


# ---------------------------------------------------------------------------------------------
# History import


@dataclass(frozen=True, kw_only=True)
class PastVisit:
    """A visit that already happened, as another system (or the demo) recorded it."""

    branch: Branch
    service: Service
    arrived_at: dt.datetime
    status: VisitStatus  # done, no_show or left
    called_at: dt.datetime | None = None
    service_started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    service_point: ServicePoint | None = None
    staff_member: StaffMember | None = None
    outcome: str = ""
    channel: Channel = Channel.KIOSK
    priority_reason: str = ""
    customer_name: str = ""


def import_past_visits(records: list[PastVisit]) -> int:
    """Record finished visits in bulk, with numbered tickets and their transitions; no events.

    Numbers continue each branch/service/day sequence in arrival order, so a later live check-in
    on an imported day carries on without a gap.
    """
    if any(record.status in ACTIVE_STATUSES for record in records):
        raise DomainError("Only finished visits (served, no-show or left) can be imported.")
    ordered = sorted(records, key=lambda record: record.arrived_at)
    with transaction.atomic():
        visits: list[Visit] = []
        for record in ordered:
            business_date = clock.local_date(record.arrived_at, record.branch.time_zone)
            number = statements.take_ticket_number(
                branch_id=record.branch.pk, service_id=record.service.pk, business_date=business_date
            )
            if number is None:
                raise DomainError(f"{record.branch.name} does not offer {record.service.name}.")
            visits.append(
                Visit(
                    branch=record.branch,
                    service=record.service,
                    business_date=business_date,
                    ticket_number=number,
                    ticket_code=format_ticket_code(record.service, number),
                    status=record.status,
                    channel=record.channel,
                    priority_reason=record.priority_reason,
                    customer_name=record.customer_name,
                    arrived_at=record.arrived_at,
                    queued_at=record.arrived_at,
                    called_at=record.called_at,
                    service_started_at=record.service_started_at,
                    finished_at=record.finished_at,
                    service_point=record.service_point,
                    staff_member=record.staff_member,
                    outcome=record.outcome,
                )
            )
        created = Visit.objects.bulk_create(visits, batch_size=500)
        transitions: list[VisitTransition] = []
        for visit, record in zip(created, ordered, strict=True):
            transitions.extend(_past_transitions(visit, record))
        VisitTransition.objects.bulk_create(transitions, batch_size=1000)
    return len(created)


def _past_transitions(visit: Visit, record: PastVisit) -> list[VisitTransition]:
    def step(action: VisitAction, from_status: str, to_status: str, at: dt.datetime) -> VisitTransition:
        return VisitTransition(
            visit=visit,
            action=action,
            from_status=from_status,
            to_status=to_status,
            at=at,
            staff_member=record.staff_member if action != VisitAction.CHECK_IN else None,
            service_point=record.service_point if action != VisitAction.CHECK_IN else None,
            service=record.service,
        )

    steps = [step(VisitAction.CHECK_IN, "", VisitStatus.WAITING, record.arrived_at)]
    if record.called_at:
        steps.append(step(VisitAction.CALL, VisitStatus.WAITING, VisitStatus.CALLED, record.called_at))
    if record.status == VisitStatus.DONE and record.service_started_at and record.finished_at:
        steps.append(
            step(VisitAction.START, VisitStatus.CALLED, VisitStatus.SERVING, record.service_started_at)
        )
        steps.append(step(VisitAction.FINISH, VisitStatus.SERVING, VisitStatus.DONE, record.finished_at))
    elif record.status == VisitStatus.NO_SHOW and record.finished_at:
        steps.append(step(VisitAction.NO_SHOW, VisitStatus.CALLED, VisitStatus.NO_SHOW, record.finished_at))
    elif record.status == VisitStatus.LEFT and record.finished_at:
        steps.append(step(VisitAction.LEAVE, VisitStatus.WAITING, VisitStatus.LEFT, record.finished_at))
    return steps
