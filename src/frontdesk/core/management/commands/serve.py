"""``frontdesk serve``: the ASGI server (HTTP and websockets) with uvicorn."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Frontdesk over HTTP and websockets (uvicorn, ASGI)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument(
            "--workers", type=int, default=1, help="Processes; use REDIS_URL when more than one."
        )
        parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning).")

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        uvicorn.run(
            "frontdesk.config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            log_level=options["log_level"],
            proxy_headers=True,
            lifespan="off",
        )
