"""``frontdesk worker``: runs background tasks (django.tasks, database backend)."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background task worker (database-backed django.tasks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run the waiting tasks, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_options: dict[str, Any] = {"verbosity": options["verbosity"]}
        if options["batch"]:
            worker_options["batch"] = True
        call_command("db_worker", **worker_options)
