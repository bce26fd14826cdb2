from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ScheduledRun


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin[ScheduledRun]):
    """What the schedule enqueued. Written by the worker only; deleting a row of the current period
    has the job enqueued again at the worker's next tick."""

    list_display = ["job", "period_key", "due_at", "enqueued_at", "task_result_id"]
    list_filter = ["job"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
