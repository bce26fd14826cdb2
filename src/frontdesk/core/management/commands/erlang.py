"""``frontdesk erlang``: the Erlang C/A calculator for managers and scripts."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.science.cli_erlang import run_erlang


class Command(BaseCommand):
    help = (
        "Probability of waiting, service level, average wait and occupancy for a number of agents "
        "(Erlang C, or Erlang A with --patience-minutes); without --agents, the fewest agents that meet "
        "--service-level."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--arrivals-per-hour", type=float, required=True, help="Customers arriving per hour."
        )
        parser.add_argument(
            "--service-minutes", type=float, required=True, help="Mean service time in minutes."
        )
        parser.add_argument(
            "--agents", type=int, help="Counters/staff open; leave out to compute the fewest needed."
        )
        parser.add_argument(
            "--target-seconds", type=float, default=600.0, help="Answer within this (default 600)."
        )
        parser.add_argument("--patience-minutes", type=float, help="Mean patience: switches to Erlang A.")
        parser.add_argument(
            "--service-level", type=float, help="Share to serve within the target (default 0.8)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = run_erlang(
                arrivals_per_hour=options["arrivals_per_hour"],
                service_minutes=options["service_minutes"],
                agents=options["agents"],
                target_seconds=options["target_seconds"],
                patience_minutes=options["patience_minutes"],
                service_level=options["service_level"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        wait = result["average_wait_seconds"]
        rows = [
            ("model", "Erlang A" if result["model"] == "erlang_a" else "Erlang C"),
            ("traffic", f"{result['traffic_erlangs']:.3f} Erlangs"),
            (
                "agents",
                str(result["agents"])
                + ("" if options["agents"] is not None else " (fewest that meet the target)"),
            ),
            ("probability of waiting", f"{result['probability_waiting']:.4f}"),
            (f"served within {options['target_seconds']:g} s", f"{result['service_level']:.4f}"),
            ("average wait", "unbounded (overloaded)" if wait is None else f"{wait:.1f} s"),
            ("occupancy", f"{result['occupancy']:.3f}"),
        ]
        if result["model"] == "erlang_a":
            rows.append(("probability of abandoning", f"{result['abandonment_probability']:.4f}"))
        rows.append(("meets the service level", "yes" if result["meets_service_level"] else "no"))
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            self.stdout.write(f"{label:<{width}}  {value}")
