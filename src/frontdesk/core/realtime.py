"""Publishing domain events to websocket groups, only after the transaction commits.

Services call :func:`publish_on_commit`; nothing else sends to the channel layer. A failed send
(Redis down) is logged and dropped: the change is already committed, and boards and consoles
reload a full snapshot when they reconnect or poll, so a lost message costs freshness, never data.

With the cross-process layer (channels-redis's pub/sub layer) a request only queues the message:
one daemon thread per process publishes what is queued, in one pipelined round trip, with plain
redis-py, on the group's Redis channel and in the layer's own serialisation, so the consumers of
every ASGI process receive it as if ``group_send`` had sent it. The layer's ``group_send`` is a
coroutine, and running it on a background event loop cost about 0.5 ms of CPU per event in the
web process, a tenth of a call-next request (BENCHMARKS.md). A request never waits for Redis.
The in-process layer must be used from the server's own loop, so there the send hops to it with
``async_to_sync``.
"""

import logging
import queue
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 0.5
QUEUE_LIMIT = 10_000  # messages waiting for Redis; past it new ones are dropped (and logged)


async def _send_all(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            await layer.group_send(group, message)
        except Exception:  # the layer's failures are many (connection refused, timeout, closed)
            logger.warning("realtime publish to %s failed", group, exc_info=True)


class _RedisPublisher:
    """A daemon thread that publishes queued messages to one Redis, for one layer prefix."""

    def __init__(self, url: str, prefix: str, layer: RedisPubSubChannelLayer) -> None:
        self._prefix = prefix
        self._serialize = layer.serialize
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=SEND_TIMEOUT_SECONDS, socket_timeout=SEND_TIMEOUT_SECONDS
        )
        self._queue: queue.Queue[tuple[list[str], list[dict[str, Any]], Future[None]]] = queue.Queue(
            QUEUE_LIMIT
        )
        threading.Thread(target=self._run, name="frontdesk-publisher", daemon=True).start()

    def group_channel(self, group: str) -> str:
        """The Redis channel the pub/sub layer reads a group from (``RedisPubSubLoopLayer``)."""
        return f"{self._prefix}__group__{group}"

    def submit(self, groups: list[str], messages: list[dict[str, Any]]) -> Future[None]:
        done: Future[None] = Future()
        try:
            self._queue.put_nowait((groups, messages, done))
        except queue.Full:
            logger.warning("realtime publish dropped: %s messages wait for Redis", QUEUE_LIMIT)
            done.set_result(None)
        return done

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 256:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                pipe = self._client.pipeline(transaction=False)
                for groups, messages, _done in batch:
                    for message in messages:
                        data = self._serialize(message)
                        for group in groups:
                            pipe.publish(self.group_channel(group), data)
                pipe.execute()
            except redis.RedisError:
                logger.warning("realtime publish of %s messages failed", len(batch), exc_info=True)
            except Exception:  # a message the serialiser refuses must not stop the thread
                logger.exception("realtime publish of %s messages failed", len(batch))
            for _groups, _messages, done in batch:
                done.set_result(None)


_publishers: dict[tuple[str, str], _RedisPublisher] = {}
_publishers_lock = threading.Lock()


def _publisher(layer: RedisPubSubChannelLayer) -> _RedisPublisher:
    """The publisher for the configured Redis and prefix (tests point the layer elsewhere)."""
    layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
    config: dict[str, Any] = layers["default"].get("CONFIG", {})
    hosts = config.get("hosts") or ["redis://localhost:6379"]
    url = hosts[0] if isinstance(hosts[0], str) else hosts[0]["address"]
    key = (url, config.get("prefix", "asgi"))
    with _publishers_lock:
        if key not in _publishers:
            _publishers[key] = _RedisPublisher(key[0], key[1], layer)
        return _publishers[key]


def publish_now(groups: Iterable[str], *payloads: dict[str, Any]) -> Future[None] | None:
    """Send each payload to every group as a ``realtime.event`` message, in order; never raises.

    Returns the pending send when it runs in the background, so a caller that must know
    (a benchmark, a test) can wait for it. Several payloads go to Redis in one round trip.
    """
    now = time.time()
    messages = [
        {"type": "realtime.event", "payload": {**payload, "published_at": now}} for payload in payloads
    ]
    group_list = list(groups)
    try:
        layer = get_channel_layer()
        if isinstance(layer, RedisPubSubChannelLayer):
            return _publisher(layer).submit(group_list, messages)
        if layer is not None:
            for message in messages:
                async_to_sync(_send_all)(group_list, message)
    except Exception:
        logger.warning("realtime publish failed for %s", [p.get("type") for p in payloads], exc_info=True)
    return None


def publish_on_commit(groups: Iterable[str], *payloads: dict[str, Any]) -> None:
    """Publish the payloads after the current transaction commits (at once when there is none)."""
    group_list = list(groups)
    transaction.on_commit(lambda: publish_now(group_list, *payloads), robust=True)
