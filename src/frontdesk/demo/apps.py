from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "frontdesk.demo"
    label = "demo"
    verbose_name = "Demo organisation"
