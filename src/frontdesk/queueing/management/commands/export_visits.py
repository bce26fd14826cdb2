"""``frontdesk export_visits``: a branch's visit history as the CSV that ``frontdesk backtest`` reads."""

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.branches.models import Branch
from frontdesk.core.errors import DomainError
from frontdesk.queueing import estimates


class Command(BaseCommand):
    help = (
        "Write a branch's visits (check-ins from --from to --to, its local days, both included) as the "
        "visit CSV of frontdesk.science.visit_log: one row per stay in a queue, times on the branch's "
        "wall clock. Replay it with `frontdesk backtest --format demo --fit FILE --test FILE`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, metavar="SLUG", help="the branch's short name")
        parser.add_argument(
            "--from", dest="first_day", required=True, type=dt.date.fromisoformat, metavar="DATE"
        )
        parser.add_argument(
            "--to", dest="last_day", required=True, type=dt.date.fromisoformat, metavar="DATE"
        )
        parser.add_argument(
            "--out", default="-", metavar="FILE", help="where to write (default: standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        branch = Branch.objects.filter(slug=options["branch"]).first()
        if branch is None:
            raise CommandError(f"No branch {options['branch']!r}.")
        first_day: dt.date = options["first_day"]
        last_day: dt.date = options["last_day"]
        if last_day < first_day:  # before the file is opened, so that a mistake leaves nothing behind
            raise CommandError("The last day comes before the first.")
        try:
            if options["out"] == "-":
                rows = estimates.export_visit_log(
                    branch=branch, first_day=first_day, last_day=last_day, handle=sys.stdout
                )
            else:
                with Path(options["out"]).open("w", newline="", encoding="utf-8") as handle:
                    rows = estimates.export_visit_log(
                        branch=branch, first_day=first_day, last_day=last_day, handle=handle
                    )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stderr.write(f"{branch.name}: {rows} stays in a queue from {first_day} to {last_day}")
