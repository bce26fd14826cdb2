"""What a planned week holds: half hours, hourly service levels, simulated days, forecast accuracy."""

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from frontdesk.branches.models import Branch
from frontdesk.science.forecast import (
    ForecastError,
)

from ..selectors import SLOT_MINUTES, slot_start

# ---------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True, slots=True)
class ServiceDemand:
    """One service's part of the week: forecast, service time and its own counters' need."""

    service_id: int
    ticket_letter: str
    name: str
    forecast_arrivals: float  # over the week
    service_seconds: float  # counter time per customer, call to end (measured, configured or what-if)
    measured_from: int  # called visits the mean comes from; 0 = the configured duration
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
        return weighted((hour.forecast, hour.expected_service_level) for hour in self.hours)

    @property
    def recommended_service_level(self) -> float | None:
        """The week's share served within the target with the recommended counters."""
        return weighted((hour.forecast, hour.recommended_service_level) for hour in self.hours)

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
            "expected_service_level": round_level(self.expected_service_level),
            "recommended_service_level": round_level(self.recommended_service_level),
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
                    "recommended_service_level": round_level(slot.recommended_service_level),
                    "expected_service_level": round_level(slot.expected_service_level),
                    "expected_wait_seconds": round_wait(slot.expected_wait_seconds),
                }
                for slot in self.slots
            ],
            "hours": [
                {
                    "date": hour.day.isoformat(),
                    "hour": hour.hour,
                    "forecast": round(hour.forecast, 3),
                    "expected_service_level": round_level(hour.expected_service_level),
                    "recommended_service_level": round_level(hour.recommended_service_level),
                }
                for hour in self.hours
            ],
            "simulation": [
                {
                    "date": check.day.isoformat(),
                    "replications": check.replications,
                    "forecast": round(check.forecast, 2),
                    "simulated_arrivals": round(check.simulated_arrivals, 2),
                    "service_level": round_level(check.service_level),
                    "predicted_service_level": round_level(check.predicted_service_level),
                    "lowest_service_level": round_level(check.lowest_service_level),
                    "lowest_at": check.lowest_at.strftime("%H:%M") if check.lowest_at else None,
                    "usual_service_level": round_level(check.usual_service_level),
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


def round_level(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def round_wait(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 1)


def weighted(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    total = weight = 0.0
    for arrivals, level in pairs:
        if level is not None and arrivals > 0:
            total += arrivals * level
            weight += arrivals
    return total / weight if weight else None
