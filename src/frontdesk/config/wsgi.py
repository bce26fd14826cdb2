"""WSGI entry point, for serving plain HTTP beside an ASGI process group for websockets."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.config.settings.base")
application = get_wsgi_application()
