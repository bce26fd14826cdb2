"""The ``frontdesk`` command: Django's management commands plus the product's own.

``frontdesk demo``, ``frontdesk serve``, ``frontdesk worker``, ``frontdesk erlang`` and every
Django command (``frontdesk migrate``, ``frontdesk createsuperuser`` …) go through here.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["frontdesk", *(sys.argv[1:] if argv is None else argv)])
