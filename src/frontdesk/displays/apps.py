from django.apps import AppConfig


class DisplaysConfig(AppConfig):
    name = "frontdesk.displays"
    label = "displays"
    verbose_name = "Display boards and live screens"
