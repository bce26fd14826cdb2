"""Real processes for the realtime tests: a throw-away Redis, Frontdesk servers, a websocket board.

Every process is started by a context manager or fixture that stops it again, whatever happens, so
no test leaves a server or a Redis behind. Servers read the test database that pytest-django made
(the test must use ``transaction=True`` so they see its rows).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from django.db import connection
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen[Any] | None, *, grace: float = 5.0) -> None:
    """Terminate a process we started, then kill it if it does not go within ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


# ---------------------------------------------------------------------------------------------
# Redis


def redis_ping(port: int, *, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A private ``redis-server`` on a free port that the test may stop and start again."""

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> None:
        assert self.process is None or self.process.poll() is not None, "redis is already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not redis_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{_tail(self.log)}")
            time.sleep(0.02)

    def stop(self) -> None:
        stop_process(self.process)
        # Once the process has gone nothing listens on the port any more: a refused connection.
        assert not redis_ping(self.port), f"something still answers on port {self.port}"


@contextmanager
def running_redis(log_dir: Path) -> Iterator[RedisServer]:
    redis = RedisServer(log_dir)
    redis.start()
    try:
        yield redis
    finally:
        stop_process(redis.process)


# ---------------------------------------------------------------------------------------------
# The test database, as another process must name it


def database_url_for_subprocess() -> str:
    """A ``DATABASE_URL`` for the database this test runs on (the test database, not the real one)."""
    settings = connection.settings_dict
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        path = Path(settings["NAME"]).resolve()
        return f"sqlite:///{path}"
    assert settings["ENGINE"] == "django.db.backends.postgresql", settings["ENGINE"]
    user = quote(settings.get("USER") or "")
    password = settings.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings['NAME'])}"


# ---------------------------------------------------------------------------------------------
# Frontdesk servers


class FrontdeskServer:
    """``python -m frontdesk serve`` on a free port, against the test database and a given Redis."""

    def __init__(self, log_dir: Path, *, redis_url: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.redis_url = redis_url
        self.log = log_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> None:
        self.launch()
        self.wait_ready(timeout=timeout)

    def launch(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "frontdesk.config.settings.test",
            "DATABASE_URL": database_url_for_subprocess(),
            "REDIS_URL": self.redis_url,
            "DATABASE_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "frontdesk", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        """Poll ``GET /api/health`` until it answers 200."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server on port {self.port} exited:\n{_tail(self.log)}")
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"server on port {self.port} did not answer /api/health:\n{_tail(self.log)}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process)

    def log_tail(self) -> str:
        return _tail(self.log)

    def api(self, token: str) -> httpx.Client:
        """An HTTP client acting as the owner of an API token."""
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def board(self, branch_slug: str) -> ClientConnection:
        """A websocket connected to a branch stream, as a display board opens it (same-origin)."""
        return ws_connect(
            f"{self.ws_base_url}/ws/branches/{branch_slug}/",
            origin=Origin(self.base_url),
            open_timeout=5,
            close_timeout=1,
        )


@contextmanager
def running_servers(log_dir: Path, *, redis_url: str, count: int = 1) -> Iterator[list[FrontdeskServer]]:
    servers = [FrontdeskServer(log_dir, redis_url=redis_url) for _ in range(count)]
    try:
        for server in servers:  # start them side by side, then wait for each
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


# ---------------------------------------------------------------------------------------------
# Reading a board's frames


def next_frame(
    board: ClientConnection, matches: Callable[[dict[str, Any]], bool], *, timeout: float
) -> dict[str, Any] | None:
    """The first JSON frame that ``matches`` within ``timeout`` seconds (others are skipped), or None."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            raw = board.recv(timeout=left)
        except TimeoutError:
            return None
        frame = json.loads(raw)
        if matches(frame):
            return dict(frame)
    return None


def is_call_of(ticket_code: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == "visit.call" and frame.get("ticket_code") == ticket_code
