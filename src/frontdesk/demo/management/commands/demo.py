"""``frontdesk demo``: migrate, load the demo organisation if the database is empty, serve, and work."""

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from frontdesk.demo import builder


class Command(BaseCommand):
    help = "Set up the demo organisation on this database and start the server and the task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--seed", type=int, default=builder.DEFAULT_SEED)
        parser.add_argument("--no-serve", action="store_true", help="Only set up the data, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if builder.is_loaded():
            self.stdout.write("Demo data already loaded; keeping it.")
        else:
            self.stdout.write("Loading the demo organisation …")
            summary = builder.build(
                seed=options["seed"], progress=lambda line: self.stdout.write(f"  {line}")
            )
            self.stdout.write(summary)
            self.stdout.write("Fitting the waiting-time estimator on the history …")
            call_command("fit_wait_estimator", stdout=self.stdout)
        base = f"http://{options['host']}:{options['port']}"
        self.stdout.write(builder.addresses(base))
        if options["no_serve"]:
            return
        # The worker also stops by itself if this process is ended by a signal (the server's
        # signal handling skips the clean-up below).
        worker = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "worker", "--exit-with-parent"], env=os.environ.copy()
        )
        try:
            call_command("serve", host=options["host"], port=options["port"])
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=10)
