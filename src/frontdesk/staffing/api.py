"""Staffing planner API: a branch's week plan (forecast, counters recommended and usually open).

The endpoint parses the what-if inputs, authorises through the access-checked getter and returns
``services.plan_week`` as JSON; bad inputs answer 422 with the field at fault.
"""

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from frontdesk.accounts.api import staff_auth, staff_of
from frontdesk.core.api import ErrorOut

from . import selectors, services

router = Router(tags=["staffing"], auth=staff_auth)

READ = "queue:read"
ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


class ServiceDemandOut(Schema):
    id: int
    ticket_letter: str
    name: str
    forecast_arrivals: float = Field(description="Customers expected over the week.")
    service_seconds: float = Field(
        description="Mean counter time per customer used by the plan: from the call to the end of the visit."
    )
    measured_from: int = Field(description="Finished visits measured; 0 = configured or what-if time.")
    peak_dedicated_counters: int = Field(description="Most counters the service alone would need.")


class SlotOut(Schema):
    date: dt.date
    start: str = Field(description="Local start of the half hour, HH:MM.")
    forecast: float = Field(description="Customers expected in the half hour, all services.")
    forecast_by_service: dict[str, float] = Field(description="By ticket letter.")
    appointments: float = Field(description="Booked appointments included in the forecast (none yet).")
    service_seconds: float
    recommended: int = Field(description="Fewest counters meeting the target, services pooled (Erlang C).")
    dedicated: int = Field(description="Counters needed if every service had counters of its own.")
    scheduled: int = Field(description="Counters usually open then (average of the last four weeks).")
    gap: int = Field(description="recommended - scheduled: positive is short, negative is spare.")
    recommended_service_level: float | None = Field(description="Erlang C with the recommended counters.")
    expected_service_level: float | None = Field(description="Erlang C with the usual counters.")
    expected_wait_seconds: float | None = Field(
        description="Mean wait with the usual counters; null if overloaded."
    )


class HourOut(Schema):
    date: dt.date
    hour: int
    forecast: float
    expected_service_level: float | None = Field(description="With the usual counters (simulated).")
    recommended_service_level: float | None = Field(description="With the recommended counters (simulated).")


class DayCheckOut(Schema):
    date: dt.date
    replications: int
    forecast: float
    simulated_arrivals: float
    service_level: float | None = Field(description="Simulated, recommended counters.")
    predicted_service_level: float | None = Field(description="What Erlang C predicted for the day.")
    lowest_service_level: float | None
    lowest_at: str | None
    usual_service_level: float | None = Field(description="Simulated, usual counters.")


class ForecastErrorOut(Schema):
    wape: float
    rmse: float
    mae: float
    bias: float
    daily_wape: float
    intervals: int
    days: int


class ForecastAccuracyOut(Schema):
    held_out_from: dt.date
    held_out_days: int
    frontdesk: ForecastErrorOut
    same_weekday: ForecastErrorOut
    frontdesk_total: ForecastErrorOut
    same_weekday_total: ForecastErrorOut


class WeekPlanOut(Schema):
    branch: str
    time_zone: str
    week_start: dt.date
    target_service_level: float
    target_seconds: float
    service_minutes_override: float | None
    history_days: int
    counters_available: int
    forecast_total: float
    recommended_counter_hours: float
    scheduled_counter_hours: float
    simulated: bool
    expected_service_level: float | None
    recommended_service_level: float | None
    services: list[ServiceDemandOut]
    slots: list[SlotOut]
    hours: list[HourOut]
    simulation: list[DayCheckOut]
    forecast_accuracy: ForecastAccuracyOut | None
    notes: list[str]


@router.get("/branches/{branch_slug}/plan", response={200: WeekPlanOut, **ERRORS})
def branch_plan(
    request: HttpRequest,
    branch_slug: str,
    week: dt.date | None = None,
    target: float = 0.8,
    target_minutes: float = 10.0,
    service_minutes: float | None = None,
    simulate: bool = True,
) -> WeekPlanOut:
    """A week's staffing plan: forecast, recommended and usual counters per open half hour.

    ``week`` is any day of the week (default: next week); ``target`` the share to call within
    ``target_minutes``; ``service_minutes`` replaces every service's measured counter time per
    customer, from the call to the end of the visit (what-if);
    ``simulate=false`` skips the simulation check (hourly levels then come from Erlang C).
    """
    staff = staff_of(request, scope=READ)
    branch = selectors.branch_get_for_staff(slug=branch_slug, staff_member=staff)
    plan = services.plan_week(
        branch=branch,
        week_start=week,
        target_service_level=target,
        target_seconds=target_minutes * 60,
        service_minutes_override=service_minutes,
        simulate=simulate,
    )
    return WeekPlanOut.model_validate(plan.as_dict())
