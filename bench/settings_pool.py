"""Bench-only settings variant: the shipped settings plus a psycopg connection pool.

Used by ``bench.http`` to measure the change recommended for ASGI deployments (Django's docs:
persistent connections should be disabled under ASGI; use the database driver's pool). It changes
nothing in ``src``: the server is started with ``DJANGO_SETTINGS_MODULE=bench.settings_pool``.
"""

from frontdesk.config.settings.base import *  # noqa: F403
from frontdesk.config.settings.base import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 4, "max_size": 16, "timeout": 10}
