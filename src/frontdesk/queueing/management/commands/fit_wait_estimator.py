"""``frontdesk fit_wait_estimator``: fit the waiting-time estimator on recent visits and store it."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.branches.models import Branch
from frontdesk.core.errors import DomainError
from frontdesk.queueing import estimates


class Command(BaseCommand):
    help = (
        "Fit the waiting-time estimator shown to customers on the last weeks of visits and store it: "
        "one branch (--branch), or every active branch and then the network-wide fallback (the nightly task)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--branch", metavar="SLUG", help="only this branch (default: every branch, then the network)"
        )
        parser.add_argument(
            "--weeks",
            type=int,
            default=estimates.DEFAULT_WEEKS,
            help=f"weeks of history to learn from (default {estimates.DEFAULT_WEEKS})",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        weeks: int = options["weeks"]
        if weeks < 1:
            raise CommandError("--weeks must be at least 1.")
        if options["branch"]:
            branch = Branch.objects.filter(slug=options["branch"]).first()
            if branch is None:
                raise CommandError(f"No branch {options['branch']!r}.")
            self.stderr.write(f"fitting {branch.name} on {weeks} week(s) of visits …")
            try:
                model = estimates.fit_and_store_wait_estimator(branch=branch, weeks=weeks)
            except DomainError as error:
                raise CommandError(error.message) from error
            results = [estimates.RefitResult(branch.slug, model)]
        else:
            self.stderr.write(f"fitting every active branch, then the network, on {weeks} week(s) …")
            results = estimates.refit_wait_estimators(weeks=weeks)
        rows = [result.as_dict() for result in results]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            where = row["branch"] or "network-wide"
            if row["model_id"] is None:
                self.stdout.write(f"{where}: not fitted: {row['error']}")
            else:
                self.stdout.write(f"{where}: fitted on {row['n_waits']} waits (model {row['model_id']})")
