from django.apps import AppConfig


class QueueingConfig(AppConfig):
    name = "frontdesk.queueing"
    label = "queueing"
    verbose_name = "Walk-in queue"
