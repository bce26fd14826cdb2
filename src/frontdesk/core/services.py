"""The shared kernel's writes: enqueue each periodic job once per period."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction

from . import clock
from .models import ScheduledRun
from .schedule import Period, PeriodicJob, periodic_jobs

logger = logging.getLogger(__name__)


def enqueue_once(*, job: PeriodicJob, period: Period, now: dt.datetime | None = None) -> ScheduledRun | None:
    """Enqueue ``job`` for ``period`` unless some worker already did; the run, or None if it existed.

    The run's row and the task are written in one transaction: a second worker's insert fails on the
    (job, period) constraint and rolls its enqueue back, so two workers racing enqueue one task.
    """
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(
                job=job.name, period_key=period.key, due_at=period.due_at, enqueued_at=now or clock.now()
            )
            result = job.task.enqueue()
            run.task_result_id = str(result.id)
            run.save(update_fields=["task_result_id"])
    except IntegrityError:
        return None
    logger.info("enqueued %s for %s (task %s)", job.name, period.key, run.task_result_id)
    return run


def enqueue_due_jobs(*, now: dt.datetime | None = None) -> list[ScheduledRun]:
    """One tick of the schedule: enqueue every job whose current period has no run yet."""
    moment = now or clock.now()
    enqueued = []
    for job in periodic_jobs():
        period = job.period_at(moment)
        if ScheduledRun.objects.filter(job=job.name, period_key=period.key).exists():
            continue  # the common case, without writing
        run = enqueue_once(job=job, period=period, now=moment)
        if run is not None:
            enqueued.append(run)
    return enqueued
