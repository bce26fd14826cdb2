from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .models import Branch, OpeningHours, Service, ServicePoint


class OpeningHoursInline(admin.TabularInline[OpeningHours, Branch]):
    model = OpeningHours
    extra = 0


class ServicePointInline(admin.TabularInline[ServicePoint, Branch]):
    model = ServicePoint
    extra = 0
    filter_horizontal = ["services"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin[Branch]):
    list_display = ["name", "slug", "time_zone", "max_wait_minutes", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["services"]
    inlines = [OpeningHoursInline, ServicePointInline]


@admin.register(Service)
class ServiceAdmin(TranslationAdmin[Service]):
    list_display = ["ticket_letter", "name", "expected_duration_minutes"]


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin[ServicePoint]):
    list_display = ["name", "branch", "is_active"]
    list_filter = ["branch"]
    filter_horizontal = ["services"]
