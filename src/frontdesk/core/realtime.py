"""Publishing domain events to websocket groups, only after the transaction commits.

Services call :func:`publish_on_commit`; nothing else sends to the channel layer. A failed send
(Redis down) is logged and dropped: the change is already committed, and boards and consoles
reload a full snapshot when they reconnect or poll, so a lost message costs freshness, never data.

With a cross-process layer (Redis) the sends run on one long-lived event loop in a background
thread, so a request never waits for Redis and a WSGI process does not open a connection per
request. The in-process layer must be used from the server's own loop, so there the send hops
to it with ``async_to_sync``.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 0.5


async def _send_all(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            await asyncio.wait_for(layer.group_send(group, message), timeout=SEND_TIMEOUT_SECONDS)
        except Exception:  # the layer's failures are many (connection refused, timeout, pool)
            logger.warning("realtime publish to %s failed", group, exc_info=True)


class _BackgroundLoop:
    """One daemon thread running an event loop that owns the cross-process layer's connections."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="frontdesk-publisher", daemon=True).start()
                self._loop = loop
            return self._loop

    def submit(self, groups: list[str], message: dict[str, Any]) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(_send_all(groups, message), self.loop())


_background = _BackgroundLoop()


def publish_now(groups: Iterable[str], payload: dict[str, Any]) -> Future[None] | None:
    """Send ``payload`` to every group as a ``realtime.event`` message; never raises.

    Returns the pending send when it runs in the background, so a caller that must know
    (a benchmark, a test) can wait for it.
    """
    message = {"type": "realtime.event", "payload": {**payload, "published_at": time.time()}}
    group_list = list(groups)
    try:
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            async_to_sync(_send_all)(group_list, message)
            return None
        return _background.submit(group_list, message)
    except Exception:
        logger.warning("realtime publish failed for %s", payload.get("type"), exc_info=True)
        return None


def publish_on_commit(groups: Iterable[str], payload: dict[str, Any]) -> None:
    """Publish after the current transaction commits (at once when there is none)."""
    group_list = list(groups)
    transaction.on_commit(lambda: publish_now(group_list, payload), robust=True)
