"""Read-only history in admin: visits and their transitions are facts, changed only by services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CounterSession, Visit, VisitTransition, WaitEstimatorModel


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VisitTransitionInline(ReadOnlyAdminMixin, admin.TabularInline[VisitTransition, Visit]):
    model = VisitTransition
    extra = 0
    fields = (
        "at",
        "action",
        "from_status",
        "to_status",
        "staff_member",
        "service_point",
        "service",
        "reason",
    )
    readonly_fields = fields


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Visit]):
    list_display = [
        "ticket_code",
        "branch",
        "service",
        "status",
        "arrived_at",
        "called_at",
        "service_point",
        "outcome",
    ]
    list_filter = ["branch", "status", "service", "channel", "business_date"]
    date_hierarchy = "arrived_at"
    search_fields = ["ticket_code", "customer_name"]
    list_select_related = ["branch", "service", "service_point"]
    inlines = [VisitTransitionInline]


@admin.register(CounterSession)
class CounterSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[CounterSession]):
    list_display = ["service_point", "staff_member", "started_at", "ended_at"]
    list_filter = ["service_point__branch"]
    list_select_related = ["service_point", "staff_member"]


@admin.register(WaitEstimatorModel)
class WaitEstimatorModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[WaitEstimatorModel]):
    list_display = ["fitted_at", "branch", "n_waits"]
    list_filter = ["branch"]
    exclude = ["parameters"]
