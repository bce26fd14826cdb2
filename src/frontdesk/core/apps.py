from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "frontdesk.core"
    label = "core"

    def ready(self) -> None:
        from .checks import check_periodic_jobs

        checks.register(check_periodic_jobs)
