"""The staffing planner: forecast a branch's week, staff each half hour, check it by simulation.

Nothing here writes: a plan is computed on request from the branch's history (the maths takes a
fraction of a second), so it always reflects the latest visits and the what-if inputs given.

How a week is planned (``plan_week``):

1. **Forecast** check-ins per service and half hour with ``science.forecast`` (weekday factors,
   damped trend, weekday time-of-day profile), fitted on the branch's last 16 weeks up to
   yesterday. Booked appointments are added per half hour (``selectors.appointment_load``; zero
   until Frontdesk has an appointment book).
2. **Recommend** counters per open half hour with Erlang C (``science.staffing.required_counters``)
   for the branch's target ("80% called within 10 minutes"). Services are **pooled**: one queue
   with the half hour's total arrivals and their arrival-weighted mean service time, because a
   branch's counters and staff serve several services. A branch open for business keeps at least
   one counter open. Per service, the counters needed if each service had counters of its own are
   reported too (``dedicated``): the upper bound when nobody can serve another service's queue.
3. **Scheduled** is what the branch usually opens (``selectors.usual_staffing``: counters open in
   that weekday's half hour over the last four weeks, rounded), since Frontdesk has no rota yet;
   weekdays without history fall back to every active counter. Each half hour also gets the
   pooled Erlang C service level of both staffings (steady state: a half hour whose traffic
   reaches the counters open scores 0).
4. **Check** every open day with the discrete-event simulator
   (``science.staffing.check_skilled_plan_by_simulation``), once with the recommended counters
   and once with those usually open, same random streams: non-stationary Poisson arrivals, a
   queue per service with its own mean and measured spread, the queue carried over from one half
   hour to the next. Counters are the branch's own with their skills (``ServicePoint.services``,
   ``selectors.counter_skills``), so the check is not pooled: when a half hour has N counters,
   ``simulation.choose_counters`` opens the N whose services carry the most forecast load per
   counter already open for them (past the branch's counters, copies of them). The expected
   service level per hour comes from these runs, so a short peak costs what it really costs
   rather than the steady-state 0.
5. **Accuracy**: the same forecast fitted on the weeks before the last two and scored on those
   two, beside the average of the same weekday over the four weeks before them, per service and
   on the branch's total per half hour.

The package: ``planning`` (``plan_week``), ``inputs`` (what-if inputs and plannable weeks), ``plan``
(the week's dataclasses and their JSON), ``simulation`` (step 4) and ``accuracy`` (step 5).
"""

from .accuracy import HELD_OUT_DAYS
from .inputs import (
    MAX_SERVICE_MINUTES,
    MAX_TARGET_MINUTES,
    MAX_WEEKS_AHEAD,
    PlanInputError,
    branch_today,
    coming_week,
    plannable_weeks,
    validate_inputs,
)
from .plan import DayCheck, ForecastAccuracy, HourLevel, ServiceDemand, SlotPlan, WeekPlan
from .planning import plan_week
from .simulation import SIMULATED_DAYS_PER_CHECK

__all__ = [
    "HELD_OUT_DAYS",
    "MAX_SERVICE_MINUTES",
    "MAX_TARGET_MINUTES",
    "MAX_WEEKS_AHEAD",
    "SIMULATED_DAYS_PER_CHECK",
    "DayCheck",
    "ForecastAccuracy",
    "HourLevel",
    "PlanInputError",
    "ServiceDemand",
    "SlotPlan",
    "WeekPlan",
    "branch_today",
    "coming_week",
    "plan_week",
    "plannable_weeks",
    "validate_inputs",
]
