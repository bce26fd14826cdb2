"""One place to ask for the time, so tests can travel (time-machine) and code stays honest."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The calendar day at ``moment`` in a branch's time zone (ticket numbers restart on it)."""
    return moment.astimezone(ZoneInfo(time_zone)).date()
