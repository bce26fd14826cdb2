"""Pages of the walk-in queue: kiosk, phone check-in, ticket page, staff console, manager live view.

Views parse the request, call a selector or service, and render; a refused step comes back as a
clear message on the same page.
"""

import io
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch
from frontdesk.core import clock
from frontdesk.core.errors import DomainError, NotFound

from . import selectors, services
from .forms import CallOutOfOrderForm, CheckInForm, FinishForm, ReasonForm, ReceptionCheckInForm, TransferForm
from .links import ticket_path
from .models import Channel, Outcome, PriorityReason, Visit, VisitAction, VisitStatus


def _staff(request: HttpRequest) -> StaffMember:
    user = request.user
    assert isinstance(user, StaffMember)
    return user


def render_at_branch(
    request: HttpRequest, template: str, context: dict[str, Any], *, branch: Branch, status: int = 200
) -> HttpResponse:
    """Render with times shown in the branch's own time zone (a branch's day is its local day)."""
    with timezone.override(ZoneInfo(branch.time_zone)):
        return render(request, template, {**context, "branch": branch}, status=status)


def _public_check_in_rate(group: str, request: HttpRequest) -> str:
    return str(settings.PUBLIC_CHECK_IN_RATE)


# ---------------------------------------------------------------------------------------------
# Public: kiosk, phone check-in, ticket page


