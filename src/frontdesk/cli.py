"""The ``frontdesk`` command: Django's management commands plus the product's own.

``frontdesk demo``, ``serve``, ``worker``, ``erlang``, ``create_api_token`` and every Django command
(``frontdesk migrate`` …) are management commands. ``frontdesk backtest`` and ``frontdesk forecast``
are the pure-Python science tools: they read log files and need no database, so they run without
setting Django up.
"""

import os
import sys
from collections.abc import Callable, Sequence


def _science_tools() -> dict[str, Callable[[Sequence[str] | None], int]]:
    from frontdesk.science import backtest, forecast

    return {"backtest": backtest.main, "forecast": forecast.main}


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments and arguments[0] in ("backtest", "forecast"):
        sys.exit(_science_tools()[arguments[0]](arguments[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["frontdesk", *arguments])
