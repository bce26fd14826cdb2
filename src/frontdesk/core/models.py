"""The shared kernel's one table: which periodic job was enqueued for which period."""

from django.db import models


class ScheduledRun(models.Model):
    """One periodic job enqueued for one period (``frontdesk.core.schedule``).

    The unique pair (job, period) is what makes a period's run happen once, however many workers
    tick at the same moment: each inserts this row and enqueues the task in one transaction, and the
    insert of every worker but the first fails on the constraint, taking its enqueue back with it.
    """

    job = models.CharField(max_length=100)
    period_key = models.CharField(max_length=40, help_text="The period's local date for a daily job.")
    due_at = models.DateTimeField(help_text="When the job was due in that period.")
    enqueued_at = models.DateTimeField()
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-due_at", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "period_key"], name="scheduled_run_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} for {self.period_key}"
