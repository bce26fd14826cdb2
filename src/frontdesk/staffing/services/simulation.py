"""The plan checked by the discrete-event simulator, one day at a time, and the service level per hour.

The simulation gives each service its own queue and service time and opens real counters with their
skills (``ServicePoint.services``): when a half hour has N counters (recommended or usually open),
``choose_counters`` says which.
"""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from frontdesk.science.simulation import Distribution
from frontdesk.science.staffing import ServiceDemandSpec, check_skilled_plan_by_simulation

from ..selectors import SLOT_MINUTES, CounterSkills, slot_start
from .plan import DayCheck, HourLevel, SlotPlan, weighted

SIMULATED_DAYS_PER_CHECK = 20
Simulated = dict[tuple[dt.date, int], tuple[float, float]]  # (day, slot) → (arrivals, service level)
OpenCounter = tuple[str, frozenset[str]]  # (name, services by id as text), as the simulator takes them


def choose_counters(
    counters: Sequence[CounterSkills], loads: Mapping[int, float], count: int
) -> list[CounterSkills]:
    """Which ``count`` counters are open in a half hour whose forecast load per service is ``loads``.

    One at a time, the next counter is the one whose services carry the most load per counter
    already open for them (the sum over its services of load / (1 + counters open for it)), ties
    in display order. So the first counter is the one that can take the most of the forecast, and
    later ones go where the load is still shared among the fewest counters; a service with load and
    no counter yet weighs most. The choice for N counters is the choice for N − 1 plus one.

    Past the branch's own counters the choice starts again over copies of them (a spare desk
    staffed like one of the branch's counters). A branch without counters gets counters that
    serve every service with load (the pooled queue).
    """
    if not counters:
        counters = [CounterSkills(0, "Counter", frozenset(loads))]
    chosen: list[CounterSkills] = []
    open_for: dict[int, int] = defaultdict(int)
    while len(chosen) < count:
        round_number, taken = divmod(len(chosen), len(counters))
        if taken == 0:
            left = list(counters)
        best = max(
            range(len(left)),
            key=lambda index: (
                math.fsum(loads.get(s, 0.0) / (1 + open_for[s]) for s in left[index].service_ids),
                -index,
            ),
        )
        counter = left.pop(best)
        if round_number:
            counter = CounterSkills(
                counter.service_point_id, f"{counter.name} (spare {round_number})", counter.service_ids
            )
        chosen.append(counter)
        for service_id in counter.service_ids:
            open_for[service_id] += 1
    return chosen


@dataclass(frozen=True, slots=True)
class _SimulatedDay:
    arrivals: float
    service_level: float | None
    lowest: tuple[float, int] | None  # weakest half hour with at least one customer: (level, slot)


def _simulate_day(
    day_slots: dict[int, SlotPlan],
    open_counters: Callable[[SlotPlan], list[OpenCounter]],
    *,
    service_times: Mapping[int, Distribution],
    target_seconds: float,
    seed: int,
    per_slot: Simulated,
) -> _SimulatedDay | None:
    """Run one day (first to last open half hour; closed ones in between have no counter)."""
    first, last = min(day_slots), max(day_slots)
    span = range(first, last + 1)
    demands = [
        ServiceDemandSpec(
            str(service_id),
            [day_slots[k].forecast_by_service.get(service_id, 0.0) if k in day_slots else 0.0 for k in span],
            service_time,
        )
        for service_id, service_time in service_times.items()
    ]
    demands = [demand for demand in demands if math.fsum(demand.arrivals) > 0]
    if not demands:
        return None
    offered = frozenset(demand.name for demand in demands)
    results = check_skilled_plan_by_simulation(
        demands,
        [
            [(name, services & offered) for name, services in open_counters(day_slots[k])]
            if k in day_slots
            else []
            for k in span
        ],
        target_seconds=target_seconds,
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
    slots: list[SlotPlan],
    *,
    counters: Sequence[CounterSkills],
    service_times: Mapping[int, Distribution],
    target_seconds: float,
) -> tuple[list[DayCheck], Simulated, Simulated]:
    """Simulate each open day with the recommended and with the usual counters (same seeds).

    Both open the counters ``choose_counters`` picks for the half hour's forecast: the same rule,
    so the two differ only in how many are open.
    """
    checks: list[DayCheck] = []
    recommended: Simulated = {}
    usual: Simulated = {}
    chosen: dict[tuple[dt.date, int], list[OpenCounter]] = {}
    for slot in slots:
        loads = {
            service_id: arrivals * service_times[service_id].mean_seconds
            for service_id, arrivals in slot.forecast_by_service.items()
            if service_id in service_times
        }
        chosen[(slot.day, slot.slot)] = [
            (counter.name, frozenset(str(service_id) for service_id in counter.service_ids))
            for counter in choose_counters(counters, loads, max(slot.recommended, slot.scheduled))
        ]

    def recommended_counters(slot: SlotPlan) -> list[OpenCounter]:
        return chosen[(slot.day, slot.slot)][: slot.recommended]

    def usual_counters(slot: SlotPlan) -> list[OpenCounter]:
        return chosen[(slot.day, slot.slot)][: slot.scheduled]

    by_day: dict[dt.date, dict[int, SlotPlan]] = defaultdict(dict)
    for slot in slots:
        by_day[slot.day][slot.slot] = slot
    for day, day_slots in sorted(by_day.items()):
        seed = day.toordinal()
        planned = _simulate_day(
            day_slots,
            recommended_counters,
            service_times=service_times,
            target_seconds=target_seconds,
            seed=seed,
            per_slot=recommended,
        )
        if planned is None:
            continue
        today = _simulate_day(
            day_slots,
            usual_counters,
            service_times=service_times,
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
