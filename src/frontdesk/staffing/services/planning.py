"""``plan_week``: forecast a branch's week, staff each open half hour, check it by simulation."""

import datetime as dt
import math
from collections import defaultdict

from frontdesk.branches.models import Branch, Service
from frontdesk.core import clock
from frontdesk.science.erlang import erlang_c
from frontdesk.science.forecast import (
    ArrivalHistory,
    fit_forecast,
    forecast,
)
from frontdesk.science.simulation import Distribution
from frontdesk.science.staffing import StaffingTarget, required_counters

from .. import selectors
from ..selectors import SLOT_MINUTES
from .accuracy import forecast_accuracy
from .inputs import validate_inputs
from .plan import DayCheck, ServiceDemand, SlotPlan, WeekPlan
from .simulation import Simulated, hour_levels, simulate_plan


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
    replaces every service's mean service time (a what-if: "if a customer held a counter 12 minutes").
    A service time here is a counter's holding time, from the call to the end of the visit
    (``selectors.service_times``): that is how long a counter cannot call anyone else.
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

    checks: list[DayCheck] = []
    recommended: Simulated | None = None
    usual_levels: Simulated | None = None
    if simulate:
        counters = selectors.counter_skills(branch)
        _note_unserved(services, counters, slots, notes)
        checks, recommended, usual_levels = simulate_plan(
            slots,
            counters=counters,
            service_times={s.pk: _service_time(seconds[s.pk], measured[s.pk].cv) for s in services},
            target_seconds=target_seconds,
        )
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
        hours=hour_levels(slots, recommended, usual_levels),
        checks=checks,
        accuracy=forecast_accuracy(history, today, notes),
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


def _service_time(mean_seconds: float, cv: float) -> Distribution:
    """A service's counter time in the simulation: its mean and measured spread (a what-if keeps it)."""
    cv = min(max(cv, 0.1), 3.0)
    return Distribution.exponential(mean_seconds) if cv == 1.0 else Distribution.lognormal(mean_seconds, cv)


def _note_unserved(
    services: list[Service],
    counters: list[selectors.CounterSkills],
    slots: list[SlotPlan],
    notes: list[str],
) -> None:
    """Say so when a service with expected customers has no counter that serves it."""
    if not counters:
        notes.append("No active counters: in the simulation every counter serves every service.")
        return
    served = frozenset().union(*(counter.service_ids for counter in counters))
    for service in services:
        if service.pk not in served and any(slot.forecast_by_service.get(service.pk) for slot in slots):
            notes.append(
                f"No counter serves {service.name}: its customers wait in the simulation until a "
                "counter is set up to serve it (Admin, counters)."
            )
