"""System checks of the shared kernel: the periodic schedule's setting (``manage.py check``)."""

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .schedule import periodic_jobs


def check_periodic_jobs(**kwargs: Any) -> list[checks.CheckMessage]:
    """A wrong task path, time or time zone in PERIODIC_JOBS fails ``check``, not the night's run."""
    try:
        periodic_jobs()
    except (ImproperlyConfigured, ImportError) as error:
        return [checks.Error(str(error), id="frontdesk.E001", hint="See frontdesk.core.schedule.")]
    return []
