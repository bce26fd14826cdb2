"""Publishing domain events to websocket groups, only after the transaction commits.

Services call :func:`publish_on_commit`; nothing else sends to the channel layer. The events of one
publish travel as one ``realtime.events`` message per group, which the consumers unpack into one
websocket frame per event. A failed send (Redis down) is logged and dropped: the change is already
committed, and boards and consoles reload a full snapshot when they reconnect or poll, so a lost
message costs freshness, never data.

With the cross-process layer (channels-redis's pub/sub layer) the message is published with plain
redis-py on the group's Redis channel, in the layer's own serialisation, so the consumers of every
ASGI process receive it as if ``group_send`` had sent it. The layer's ``group_send`` is a coroutine,
and running it on a background event loop cost about 0.5 ms of CPU per event (BENCHMARKS.md).
The request's own thread publishes, on a connection of its own, one round trip on loopback:
handing the message to a publishing thread cost the process 0.5–1 ms of CPU per press in thread
switches, an eighth to a fifth of the press (BENCHMARKS.md). So that a request never waits on a
dead Redis, a failed publish (or one slower than ``DIRECT_TIMEOUT_SECONDS``) sends the next
``HAND_OVER_SECONDS`` of messages to a daemon thread instead, which keeps trying in the
background and finds Redis again when it returns.
The in-process layer must be used from the server's own loop, so there the send hops to it with
``async_to_sync``.
"""

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

DIRECT_TIMEOUT_SECONDS = 0.2  # a request waits at most this long on Redis, once per hand-over
HAND_OVER_SECONDS = 2.0  # after a failed publish, requests leave Redis to the thread this long
SEND_TIMEOUT_SECONDS = 0.5  # the background thread's own patience
QUEUE_LIMIT = 10_000  # messages waiting for the background thread; past it new ones are dropped

type _Message = dict[str, Any]


async def _send_all(groups: list[str], message: _Message) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            await layer.group_send(group, message)
        except Exception:  # the layer's failures are many (connection refused, timeout, closed)
            logger.warning("realtime publish to %s failed", group, exc_info=True)


class _RedisPublisher:
    """Publishes to one Redis, for one layer prefix: from the caller's thread while Redis answers,
    through a daemon thread for a while after it did not."""

    def __init__(self, url: str, prefix: str, layer: RedisPubSubChannelLayer) -> None:
        self._url = url
        self._prefix = prefix
        self._serialize = layer.serialize
        self._pool = redis.Redis.from_url(
            url, socket_connect_timeout=DIRECT_TIMEOUT_SECONDS, socket_timeout=DIRECT_TIMEOUT_SECONDS
        ).connection_pool
        self._threads = threading.local()  # each request thread's own connection
        self._direct_from = 0.0  # time.monotonic() before which messages go to the thread
        self._queue: queue.Queue[tuple[list[str], _Message]] | None = None
        self._queue_lock = threading.Lock()

    def group_channel(self, group: str) -> str:
        """The Redis channel the pub/sub layer reads a group from (``RedisPubSubLoopLayer``)."""
        return f"{self._prefix}__group__{group}"

    def publish(self, groups: list[str], message: _Message) -> None:
        if time.monotonic() >= self._direct_from:
            try:
                self._send_direct(self._commands([(groups, message)]))
                return
            except redis.RedisError:
                self._direct_from = time.monotonic() + HAND_OVER_SECONDS
                logger.warning(
                    "realtime publish failed; the next %s s go through the background thread",
                    HAND_OVER_SECONDS,
                    exc_info=True,
                )
        self._hand_over(groups, message)

    def _commands(self, batch: list[tuple[list[str], _Message]]) -> list[tuple[str, bytes]]:
        return [
            (self.group_channel(group), data)
            for groups, message in batch
            for data in [self._serialize(message)]
            for group in groups
        ]

    def _send_direct(self, commands: list[tuple[str, bytes]]) -> None:
        """``PUBLISH`` on this thread's own connection, all commands in one write.

        redis-py's client checks a connection out of its pool and back for every command, with
        a readiness poll, retries and instrumentation around it: about 69 µs of CPU per publish
        on loopback against 39 µs on a connection held (BENCHMARKS.md). A thread keeps one;
        on any failure it is closed, to be opened again by the next publish. (The background
        thread, which sends batches, keeps the client and its pipeline.)
        """
        connection: Any = getattr(self._threads, "connection", None)
        if connection is None or self._threads.pid != os.getpid():  # none yet, or the parent's before a fork
            connection = self._threads.connection = self._pool.make_connection()
            self._threads.pid = os.getpid()
        try:
            connection.send_packed_command(connection.pack_commands([("PUBLISH", *c) for c in commands]))
            for _ in commands:
                connection.read_response()
        except BaseException:
            connection.disconnect()
            raise

    def _send(self, client: redis.Redis, batch: list[tuple[list[str], _Message]]) -> None:
        pipe = client.pipeline(transaction=False)
        for channel, data in self._commands(batch):
            pipe.publish(channel, data)
        pipe.execute()

    def _hand_over(self, groups: list[str], message: _Message) -> None:
        with self._queue_lock:
            if self._queue is None:
                self._queue = queue.Queue(QUEUE_LIMIT)
                threading.Thread(
                    target=self._run, args=(self._queue,), name="frontdesk-publisher", daemon=True
                ).start()
        try:
            self._queue.put_nowait((groups, message))
        except queue.Full:
            logger.warning("realtime publish dropped: %s messages wait for Redis", QUEUE_LIMIT)

    def _run(self, waiting: "queue.Queue[tuple[list[str], _Message]]") -> None:
        client = redis.Redis.from_url(
            self._url, socket_connect_timeout=SEND_TIMEOUT_SECONDS, socket_timeout=SEND_TIMEOUT_SECONDS
        )
        while True:
            batch = [waiting.get()]
            while len(batch) < 256:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._send(client, batch)
            except redis.RedisError:
                logger.warning("realtime publish of %s messages failed", len(batch), exc_info=True)
            except Exception:  # a message the serialiser refuses must not stop the thread
                logger.exception("realtime publish of %s messages failed", len(batch))


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


def publish_now(groups: Iterable[str], *payloads: dict[str, Any]) -> None:
    """Send the payloads to every group as one ``realtime.events`` message; never raises."""
    now = time.time()
    message = {
        "type": "realtime.events",
        "payloads": [{**payload, "published_at": now} for payload in payloads],
    }
    group_list = list(groups)
    try:
        layer = get_channel_layer()
        if isinstance(layer, RedisPubSubChannelLayer):
            _publisher(layer).publish(group_list, message)
        elif layer is not None:
            async_to_sync(_send_all)(group_list, message)
    except Exception:
        logger.warning("realtime publish failed for %s", [p.get("type") for p in payloads], exc_info=True)


def publish_on_commit(groups: Iterable[str], *payloads: dict[str, Any]) -> None:
    """Publish the payloads after the current transaction commits (at once when there is none)."""
    group_list = list(groups)
    transaction.on_commit(lambda: publish_now(group_list, *payloads), robust=True)
