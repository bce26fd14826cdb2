"""The what-if inputs of a plan and the weeks it may cover; ``PlanInputError`` names the field at fault."""

import datetime as dt
import math

from frontdesk.branches.models import Branch
from frontdesk.core import clock
from frontdesk.core.errors import DomainError

#: How many weeks ahead a plan may look (the forecast's trend is damped, not a prophecy).
MAX_WEEKS_AHEAD = 12
SIMULATED_DAYS_PER_CHECK = 20
MAX_TARGET_MINUTES = 240.0
MAX_SERVICE_MINUTES = 480.0


class PlanInputError(DomainError):
    """A what-if input the planner cannot use (the API answers 422 with the field)."""

    status_code = 422
    code = "invalid"


def coming_week(today: dt.date) -> dt.date:
    """The Monday after ``today``: the week a manager plans next."""
    return today + dt.timedelta(days=7 - today.weekday())


def plannable_weeks(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last Monday a plan may start on: this week up to ``MAX_WEEKS_AHEAD`` ahead."""
    this_week = today - dt.timedelta(days=today.weekday())
    return this_week, this_week + dt.timedelta(weeks=MAX_WEEKS_AHEAD)


def branch_today(branch: Branch) -> dt.date:
    return clock.local_date(clock.now(), branch.time_zone)


def validate_inputs(
    *,
    today: dt.date,
    week_start: dt.date | None,
    target_service_level: float,
    target_seconds: float,
    service_minutes_override: float | None,
) -> dt.date:
    """Check the what-if inputs; the week's Monday to plan, or ``PlanInputError`` naming the field."""
    if not (math.isfinite(target_service_level) and 0 < target_service_level < 1):
        raise PlanInputError(
            "The target is a share between 0 and 1, for example 0.8 for 80% served in time.", field="target"
        )
    if not (math.isfinite(target_seconds) and 0 < target_seconds <= MAX_TARGET_MINUTES * 60):
        raise PlanInputError(
            f"The target time must be more than 0 and at most {MAX_TARGET_MINUTES:g} minutes.",
            field="target_minutes",
        )
    if service_minutes_override is not None and not (
        math.isfinite(service_minutes_override) and 0 < service_minutes_override <= MAX_SERVICE_MINUTES
    ):
        raise PlanInputError(
            f"The service time must be more than 0 and at most {MAX_SERVICE_MINUTES:g} minutes.",
            field="service_minutes",
        )
    this_week, last = plannable_weeks(today)
    monday = (
        coming_week(today) if week_start is None else week_start - dt.timedelta(days=week_start.weekday())
    )
    if not this_week <= monday <= last:
        raise PlanInputError(
            f"Plan a week from this one ({this_week:%Y-%m-%d}) up to {MAX_WEEKS_AHEAD} weeks ahead "
            f"({last:%Y-%m-%d}).",
            field="week",
        )
    return monday
