"""``frontdesk plan``: a branch's staffing plan for a week, as a table or JSON."""

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.core.errors import DomainError
from frontdesk.staffing import selectors, services


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--week: {text!r} is not a date (YYYY-MM-DD).") from error


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


class Command(BaseCommand):
    help = (
        "Forecast a branch's week and recommend counters per half hour for a service level (Erlang C, "
        "checked by simulation), beside the counters usually open. Cells read recommended/usually open; "
        "! marks half hours short of counters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="The branch's short name (slug).")
        parser.add_argument("--week", type=_date, help="Any day of the week to plan (default: next week).")
        parser.add_argument(
            "--target", type=float, default=0.8, help="Share to call within the target time (default 0.8)."
        )
        parser.add_argument(
            "--target-minutes", type=float, default=10.0, help="The target time in minutes (default 10)."
        )
        parser.add_argument(
            "--service-minutes",
            type=float,
            help="What-if: one counter time per customer (call to end of visit) for every service.",
        )
        parser.add_argument("--no-simulation", action="store_true", help="Skip the simulation check.")
        parser.add_argument("--json", action="store_true", help="Print the whole plan as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            branch = selectors.branch_get(slug=options["branch"])
            plan = services.plan_week(
                branch=branch,
                week_start=options["week"],
                target_service_level=options["target"],
                target_seconds=options["target_minutes"] * 60,
                service_minutes_override=options["service_minutes"],
                simulate=not options["no_simulation"],
            )
        except DomainError as error:
            prefix = f"--{error.field.replace('_', '-')}: " if error.field else ""
            raise CommandError(prefix + error.message) from error
        if options["json"]:
            self.stdout.write(json.dumps(plan.as_dict(), indent=2, ensure_ascii=False))
            return
        self._table(plan)

    def _table(self, plan: services.WeekPlan) -> None:
        write = self.stdout.write
        write(f"{plan.branch.name} · week of {plan.week_start:%Y-%m-%d} ({plan.branch.time_zone})")
        write(
            f"target: {plan.target_service_level:.0%} called within {plan.target_seconds / 60:g} min · "
            "services pooled (Erlang C) · cells: recommended/usually open, ! = short"
        )
        write("")
        days = plan.open_days
        if not days:
            write("The branch is closed all week.")
            return
        by_key = {(slot.day, slot.slot): slot for slot in plan.slots}
        width = 9
        write("time      " + "".join(f"{day:%a %d}".rjust(width) for day in days))
        for k in sorted({slot.slot for slot in plan.slots}):
            cells = []
            for day in days:
                slot = by_key.get((day, k))
                text = (
                    ""
                    if slot is None
                    else f"{slot.recommended}/{slot.scheduled}" + ("!" if slot.gap > 0 else " ")
                )
                cells.append(text.rjust(width))
            write(f"{selectors.slot_start(k):%H:%M}     " + "".join(cells))
        checks = {check.day: check for check in plan.checks}
        totals = {day: sum(s.forecast for s in plan.slots if s.day == day) for day in days}
        write("customers " + "".join(f"{totals[day]:.0f} ".rjust(width) for day in days))
        if checks:
            write(
                "simulated "
                + "".join(
                    f"{_percent(checks[d].service_level if d in checks else None)} ".rjust(width)
                    for d in days
                )
            )
            write(
                "usual     "
                + "".join(
                    f"{_percent(checks[d].usual_service_level if d in checks else None)} ".rjust(width)
                    for d in days
                )
            )
        write("")
        write(
            f"week: {plan.forecast_total:.0f} customers expected; "
            f"counter-hours {plan.recommended_counter_hours:g} recommended, "
            f"{plan.scheduled_counter_hours:g} usually open; "
            f"served in time: {_percent(plan.recommended_service_level)} recommended, "
            f"{_percent(plan.expected_service_level)} usual"
        )
        for service in plan.services:
            source = (
                f"measured on {service.measured_from} visits"
                if service.measured_from
                else "configured or what-if"
            )
            write(
                f"  {service.ticket_letter} {service.name}: {service.forecast_arrivals:.0f} customers, "
                f"{service.service_seconds / 60:.1f} min ({source})"
            )
        if plan.accuracy:
            ours, baseline = plan.accuracy.frontdesk_total, plan.accuracy.same_weekday_total
            write(
                f"forecast error on the last {plan.accuracy.held_out_days} days "
                f"(branch, per half hour, WAPE): {ours.wape:.1%} vs same-weekday average {baseline.wape:.1%}"
            )
        for note in plan.notes:
            write(f"note: {note}")
