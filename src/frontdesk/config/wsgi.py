"""WSGI entry point, for serving plain HTTP beside an ASGI process group for websockets.

Static files are served by servestatic's WSGI wrapper here (from the collected STATIC_ROOT) rather
than its middleware, which is async-only and would make Django run an event loop for every request
(BENCHMARKS.md, setup b'). Without collected files, the ASGI group or the proxy serves /static/.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.config.settings.base")
os.environ["FRONTDESK_WSGI"] = "1"

from django.conf import settings  # (imported after the environment is set)
from django.core.wsgi import get_wsgi_application
from servestatic import ServeStatic

application = get_wsgi_application()
if settings.STATIC_ROOT and os.path.isdir(settings.STATIC_ROOT):  # after `frontdesk collectstatic`
    application = ServeStatic(application, root=str(settings.STATIC_ROOT), prefix=settings.STATIC_URL)
