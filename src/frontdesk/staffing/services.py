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
   (``science.staffing.check_plan_by_simulation``), once with the recommended counters and
   once with those usually open, same random streams: non-stationary Poisson arrivals, service
   times with the measured spread, the queue carried over from one half hour to the next. The
   expected service level per hour comes from these runs, so a short peak costs what it really
   costs rather than the steady-state 0.
5. **Accuracy**: the same forecast fitted on the weeks before the last two and scored on those
   two, beside the average of the same weekday over the four weeks before them, per service and
   on the branch's total per half hour.
"""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from frontdesk.branches.models import Branch, Service
from frontdesk.core import clock
from frontdesk.core.errors import DomainError
from frontdesk.science.erlang import erlang_c
from frontdesk.science.forecast import (
    ArrivalHistory,
    ForecastError,
    fit_forecast,
    forecast,
    forecast_error,
    same_weekday_baseline,
)
from frontdesk.science.staffing import StaffingTarget, check_plan_by_simulation, required_counters

from . import selectors
from .selectors import SLOT_MINUTES, slot_start

#: How many weeks ahead a plan may look (the forecast's trend is damped, not a prophecy).
MAX_WEEKS_AHEAD = 12
HELD_OUT_DAYS = 14
SIMULATED_DAYS_PER_CHECK = 20
MAX_TARGET_MINUTES = 240.0
MAX_SERVICE_MINUTES = 480.0

Simulated = dict[tuple[dt.date, int], tuple[float, float]]  # (day, slot) → (arrivals, service level)


class PlanInputError(DomainError):
    """A what-if input the planner cannot use (the API answers 422 with the field)."""

    status_code = 422
    code = "invalid"


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True, slots=True)
class ServiceDemand:
    """One service's part of the week: forecast, service time and its own counters' need."""

    service_id: int
    ticket_letter: str
    name: str
    forecast_arrivals: float  # over the week
    service_seconds: float  # used by the plan (measured, configured or the what-if override)
    measured_from: int  # finished visits the mean comes from; 0 = the configured duration
    peak_dedicated_counters: int  # the most counters it alone would need in a half hour


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """One open half hour of the week."""

    day: dt.date
    slot: int  # index of the half hour in the local day (0 = 00:00, 19 = 09:30)
    forecast: float  # expected customers (walk-in and appointments, all services)
    forecast_by_service: dict[int, float]
    appointments: float
    service_seconds: float  # arrival-weighted mean over the services
    recommended: int
    dedicated: int  # if every service had its own counters
    scheduled: int
    recommended_service_level: float
    expected_service_level: float | None  # with the scheduled counters; None when nobody is expected
    expected_wait_seconds: float | None  # mean wait with the scheduled counters (inf if overloaded)

    @property
    def starts_at(self) -> dt.time:
        return slot_start(self.slot)

    @property
    def gap(self) -> int:
        """Counters short (positive) or spare (negative) compared with what is usually open."""
        return self.recommended - self.scheduled


@dataclass(frozen=True, slots=True)
class HourLevel:
    """Expected share served within the target in one hour of one day, weighted by arrivals.

    Simulated when the plan was checked by simulation (the queue carries over between half
    hours, so a short peak costs less than the steady-state formula says); Erlang C otherwise.
    """

    day: dt.date
    hour: int
    forecast: float
    expected_service_level: float | None  # with the counters usually open
    recommended_service_level: float | None  # with the recommended counters


@dataclass(frozen=True, slots=True)
class DayCheck:
    """One day simulated twice: with the recommended counters and with those usually open."""

    day: dt.date
    replications: int
    forecast: float
    simulated_arrivals: float
    service_level: float | None  # share of simulated customers called within the target
    predicted_service_level: float | None  # what Erlang C promised for the same day
    lowest_service_level: float | None  # the recommendation's weakest half hour
    lowest_at: dt.time | None
    usual_service_level: float | None  # the same day with the counters usually open


@dataclass(frozen=True, slots=True)
class ForecastAccuracy:
    """The forecast against a naive baseline on the last held-out days of history.

    Scored per service and half hour (what the forecast predicts) and on the branch's total per
    half hour (what the pooled staffing uses; small counts per service are mostly chance).
    """

    held_out_from: dt.date
    held_out_days: int
    frontdesk: ForecastError
    same_weekday: ForecastError
    frontdesk_total: ForecastError
    same_weekday_total: ForecastError


@dataclass(slots=True)
class WeekPlan:
    branch: Branch
    week_start: dt.date
    target_service_level: float
    target_seconds: float
    service_minutes_override: float | None
    history_days: int
    counters_available: int
    services: list[ServiceDemand]
    slots: list[SlotPlan]
    hours: list[HourLevel]
    checks: list[DayCheck]
    accuracy: ForecastAccuracy | None
    simulated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[dt.date]:
        return [self.week_start + dt.timedelta(days=n) for n in range(7)]

    @property
    def open_days(self) -> list[dt.date]:
        return sorted({slot.day for slot in self.slots})

    @property
    def forecast_total(self) -> float:
        return math.fsum(slot.forecast for slot in self.slots)

    @property
    def recommended_counter_hours(self) -> float:
        return sum(slot.recommended for slot in self.slots) * SLOT_MINUTES / 60

    @property
    def scheduled_counter_hours(self) -> float:
        return sum(slot.scheduled for slot in self.slots) * SLOT_MINUTES / 60

    @property
    def over_capacity_slots(self) -> int:
        """Half hours that need more counters than the branch has."""
        return sum(1 for slot in self.slots if slot.recommended > self.counters_available)

    @property
    def short_slots(self) -> int:
        return sum(1 for slot in self.slots if slot.gap > 0)

    @property
    def expected_service_level(self) -> float | None:
        """The week's share served within the target with the counters usually open."""
        return _weighted((hour.forecast, hour.expected_service_level) for hour in self.hours)

    @property
    def recommended_service_level(self) -> float | None:
        """The week's share served within the target with the recommended counters."""
        return _weighted((hour.forecast, hour.recommended_service_level) for hour in self.hours)

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready values: the API's answer and ``frontdesk plan --json``."""
        letters = {service.service_id: service.ticket_letter for service in self.services}
        return {
            "branch": self.branch.slug,
            "time_zone": self.branch.time_zone,
            "week_start": self.week_start.isoformat(),
            "target_service_level": self.target_service_level,
            "target_seconds": self.target_seconds,
            "service_minutes_override": self.service_minutes_override,
            "history_days": self.history_days,
            "counters_available": self.counters_available,
            "forecast_total": round(self.forecast_total, 2),
            "recommended_counter_hours": self.recommended_counter_hours,
            "scheduled_counter_hours": self.scheduled_counter_hours,
            "simulated": self.simulated,
            "expected_service_level": _round(self.expected_service_level),
            "recommended_service_level": _round(self.recommended_service_level),
            "services": [
                {
                    "id": s.service_id,
                    "ticket_letter": s.ticket_letter,
                    "name": s.name,
                    "forecast_arrivals": round(s.forecast_arrivals, 2),
                    "service_seconds": round(s.service_seconds, 1),
                    "measured_from": s.measured_from,
                    "peak_dedicated_counters": s.peak_dedicated_counters,
                }
                for s in self.services
            ],
            "slots": [
                {
                    "date": slot.day.isoformat(),
                    "start": slot.starts_at.strftime("%H:%M"),
                    "forecast": round(slot.forecast, 3),
                    "forecast_by_service": {
                        letters[service_id]: round(value, 3)
                        for service_id, value in slot.forecast_by_service.items()
                    },
                    "appointments": round(slot.appointments, 3),
                    "service_seconds": round(slot.service_seconds, 1),
                    "recommended": slot.recommended,
                    "dedicated": slot.dedicated,
                    "scheduled": slot.scheduled,
                    "gap": slot.gap,
                    "recommended_service_level": _round(slot.recommended_service_level),
                    "expected_service_level": _round(slot.expected_service_level),
                    "expected_wait_seconds": _round_wait(slot.expected_wait_seconds),
                }
                for slot in self.slots
            ],
            "hours": [
                {
                    "date": hour.day.isoformat(),
                    "hour": hour.hour,
                    "forecast": round(hour.forecast, 3),
                    "expected_service_level": _round(hour.expected_service_level),
                    "recommended_service_level": _round(hour.recommended_service_level),
                }
                for hour in self.hours
            ],
            "simulation": [
                {
                    "date": check.day.isoformat(),
                    "replications": check.replications,
                    "forecast": round(check.forecast, 2),
                    "simulated_arrivals": round(check.simulated_arrivals, 2),
                    "service_level": _round(check.service_level),
                    "predicted_service_level": _round(check.predicted_service_level),
                    "lowest_service_level": _round(check.lowest_service_level),
                    "lowest_at": check.lowest_at.strftime("%H:%M") if check.lowest_at else None,
                    "usual_service_level": _round(check.usual_service_level),
                }
                for check in self.checks
            ],
            "forecast_accuracy": None
            if self.accuracy is None
            else {
                "held_out_from": self.accuracy.held_out_from.isoformat(),
                "held_out_days": self.accuracy.held_out_days,
                "frontdesk": self.accuracy.frontdesk.as_dict(),
                "same_weekday": self.accuracy.same_weekday.as_dict(),
                "frontdesk_total": self.accuracy.frontdesk_total.as_dict(),
                "same_weekday_total": self.accuracy.same_weekday_total.as_dict(),
            },
            "notes": self.notes,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _round_wait(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 1)


def _weighted(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    total = weight = 0.0
    for arrivals, level in pairs:
        if level is not None and arrivals > 0:
            total += arrivals * level
            weight += arrivals
    return total / weight if weight else None


# ---------------------------------------------------------------------------------------------
# Inputs


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


# ---------------------------------------------------------------------------------------------
# Planning


def plan_week(
    *,
    branch: Branch,
    week_start: dt.date | None = None,
    target_service_level: float = 0.8,
    target_seconds: float = 600.0,
    service_minutes_override: float | None = None,
    simulate: bool = True,
) -> WeekPlan:
    """Forecast, staff and check one week (Monday to Sunday, the branch's local days) of a branch.

    ``week_start`` is any day of the week to plan (default: next week). ``service_minutes_override``
    replaces every service's mean service time (a what-if: "if service took 12 minutes").
    """
    now = clock.now()
    today = clock.local_date(now, branch.time_zone)
    monday = validate_inputs(
        today=today,
        week_start=week_start,
        target_service_level=target_service_level,
        target_seconds=target_seconds,
        service_minutes_override=service_minutes_override,
    )
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    services = list(selectors.services_for_branch(branch))
    history = selectors.arrival_history(branch=branch, until=today)
    notes: list[str] = []

    walk_ins = _forecast_walk_ins(history, days, notes)
    appointments = selectors.appointment_load(branch=branch, days=days)
    notes.append(
        "Appointments: none are included yet (Frontdesk has no appointment book); "
        "the plan covers walk-in customers."
    )
    measured = selectors.service_times(branch=branch, services=services, until=now)
    override = None if service_minutes_override is None else service_minutes_override * 60.0
    seconds = {s.pk: override or measured[s.pk].mean_seconds for s in services}

    opening = selectors.opening_slots(branch)
    if not opening:
        notes.append("The branch has no opening hours set: half hours with expected customers are planned.")
    usual = selectors.usual_staffing(branch=branch, until=today)
    available = selectors.active_counter_count(branch)
    if any(weekday not in usual for weekday in opening):
        notes.append(
            f"Weekdays without recent history count every active counter ({available}) as usually open."
        )
    pooled_target = StaffingTarget(
        service_level=target_service_level, target_seconds=target_seconds, min_counters=1
    )
    service_target = StaffingTarget(service_level=target_service_level, target_seconds=target_seconds)

    slots: list[SlotPlan] = []
    peak_dedicated: dict[int, int] = defaultdict(int)
    for day in days:
        by_service = {
            s.pk: [
                walk + booked
                for walk, booked in zip(
                    walk_ins.get(str(s.pk), {}).get(day) or [0.0] * selectors.SLOTS_PER_DAY,
                    appointments.get(s.pk, {}).get(day) or [0.0] * selectors.SLOTS_PER_DAY,
                    strict=True,
                )
            ]
            for s in services
        }
        booked_total = [
            math.fsum(
                appointments.get(s.pk, {}).get(day, [0.0] * selectors.SLOTS_PER_DAY)[k] for s in services
            )
            for k in range(selectors.SLOTS_PER_DAY)
        ]
        open_slots = opening.get(day.weekday()) if opening else None
        if open_slots is None:
            open_slots = (
                []
                if opening
                else [
                    k
                    for k in range(selectors.SLOTS_PER_DAY)
                    if sum(r[k] for r in by_service.values()) >= 0.05
                ]
            )
        if not open_slots:
            continue
        totals = [math.fsum(by_service[s.pk][k] for s in services) for k in open_slots]
        mean_seconds = [
            math.fsum(by_service[s.pk][k] * seconds[s.pk] for s in services) / total
            if total > 0
            else _mean_service_seconds(services, seconds, by_service)
            for k, total in zip(open_slots, totals, strict=True)
        ]
        pooled = required_counters(
            totals, service_seconds=mean_seconds, target=pooled_target, interval_minutes=SLOT_MINUTES
        )
        dedicated = [0] * len(open_slots)
        for s in services:
            own = required_counters(
                [by_service[s.pk][k] for k in open_slots],
                service_seconds=seconds[s.pk],
                target=service_target,
                interval_minutes=SLOT_MINUTES,
            )
            for index, requirement in enumerate(own):
                dedicated[index] += requirement.counters
                peak_dedicated[s.pk] = max(peak_dedicated[s.pk], requirement.counters)
        for index, k in enumerate(open_slots):
            usual_row = usual.get(day.weekday())
            scheduled = available if usual_row is None else math.floor(usual_row[k] + 0.5)
            expected, wait = _expected(totals[index], mean_seconds[index], scheduled, target_seconds)
            slots.append(
                SlotPlan(
                    day=day,
                    slot=k,
                    forecast=totals[index],
                    forecast_by_service={s.pk: by_service[s.pk][k] for s in services},
                    appointments=booked_total[k],
                    service_seconds=mean_seconds[index],
                    recommended=pooled[index].counters,
                    dedicated=dedicated[index],
                    scheduled=scheduled,
                    recommended_service_level=pooled[index].service_level,
                    expected_service_level=expected,
                    expected_wait_seconds=wait,
                )
            )

    cv = _pooled_cv(slots, services, seconds, measured)
    checks: list[DayCheck] = []
    recommended: Simulated | None = None
    usual_levels: Simulated | None = None
    if simulate:
        checks, recommended, usual_levels = _simulate(slots, cv=cv, target_seconds=target_seconds)
    demands = [
        ServiceDemand(
            service_id=s.pk,
            ticket_letter=s.ticket_letter,
            name=s.name,
            forecast_arrivals=math.fsum(slot.forecast_by_service[s.pk] for slot in slots),
            service_seconds=seconds[s.pk],
            measured_from=0 if override else measured[s.pk].samples,
            peak_dedicated_counters=peak_dedicated[s.pk],
        )
        for s in services
    ]
    over = sum(1 for slot in slots if slot.recommended > available)
    if over:
        notes.append(
            f"{over} half hours need more counters than the branch has ({available}): "
            "open a spare desk, move staff from quieter hours or accept a lower target then."
        )
    return WeekPlan(
        branch=branch,
        week_start=monday,
        target_service_level=target_service_level,
        target_seconds=target_seconds,
        service_minutes_override=service_minutes_override,
        history_days=len(history.days),
        counters_available=available,
        services=demands,
        slots=slots,
        hours=_hours(slots, recommended, usual_levels),
        checks=checks,
        accuracy=_accuracy(history, today, notes),
        simulated=simulate,
        notes=notes,
    )


def _forecast_walk_ins(
    history: ArrivalHistory, days: list[dt.date], notes: list[str]
) -> dict[str, dict[dt.date, list[float]]]:
    if not history.counts:
        notes.append("No visits recorded yet: the forecast is empty until the branch has some history.")
        return {}
    # Special days (holidays, eves) would be passed here as date → label; no calendar exists yet.
    try:
        return forecast(fit_forecast(history), days)
    except ValueError as error:
        notes.append(f"The forecast could not be fitted: {error}.")
        return {}


def _mean_service_seconds(
    services: list[Service], seconds: dict[int, float], by_service: dict[int, list[float]]
) -> float:
    """A quiet half hour's service time: the day's arrival-weighted mean (or the plain mean)."""
    weights = {s.pk: math.fsum(by_service[s.pk]) for s in services}
    total = math.fsum(weights.values())
    if total > 0:
        return math.fsum(weights[s.pk] * seconds[s.pk] for s in services) / total
    return math.fsum(seconds.values()) / len(seconds) if seconds else 600.0


def _expected(
    arrivals: float, service_seconds: float, counters: int, target_seconds: float
) -> tuple[float | None, float | None]:
    if arrivals <= 0:
        return None, None
    result = erlang_c(
        arrivals_per_hour=arrivals * 60 / SLOT_MINUTES,
        service_seconds=service_seconds,
        agents=counters,
        target_seconds=target_seconds,
    )
    return result.service_level, result.average_wait_seconds


def _pooled_cv(
    slots: list[SlotPlan],
    services: list[Service],
    seconds: dict[int, float],
    measured: dict[int, selectors.ServiceTime],
) -> float:
    """Spread of the service times of all services together (a mixture weighted by the forecast).

    With a what-if service time every service has the same mean and keeps its measured spread.
    """
    weights = {s.pk: math.fsum(slot.forecast_by_service[s.pk] for slot in slots) for s in services}
    total = math.fsum(weights.values())
    if total <= 0:
        return 1.0
    mean = math.fsum(weights[s.pk] * seconds[s.pk] for s in services) / total
    second_moment = (
        math.fsum(weights[s.pk] * seconds[s.pk] ** 2 * (1 + measured[s.pk].cv ** 2) for s in services) / total
    )
    cv = math.sqrt(max(second_moment - mean * mean, 0.0)) / mean if mean > 0 else 1.0
    return min(max(cv, 0.1), 3.0)


@dataclass(frozen=True, slots=True)
class _SimulatedDay:
    arrivals: float
    service_level: float | None
    lowest: tuple[float, int] | None  # weakest half hour with at least one customer: (level, slot)


def _simulate_day(
    day_slots: dict[int, SlotPlan],
    counters_of: Callable[[SlotPlan], int],
    *,
    cv: float,
    target_seconds: float,
    seed: int,
    per_slot: Simulated,
) -> _SimulatedDay | None:
    """Run one day (first to last open half hour; closed ones in between have no counter)."""
    first, last = min(day_slots), max(day_slots)
    span = range(first, last + 1)
    arrivals = [day_slots[k].forecast if k in day_slots else 0.0 for k in span]
    total = math.fsum(arrivals)
    if total <= 0:
        return None
    service = math.fsum(slot.forecast * slot.service_seconds for slot in day_slots.values()) / total
    results = check_plan_by_simulation(
        arrivals,
        [counters_of(day_slots[k]) if k in day_slots else 0 for k in span],
        service_seconds=service,
        target_seconds=target_seconds,
        service_cv=cv,
        interval_minutes=SLOT_MINUTES,
        replications=SIMULATED_DAYS_PER_CHECK,
        seed=seed,
    )
    lowest: tuple[float, int] | None = None
    for k, result in zip(span, results, strict=True):
        if result.service_level is None or k not in day_slots:
            continue
        day = day_slots[k].day
        per_slot[(day, k)] = (result.simulated_arrivals, result.service_level.mean)
        # A half hour that saw barely one customer in all the simulated days says little alone.
        if result.simulated_arrivals >= 1 and (lowest is None or result.service_level.mean < lowest[0]):
            lowest = (result.service_level.mean, k)
    return _SimulatedDay(
        arrivals=math.fsum(result.simulated_arrivals for result in results),
        service_level=_weighted(
            (result.simulated_arrivals, None if result.service_level is None else result.service_level.mean)
            for result in results
        ),
        lowest=lowest,
    )


def _simulate(
    slots: list[SlotPlan], *, cv: float, target_seconds: float
) -> tuple[list[DayCheck], Simulated, Simulated]:
    """Simulate each open day with the recommended and with the usual counters (same seeds)."""
    checks: list[DayCheck] = []
    recommended: Simulated = {}
    usual: Simulated = {}
    by_day: dict[dt.date, dict[int, SlotPlan]] = defaultdict(dict)
    for slot in slots:
        by_day[slot.day][slot.slot] = slot
    for day, day_slots in sorted(by_day.items()):
        seed = day.toordinal()
        planned = _simulate_day(
            day_slots,
            lambda slot: slot.recommended,
            cv=cv,
            target_seconds=target_seconds,
            seed=seed,
            per_slot=recommended,
        )
        if planned is None:
            continue
        today = _simulate_day(
            day_slots,
            lambda slot: slot.scheduled,
            cv=cv,
            target_seconds=target_seconds,
            seed=seed,
            per_slot=usual,
        )
        checks.append(
            DayCheck(
                day=day,
                replications=SIMULATED_DAYS_PER_CHECK,
                forecast=math.fsum(slot.forecast for slot in day_slots.values()),
                simulated_arrivals=planned.arrivals,
                service_level=planned.service_level,
                predicted_service_level=_weighted(
                    (slot.forecast, slot.recommended_service_level) for slot in day_slots.values()
                ),
                lowest_service_level=None if planned.lowest is None else planned.lowest[0],
                lowest_at=None if planned.lowest is None else slot_start(planned.lowest[1]),
                usual_service_level=None if today is None else today.service_level,
            )
        )
    return checks, recommended, usual


def _hours(slots: list[SlotPlan], recommended: Simulated | None, usual: Simulated | None) -> list[HourLevel]:
    """Per day and hour; from the simulations when given, else from the half hours' Erlang C."""
    grouped: dict[tuple[dt.date, int], list[SlotPlan]] = defaultdict(list)
    for slot in slots:
        grouped[(slot.day, slot.starts_at.hour)].append(slot)

    def level(members: list[SlotPlan], simulated: Simulated | None, erlang: str) -> float | None:
        if simulated is None:
            return _weighted((s.forecast, getattr(s, erlang)) for s in members)
        return _weighted(simulated.get((s.day, s.slot), (0.0, None)) for s in members)

    return [
        HourLevel(
            day=day,
            hour=hour,
            forecast=math.fsum(slot.forecast for slot in members),
            expected_service_level=level(members, usual, "expected_service_level"),
            recommended_service_level=level(members, recommended, "recommended_service_level"),
        )
        for (day, hour), members in sorted(grouped.items())
    ]


def _branch_total(counts: dict[str, dict[dt.date, list[float]]]) -> dict[str, dict[dt.date, list[float]]]:
    """All services' arrivals summed into one queue per day and half hour."""
    total: dict[dt.date, list[float]] = {}
    for rows in counts.values():
        for day, row in rows.items():
            current = total.setdefault(day, [0.0] * len(row))
            for k, value in enumerate(row):
                current[k] += value
    return {"branch": total}


def _accuracy(history: ArrivalHistory, today: dt.date, notes: list[str]) -> ForecastAccuracy | None:
    """Fit on the history before the last ``HELD_OUT_DAYS`` days, score those days."""
    origin = today - dt.timedelta(days=HELD_OUT_DAYS)
    past = history.before(origin)
    if len(past.days) < 7 or not past.counts:
        notes.append(
            f"Forecast accuracy needs at least {HELD_OUT_DAYS // 7 + 1} weeks of history; "
            "it is shown once the branch has them."
        )
        return None
    days = [origin + dt.timedelta(days=n) for n in range(HELD_OUT_DAYS)]
    try:
        ours = forecast(fit_forecast(past), days)
        baseline = same_weekday_baseline(past, days)
        totals = ArrivalHistory(history.slot_minutes, _branch_total(history.counts), history.days)
        return ForecastAccuracy(
            held_out_from=origin,
            held_out_days=HELD_OUT_DAYS,
            frontdesk=forecast_error(history, ours, days),
            same_weekday=forecast_error(history, baseline, days),
            frontdesk_total=forecast_error(totals, _branch_total(ours), days),
            same_weekday_total=forecast_error(totals, _branch_total(baseline), days),
        )
    except ValueError as error:
        notes.append(f"Forecast accuracy could not be measured: {error}.")
        return None
