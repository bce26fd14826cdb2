"""Bench-only settings variant for the WSGI process group: without the async-only middleware.

``servestatic.middleware.ServeStaticMiddleware`` is async-only, so under WSGI Django wraps it
with ``async_to_sync`` and every request starts an event loop. Here it is left out (static files
would be served by the ASGI group or the reverse proxy), to measure what the recommended src
change buys. It changes nothing in ``src``: granian is started with
``DJANGO_SETTINGS_MODULE=bench.settings_wsgi``.
"""

from frontdesk.config.settings.base import *  # noqa: F403
from frontdesk.config.settings.base import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m != "servestatic.middleware.ServeStaticMiddleware"]
