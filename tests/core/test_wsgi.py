"""The WSGI entry point answers plain HTTP without the async-only static middleware."""

import subprocess
import sys

SCRIPT = """
import io, json, os, sys
from wsgiref.util import setup_testing_defaults
from frontdesk.config.wsgi import application
from django.conf import settings
environ = {"PATH_INFO": "/api/health", "REQUEST_METHOD": "GET", "HTTP_HOST": "localhost"}
setup_testing_defaults(environ)
status = []
body = b"".join(application(environ, lambda s, h, e=None: status.append(s)))
print(json.dumps({"status": status[0], "body": body.decode(),
                  "static_middleware": any("servestatic" in m for m in settings.MIDDLEWARE)}))
"""


def test_wsgi_application_serves_the_api_without_the_async_middleware(tmp_path):
    import json

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
            "FRONTDESK_DATA_DIR": str(tmp_path),
        },
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"].startswith("200")
    assert json.loads(answer["body"]) == {"status": "ok"}
    assert answer["static_middleware"] is False