def _check_in_page(
    request: HttpRequest, branch_slug: str, *, channel: Channel, template: str
) -> HttpResponse:
    try:
        branch = selectors.branch_get_public(slug=branch_slug)
    except NotFound as error:
        raise Http404(error.message) from error
    form = CheckInForm(request.POST or None, branch=branch, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many tickets from this device in a short time. Please ask at reception."))
        return render_at_branch(request, template, {"form": form}, branch=branch, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.check_in(
                branch=branch,
                service=form.cleaned_data["service"],
                channel=channel,
                customer_name=form.cleaned_data["customer_name"],
                customer_phone=form.cleaned_data["customer_phone"],
                language=get_language() or "en",
                idempotency_key=f"{channel}:{form.cleaned_data['idempotency_key']}",
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if channel == Channel.KIOSK:
                return redirect("queueing:kiosk_ticket", branch_slug=branch.slug, public_id=visit.public_id)
            return redirect("queueing:ticket", public_id=visit.public_id)
    return render_at_branch(
        request, template, {"form": form}, branch=branch, status=400 if form.errors else 200
    )


@ratelimit(key="ip", rate=_public_check_in_rate, method="POST", block=False)
def kiosk(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """The touch kiosk at the branch door: pick a service, get a ticket."""
    return _check_in_page(request, branch_slug, channel=Channel.KIOSK, template="queueing/kiosk.html")


@ratelimit(key="ip", rate=_public_check_in_rate, method="POST", block=False)
def join(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """Check-in from the customer's own phone, through the branch's public link or QR code."""
    return _check_in_page(request, branch_slug, channel=Channel.WEB, template="queueing/join.html")


def _public_visit(public_id: str) -> Visit:
    try:
        return selectors.visit_get_public(public_id=public_id)
    except NotFound as error:
        raise Http404(error.message) from error


def kiosk_ticket(request: HttpRequest, branch_slug: str, public_id: str) -> HttpResponse:
    """The ticket shown large on the kiosk, with a QR code that opens the live ticket page."""
    visit = _public_visit(public_id)
    if visit.branch.slug != branch_slug:
        raise Http404
    status = selectors.ticket_status(visit)
    return render_at_branch(
        request, "queueing/kiosk_ticket.html", {"visit": visit, "status": status}, branch=visit.branch
    )


def ticket(request: HttpRequest, public_id: str) -> HttpResponse:
    """The customer's live ticket page: position, estimated wait, or where to go."""
    visit = _public_visit(public_id)
    context = {"visit": visit, "status": selectors.ticket_status(visit)}
    template = "queueing/ticket.html#status" if request.htmx else "queueing/ticket.html"  # type: ignore[attr-defined]
    return render_at_branch(request, template, context, branch=visit.branch)


@require_POST
def ticket_leave(request: HttpRequest, public_id: str) -> HttpResponse:
    visit = _public_visit(public_id)
    try:
        services.leave_queue(visit=visit)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("queueing:ticket", public_id=visit.public_id)


def ticket_qr(request: HttpRequest, public_id: str) -> HttpResponse:
    visit = _public_visit(public_id)
    return _qr_response(request.build_absolute_uri(ticket_path(visit.public_id)))


def join_qr(request: HttpRequest, branch_slug: str) -> HttpResponse:
    try:
        branch = selectors.branch_get_public(slug=branch_slug)
    except NotFound as error:
        raise Http404(error.message) from error
    return _qr_response(
        request.build_absolute_uri(reverse("queueing:join", kwargs={"branch_slug": branch.slug}))
    )


def _qr_response(url: str) -> HttpResponse:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, dark="#111", light="#fff", border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------------------------------------
# Staff console


@login_required
def console_home(request: HttpRequest) -> HttpResponse:
    """Pick a counter to sign in at (or go back to the one you are at)."""
    staff = _staff(request)
    session = selectors.open_session_for_staff(staff)
    if session is not None and request.GET.get("switch") is None:
        return redirect("queueing:console", counter_id=session.service_point_id)
    branch_list = list(selectors.branches_for_staff(staff))
    taken = selectors.staff_at_counters(branch_list)
    branches = [
        (branch, [(point, taken.get(point.pk, "")) for point in selectors.service_points_for_branch(branch)])
        for branch in branch_list
    ]
    return render(request, "queueing/console_home.html", {"branches": branches, "session": session})


@login_required
@require_POST
def console_open(request: HttpRequest, counter_id: int) -> HttpResponse:
    staff = _staff(request)
    try:
        point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
        services.open_counter(staff_member=staff, service_point=point)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(reverse("queueing:console_home") + "?switch=1")
    return redirect("queueing:console", counter_id=point.pk)


@login_required
@require_POST
def console_close(request: HttpRequest) -> HttpResponse:
    services.close_counter(staff_member=_staff(request))
    messages.success(request, "You are signed out of your counter.")
    return redirect(reverse("queueing:console_home") + "?switch=1")


def _console_context(request: HttpRequest, counter_id: int) -> dict[str, Any]:
    staff = _staff(request)
    try:
        point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
    except NotFound as error:
        raise Http404(error.message) from error
    session = selectors.open_session_for_staff(staff)
    signed_in = session is not None and session.service_point_id == point.pk
    service_ids = [s.pk for s in point.services.all()]
    now = clock.now()
    waiting = list(selectors.waiting_visits(branch=point.branch, service_ids=service_ids, now=now))
    current = selectors.current_visit_at(point)
    return {
        "point": point,
        "branch": point.branch,
        "signed_in": signed_in,
        "current": current,
        "waiting": [(visit, int((now - visit.arrived_at).total_seconds() // 60)) for visit in waiting],
        "finish_form": FinishForm(),
        "transfer_form": TransferForm(branch=point.branch),
        "reception_form": ReceptionCheckInForm(
            branch=point.branch, initial={"idempotency_key": uuid.uuid4().hex}
        ),
        "out_of_order_form": CallOutOfOrderForm(),
        "reason_form": ReasonForm(),
        "outcomes": Outcome.choices,
        "priority_reasons": PriorityReason,
    }


@login_required
def console(request: HttpRequest, counter_id: int) -> HttpResponse:
    """The counter console: who I am serving, the queue I serve, and every step I can take."""
    context = _console_context(request, counter_id)
    template = "queueing/console.html#queue" if request.htmx else "queueing/console.html"  # type: ignore[attr-defined]
    return render_at_branch(request, template, context, branch=context["branch"])


def _back_to_console(counter_id: int) -> HttpResponseRedirect:
    return redirect("queueing:console", counter_id=counter_id)


@login_required
@require_POST
def console_call_next(request: HttpRequest, counter_id: int) -> HttpResponse:
    staff = _staff(request)
    try:
        point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
        visit = services.call_next(staff_member=staff, service_point=point)
        messages.success(request, f"Called {visit.ticket_code}.")
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_console(counter_id)


@login_required
@require_POST
def console_visit_action(request: HttpRequest, counter_id: int, visit_id: int, action: str) -> HttpResponse:
    """One transition of one visit from the console; refused steps come back as a message."""
    staff = _staff(request)
    try:
        visit = selectors.visit_get_for_staff(visit_id=visit_id, staff_member=staff)
        point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
        done = _apply_action(request, staff=staff, point=point, visit=visit, action=action)
        if done:
            messages.success(request, done)
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_console(counter_id)


def _apply_action(
    request: HttpRequest, *, staff: StaffMember, point: Any, visit: Visit, action: str
) -> str | None:
    if action == "call":
        form = CallOutOfOrderForm(request.POST)
        if not form.is_valid():
            raise DomainError("Say why this ticket is called out of order.", field="reason")
        services.call_visit(
            staff_member=staff, service_point=point, visit=visit, reason=form.cleaned_data["reason"]
        )
        return f"Called {visit.ticket_code} out of order."
    if action == "recall":
        services.recall_visit(staff_member=staff, visit=visit)
        return f"Called {visit.ticket_code} again."
    if action == "start":
        services.start_service(staff_member=staff, visit=visit)
        return None
    if action == "no-show":
        services.mark_no_show(staff_member=staff, visit=visit)
        return f"{visit.ticket_code} marked as not shown."
    if action == "put-back":
        reason_form = ReasonForm(request.POST)
        reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
        services.put_back(staff_member=staff, visit=visit, reason=reason)
        return f"{visit.ticket_code} is back in the queue at its original place."
    if action == "finish":
        finish_form = FinishForm(request.POST)
        if not finish_form.is_valid():
            raise DomainError("Choose an outcome.", field="outcome")
        services.finish_visit(
            staff_member=staff,
            visit=visit,
            outcome=finish_form.cleaned_data["outcome"],
            note=finish_form.cleaned_data["note"],
        )
        return f"{visit.ticket_code} finished."
    if action in ("finish-and-call-next", "no-show-and-call-next"):
        return _end_and_call_next(request, staff=staff, point=point, visit=visit, action=action)
    if action == "transfer":
        transfer_form = TransferForm(request.POST, branch=visit.branch)
        if not transfer_form.is_valid():
            raise DomainError(
                " ".join(str(e) for e in transfer_form.non_field_errors()) or "Check the transfer."
            )
        services.transfer_visit(
            staff_member=staff,
            visit=visit,
            to_service=transfer_form.cleaned_data["to_service"],
            to_service_point=transfer_form.cleaned_data["to_service_point"],
            reason=transfer_form.cleaned_data["reason"],
        )
        return f"{visit.ticket_code} transferred; it keeps its original arrival time."
    raise Http404


def _end_and_call_next(
    request: HttpRequest, *, staff: StaffMember, point: Any, visit: Visit, action: str
) -> str:
    """One press that ends the visit at the counter and calls the next ticket."""
    outcome, note = "", ""
    if action == "finish-and-call-next":
        finish_form = FinishForm(request.POST)
        if not finish_form.is_valid():
            raise DomainError("Choose an outcome.", field="outcome")
        outcome, note = finish_form.cleaned_data["outcome"], finish_form.cleaned_data["note"]
    ended, called = services.end_and_call_next(
        staff_member=staff,
        service_point_id=point.pk,
        visit_id=visit.pk,
        action=VisitAction.FINISH if action == "finish-and-call-next" else VisitAction.NO_SHOW,
        outcome=outcome,
        note=note,
    )
    done = "finished" if ended.status == VisitStatus.DONE else "marked as not shown"
    then = f"Called {called.ticket_code}." if called else f"Nobody is waiting for {point.name}."
    return f"{ended.ticket_code} {done}. {then}"


@login_required
@require_POST
def console_check_in(request: HttpRequest, counter_id: int) -> HttpResponse:
    """Reception: check someone in from the console."""
    staff = _staff(request)
    try:
        point = selectors.service_point_get_for_staff(service_point_id=counter_id, staff_member=staff)
    except NotFound as error:
        raise Http404(error.message) from error
    form = ReceptionCheckInForm(request.POST, branch=point.branch)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label if name in form.fields else ''} {' '.join(map(str, errors))}".strip()
            for name, errors in form.errors.items()
        ]
        messages.error(request, "Check the check-in form: " + "; ".join(problems))
        return _back_to_console(counter_id)
    try:
        visit = services.check_in(
            branch=point.branch,
            service=form.cleaned_data["service"],
            channel=Channel.RECEPTION,
            customer_name=form.cleaned_data["customer_name"],
            customer_phone=form.cleaned_data["customer_phone"],
            priority_reason=form.cleaned_data.get("priority_reason") or "",
            idempotency_key=f"reception:{form.cleaned_data['idempotency_key']}",
            staff_member=staff,
        )
        messages.success(request, f"Checked in: ticket {visit.ticket_code}.")
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_console(counter_id)


# ---------------------------------------------------------------------------------------------
# Manager live view


@login_required
def manager_home(request: HttpRequest) -> HttpResponse:
    branches = list(selectors.branches_for_staff(_staff(request)))
    if len(branches) == 1:
        return redirect("queueing:manager_live", branch_slug=branches[0].slug)
    return render(request, "queueing/manager_home.html", {"branches": branches})


@login_required
def manager_live(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """Queues, longest waits, counters and who serves whom, live; long waits highlighted."""
    staff = _staff(request)
    try:
        branch = selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff)
    except NotFound as error:
        raise Http404(error.message) from error
    context = {"live": selectors.branch_live(branch), "now": clock.now()}
    template = "queueing/manager_live.html#live" if request.htmx else "queueing/manager_live.html"  # type: ignore[attr-defined]
    return render_at_branch(request, template, context, branch=branch)


def home(request: HttpRequest) -> HttpResponse:
    """The front door of an installation: every branch's kiosk, board, phone link, console and live view."""
    branches = selectors.branch_get_public_all()
    return render(request, "queueing/home.html", {"branches": branches})
