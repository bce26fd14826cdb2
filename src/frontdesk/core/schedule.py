"""Periodic jobs: which background task runs when, and which period a moment belongs to.

Django's tasks API runs what is enqueued but has no schedule of its own, so the worker
(``frontdesk worker``) ticks every ``SCHEDULE_TICK_SECONDS`` and enqueues each job whose time has
come (``core.services.enqueue_due_jobs``). A job is declared in the ``PERIODIC_JOBS`` setting:

    PERIODIC_JOBS = {
        "refit_wait_estimators": {
            "task": "frontdesk.queueing.tasks.refit_wait_estimators",
            "daily_at": "02:30",
        },
    }

``daily_at`` is a wall-clock time in ``SCHEDULE_TIME_ZONE``. A day's period starts at that time and
lasts until the next day's: its key is the local date (``2026-05-12``). A tick enqueues the job for
the period the moment falls in, once (a ``ScheduledRun`` row per job and period). So a worker that
was down at 02:30 enqueues the job when it comes back, and a worker that was down for several
nights enqueues it once, not once per missed night. On the night clocks go forward, a time that
does not exist (02:30 in Europe/Madrid) is read with the offset before the change (03:30 summer time);
on the night they go back, the first of the two 02:30s counts.

The task is named by its dotted path (like Django's own ``TASKS`` backends) because ``core`` may not
import the contexts whose tasks it runs.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task
from django.utils.module_loading import import_string

DEFAULT_TICK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Period:
    """One run's slot: the job's key for it and the moment (UTC) it became due."""

    key: str
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """A task enqueued once a day at a wall-clock time of ``time_zone``."""

    name: str
    task_path: str
    daily_at: dt.time
    time_zone: ZoneInfo

    @property
    def task(self) -> Task[[], Any]:
        task = import_string(self.task_path)
        if not isinstance(task, Task):
            raise ImproperlyConfigured(
                f"PERIODIC_JOBS[{self.name!r}]: {self.task_path} is not a task (decorate it with @task)."
            )
        return task

    def period_at(self, moment: dt.datetime) -> Period:
        """The period ``moment`` falls in: the latest day whose ``daily_at`` is at or before it."""
        local = moment.astimezone(self.time_zone)
        for day in (local.date(), local.date() - dt.timedelta(days=1)):
            due = dt.datetime.combine(day, self.daily_at, tzinfo=self.time_zone).astimezone(dt.UTC)
            if due <= moment:
                return Period(day.isoformat(), due)
        raise AssertionError("unreachable: yesterday's time is always before now")  # pragma: no cover


def _parse_time(name: str, text: object) -> dt.time:
    try:
        return dt.time.fromisoformat(str(text))
    except ValueError as error:
        raise ImproperlyConfigured(f"PERIODIC_JOBS[{name!r}]: daily_at {text!r} is not HH:MM.") from error


def schedule_time_zone() -> ZoneInfo:
    name = getattr(settings, "SCHEDULE_TIME_ZONE", settings.TIME_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ImproperlyConfigured(f"SCHEDULE_TIME_ZONE {name!r} is not a time zone.") from error


def periodic_jobs() -> list[PeriodicJob]:
    """The jobs of the ``PERIODIC_JOBS`` setting, checked (``ImproperlyConfigured`` names what is wrong)."""
    zone = schedule_time_zone()
    jobs = []
    for name, spec in getattr(settings, "PERIODIC_JOBS", {}).items():
        if not isinstance(spec, dict) or not {"task", "daily_at"} <= spec.keys():
            raise ImproperlyConfigured(f"PERIODIC_JOBS[{name!r}] needs 'task' and 'daily_at'.")
        job = PeriodicJob(str(name), str(spec["task"]), _parse_time(name, spec["daily_at"]), zone)
        job.task  # noqa: B018 — import it now, so a wrong path fails at start-up rather than at night
        jobs.append(job)
    return jobs


def tick_seconds() -> float:
    return float(getattr(settings, "SCHEDULE_TICK_SECONDS", DEFAULT_TICK_SECONDS))
