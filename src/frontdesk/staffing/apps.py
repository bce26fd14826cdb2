from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "frontdesk.staffing"
    label = "staffing"
    verbose_name = "Staffing planner"
