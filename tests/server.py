"""A real Frontdesk server process for tests that need websockets or several processes.

It serves the test database (created by pytest-django), so data a ``transaction=True`` test
creates is what the server sees.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_children() -> str:
    """The URL of the database this test runs on, for a child process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    user = settings.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def wait_until_ready(base_url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url + "/api/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server at {base_url} did not start")


@contextmanager
def running_server(
    *, redis_url: str | None = None, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start ``frontdesk serve`` on a free port; yield its base URL; stop it afterwards."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_children(),
        "DJANGO_SETTINGS_MODULE": "frontdesk.config.settings.test",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after the process ends)
    process = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(base)
        except TimeoutError:
            log.seek(0)
            raise TimeoutError(f"server did not start:\n{log.read().decode(errors='replace')}") from None
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
