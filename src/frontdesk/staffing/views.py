"""The manager's staffing plan page and its CSV export.

The page shows one week of a branch: a heat map of recommended versus usually-open counters per
half hour, the expected share served in time per hour, the forecast's measured accuracy, and a
what-if form (target, target time, counter time per customer). Everything is computed by
``services.plan_week``; this module parses the inputs and arranges the plan into rows and columns
for the template.
"""

import csv
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch
from frontdesk.core.errors import NotFound

from . import selectors, services
from .services import HourLevel, PlanInputError, SlotPlan, WeekPlan


class PlanForm(forms.Form):
    """The what-if inputs, all optional: an empty form plans next week for 80% within 10 minutes."""

    week = forms.DateField(
        label=gettext_lazy("Week of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Any day of the week to plan."),
    )
    target = forms.FloatField(
        label=gettext_lazy("Share served in time"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "0.99"}),
        help_text=gettext_lazy("0.80 means 80% of customers."),
    )
    target_minutes = forms.FloatField(
        label=gettext_lazy("…within (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "min": "1"}),
    )
    service_minutes = forms.FloatField(
        label=gettext_lazy("Counter time per customer (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "min": "1"}),
        help_text=gettext_lazy(
            "From the call to the end of the visit. Leave empty to use each service's measured time."
        ),
    )

    def inputs(self) -> dict[str, Any]:
        """Keyword arguments for ``plan_week`` (call after ``is_valid``)."""
        data = self.cleaned_data
        target_minutes = data.get("target_minutes")
        return {
            "week_start": data.get("week"),
            "target_service_level": 0.8 if data.get("target") is None else data["target"],
            "target_seconds": 600.0 if target_minutes is None else target_minutes * 60,
            "service_minutes_override": data.get("service_minutes"),
        }


def _staff(request: HttpRequest) -> StaffMember:
    user = request.user
    assert isinstance(user, StaffMember)
    return user


def _branch(request: HttpRequest, branch_slug: str) -> Branch:
    try:
        return selectors.branch_get_for_staff(slug=branch_slug, staff_member=_staff(request))
    except NotFound as error:
        raise Http404(error.message) from error


def _plan(form: PlanForm, branch: Branch) -> WeekPlan | None:
    """The plan for valid inputs; None with the error on the form otherwise."""
    if not form.is_valid():
        return None
    try:
        return services.plan_week(branch=branch, **form.inputs())
    except PlanInputError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


# ---------------------------------------------------------------------------------------------
# Arranging the plan for the page


@dataclass(frozen=True)
class HeatCell:
    slot: SlotPlan | None
    css: str
    title: str


@dataclass(frozen=True)
class LevelCell:
    hour: HourLevel | None
    css: str


@dataclass(frozen=True)
class DaySummary:
    day: dt.date
    forecast: float
    recommended_hours: float
    scheduled_hours: float


def heat_class(gap: int) -> str:
    """A fixed set of colour classes (no inline styles under our CSP), by counters short or spare."""
    if gap >= 3:
        return "heat-short-3"
    if gap > 0:
        return f"heat-short-{gap}"
    if gap == 0:
        return "heat-even"
    return "heat-spare-1" if gap == -1 else "heat-spare-2"


def level_class(level: float | None, target: float) -> str:
    if level is None:
        return "level-none"
    if level >= target:
        return "level-ok"
    return "level-near" if level >= target - 0.1 else "level-bad"


def heat_map(plan: WeekPlan) -> list[tuple[dt.time, list[HeatCell]]]:
    """Rows of half hours, one cell per open day: "recommended / usually open"."""
    days = plan.open_days
    by_key = {(slot.day, slot.slot): slot for slot in plan.slots}
    rows = []
    for k in sorted({slot.slot for slot in plan.slots}):
        cells = []
        for day in days:
            slot = by_key.get((day, k))
            if slot is None:
                cells.append(HeatCell(None, "heat-closed", _("closed")))
                continue
            title = _(
                "%(day)s %(time)s: %(forecast).1f customers expected; %(recommended)d counters "
                "recommended, %(scheduled)d usually open"
            ) % {
                "day": day.strftime("%a"),
                "time": slot.starts_at.strftime("%H:%M"),
                "forecast": slot.forecast,
                "recommended": slot.recommended,
                "scheduled": slot.scheduled,
            }
            css = heat_class(slot.gap)
            if slot.recommended > plan.counters_available:
                css += " over-capacity"
                title += " " + _("(more than the %(count)d counters the branch has)") % {
                    "count": plan.counters_available
                }
            cells.append(HeatCell(slot, css, title))
        rows.append((selectors.slot_start(k), cells))
    return rows


def level_table(plan: WeekPlan) -> list[tuple[int, list[LevelCell]]]:
    """Rows of hours, one cell per open day: the expected share served in time with usual staffing."""
    by_key = {(hour.day, hour.hour): hour for hour in plan.hours}
    rows = []
    for hour in sorted({h.hour for h in plan.hours}):
        cells = []
        for day in plan.open_days:
            level = by_key.get((day, hour))
            cells.append(
                LevelCell(
                    level,
                    "level-none"
                    if level is None
                    else level_class(level.expected_service_level, plan.target_service_level),
                )
            )
        rows.append((hour, cells))
    return rows


def day_summaries(plan: WeekPlan) -> list[DaySummary]:
    """Per open day: customers expected and counter-hours recommended and usually open."""
    summaries = []
    for day in plan.open_days:
        slots = [slot for slot in plan.slots if slot.day == day]
        summaries.append(
            DaySummary(
                day=day,
                forecast=sum(slot.forecast for slot in slots),
                recommended_hours=sum(slot.recommended for slot in slots) * selectors.SLOT_MINUTES / 60,
                scheduled_hours=sum(slot.scheduled for slot in slots) * selectors.SLOT_MINUTES / 60,
            )
        )
    return summaries


def _query(plan: WeekPlan, **changes: Any) -> str:
    values: dict[str, Any] = {
        "week": plan.week_start.isoformat(),
        "target": f"{plan.target_service_level:g}",
        "target_minutes": f"{plan.target_seconds / 60:g}",
    }
    if plan.service_minutes_override is not None:
        values["service_minutes"] = f"{plan.service_minutes_override:g}"
    values.update(changes)
    return urlencode(values)


# ---------------------------------------------------------------------------------------------
# Pages


@login_required
def plan_page(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """The week's staffing plan for a branch, with what-if inputs (clerks of the branch may look)."""
    branch = _branch(request, branch_slug)
    form = PlanForm(request.GET)
    plan = _plan(form, branch)
    context: dict[str, Any] = {"branch": branch, "form": form, "plan": plan}
    if plan is not None:
        # Show the values the plan used, defaults included, so the next what-if starts from them.
        context["form"] = PlanForm(
            initial={
                "week": plan.week_start,
                "target": f"{plan.target_service_level:g}",
                "target_minutes": f"{plan.target_seconds / 60:g}",
                "service_minutes": None
                if plan.service_minutes_override is None
                else f"{plan.service_minutes_override:g}",
            }
        )
        first, last = services.plannable_weeks(services.branch_today(branch))
        page = reverse("staffing:plan", kwargs={"branch_slug": branch.slug})
        export = reverse("staffing:export", kwargs={"branch_slug": branch.slug})
        week = dt.timedelta(weeks=1)
        context |= {
            "heat_rows": heat_map(plan),
            "level_rows": level_table(plan),
            "summaries": day_summaries(plan),
            "week_end": plan.week_start + dt.timedelta(days=6),
            "target_percent": round(plan.target_service_level * 100),
            "target_minutes": f"{plan.target_seconds / 60:g}",
            "expected_class": level_class(plan.expected_service_level, plan.target_service_level),
            "recommended_class": level_class(plan.recommended_service_level, plan.target_service_level),
            "export_url": f"{export}?{_query(plan)}",
            "previous_url": f"{page}?{_query(plan, week=(plan.week_start - week).isoformat())}"
            if plan.week_start - week >= first
            else None,
            "next_url": f"{page}?{_query(plan, week=(plan.week_start + week).isoformat())}"
            if plan.week_start + week <= last
            else None,
        }
    with timezone.override(ZoneInfo(branch.time_zone)):
        return render(request, "staffing/plan.html", context, status=200 if plan else 400)


CSV_HEADER = [
    "date",
    "weekday",
    "start",
    "end",
    "forecast_arrivals",
    "appointments",
    "mean_service_minutes",
    "recommended_counters",
    "dedicated_counters",
    "usually_open_counters",
    "gap",
    "service_level_recommended",
    "service_level_usually_open",
    "mean_wait_minutes_usually_open",
]


@login_required
def plan_export(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """The plan as CSV, one row per open half hour, for a spreadsheet or a rota tool."""
    branch = _branch(request, branch_slug)
    form = PlanForm(request.GET)
    plan = _plan(form, branch)
    if plan is None:
        messages = "; ".join(
            f"{name}: {' '.join(str(error) for error in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponse(messages, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plan-{branch.slug}-{plan.week_start}.csv"'
    letters = [service.ticket_letter for service in plan.services]
    writer = csv.writer(response)
    writer.writerow([*CSV_HEADER, *(f"forecast_{letter}" for letter in letters)])
    for slot in plan.slots:
        end = (dt.datetime.combine(slot.day, slot.starts_at) + dt.timedelta(minutes=30)).time()
        wait = slot.expected_wait_seconds
        writer.writerow(
            [
                slot.day.isoformat(),
                slot.day.strftime("%a"),
                slot.starts_at.strftime("%H:%M"),
                end.strftime("%H:%M"),
                f"{slot.forecast:.2f}",
                f"{slot.appointments:.2f}",
                f"{slot.service_seconds / 60:.1f}",
                slot.recommended,
                slot.dedicated,
                slot.scheduled,
                slot.gap,
                f"{slot.recommended_service_level:.3f}",
                "" if slot.expected_service_level is None else f"{slot.expected_service_level:.3f}",
                "" if wait is None else ("overloaded" if wait == float("inf") else f"{wait / 60:.1f}"),
                *(f"{slot.forecast_by_service[service.service_id]:.2f}" for service in plan.services),
            ]
        )
    return response


@login_required
def plan_home(request: HttpRequest) -> HttpResponse:
    """The staffing plan of one's branch, or a choice of branches for head office."""
    branches = list(selectors.branches_for_staff(_staff(request)))
    if len(branches) == 1:
        return redirect("staffing:plan", branch_slug=branches[0].slug)
    return render(request, "staffing/home.html", {"branches": branches})
