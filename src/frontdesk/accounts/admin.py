from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "branches", "is_active"]
    filter_horizontal = ["branches", "services", "groups", "user_permissions"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Frontdesk", {"fields": ("role", "branches", "services")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "prefix", "staff_member", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at"]
    exclude = ["key_hash"]
