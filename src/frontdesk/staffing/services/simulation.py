"""The plan checked by the discrete-event simulator, one day at a time, and the service level per hour."""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from frontdesk.science.staffing import check_plan_by_simulation

from ..selectors import SLOT_MINUTES, slot_start
from .plan import DayCheck, HourLevel, SlotPlan, weighted

SIMULATED_DAYS_PER_CHECK = 20
Simulated = dict[tuple[dt.date, int], tuple[float, float]]  # (day, slot) → (arrivals, service level)


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
        service_level=weighted(
            (result.simulated_arrivals, None if result.service_level is None else result.service_level.mean)
            for result in results
        ),
        lowest=lowest,
    )


def simulate_plan(
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
                predicted_service_level=weighted(
                    (slot.forecast, slot.recommended_service_level) for slot in day_slots.values()
                ),
                lowest_service_level=None if planned.lowest is None else planned.lowest[0],
                lowest_at=None if planned.lowest is None else slot_start(planned.lowest[1]),
                usual_service_level=None if today is None else today.service_level,
            )
        )
    return checks, recommended, usual


def hour_levels(
    slots: list[SlotPlan], recommended: Simulated | None, usual: Simulated | None
) -> list[HourLevel]:
    """Per day and hour; from the simulations when given, else from the half hours' Erlang C."""
    grouped: dict[tuple[dt.date, int], list[SlotPlan]] = defaultdict(list)
    for slot in slots:
        grouped[(slot.day, slot.starts_at.hour)].append(slot)

    def level(members: list[SlotPlan], simulated: Simulated | None, erlang: str) -> float | None:
        if simulated is None:
            return weighted((s.forecast, getattr(s, erlang)) for s in members)
        return weighted(simulated.get((s.day, s.slot), (0.0, None)) for s in members)

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
