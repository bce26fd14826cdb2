"""``frontdesk worker``: runs background tasks (django.tasks, database backend) and the periodic schedule."""

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from frontdesk.core import orphans, schedule, services

logger = logging.getLogger(__name__)


def tick() -> int:
    """One look at the schedule: enqueue the periodic jobs that are due; how many were."""
    return len(services.enqueue_due_jobs())


class ScheduleThread(threading.Thread):
    """Ticks the schedule every ``interval`` seconds beside the task loop, until stopped.

    A thread rather than a step of the task loop, so that a long task does not hold the schedule
    up; a daemon, so that it ends with the worker. A tick that fails (database briefly away) is
    logged and tried again at the next one; enqueueing is once per period whatever happens.
    """

    def __init__(self, interval: float) -> None:
        super().__init__(name="frontdesk-schedule", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                tick()
            except Exception:
                logger.exception("the periodic schedule could not be checked; trying again")
            finally:
                close_old_connections()  # this thread's own connection, as a request would
            if self.stopped.wait(self.interval):
                return


class Command(BaseCommand):
    help = (
        "Run the background task worker (database-backed django.tasks) and enqueue the periodic jobs "
        "(PERIODIC_JOBS, e.g. the nightly refit of the waiting-time estimator) when they are due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Enqueue the periodic jobs that are due, run the waiting tasks, then exit.",
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="Only run tasks; leave the periodic jobs to others."
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the process that started this worker ends (frontdesk demo uses it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = [] if options["no_schedule"] else schedule.periodic_jobs()  # a bad setting fails here
        if options["exit_with_parent"]:
            orphans.exit_when_orphaned()
        # No autoreload: the reloader's parent process would tick a second schedule (harmless, but
        # noise); restart the worker after changing code.
        worker_options: dict[str, Any] = {"verbosity": options["verbosity"], "reload": False}
        if options["batch"]:
            worker_options["batch"] = True
            if jobs:
                tick()
            call_command("db_worker", **worker_options)
            return
        thread = None
        if jobs:
            names = ", ".join(f"{job.name} at {job.daily_at:%H:%M}" for job in jobs)
            self.stderr.write(f"periodic jobs ({jobs[0].time_zone.key}): {names}")
            thread = ScheduleThread(schedule.tick_seconds())
            thread.start()
        try:
            call_command("db_worker", **worker_options)
        finally:
            if thread is not None:
                thread.stopped.set()
