"""The Redis publisher: one message per publish, sent from the caller's thread, never a long wait.

A request publishes its events itself, in one round trip, because handing them to a publishing
thread cost about a fifth of a counter's press in thread switches (BENCHMARKS.md). These tests hold
the promises that come with that: the events are in Redis when the publish returns, a dead or
silent Redis holds a request back at most once per hand-over period, and the events published
meanwhile still reach Redis when it answers again.
"""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from channels.layers import get_channel_layer

from frontdesk.core import realtime

from .test_redis_outage import production_settings_for

pytestmark = pytest.mark.redis

GROUP = "branch-424242"


def _layer_on(settings, url: str) -> None:
    settings.CHANNEL_LAYERS = production_settings_for(url)["CHANNEL_LAYERS"]


def _channel() -> str:
    prefix = realtime.settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}__group__{GROUP}"


def _subscriber(url: str) -> "redis.client.PubSub":
    subscriber = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(_channel())
    subscriber.get_message(timeout=1)  # the subscription's confirmation
    return subscriber


def _events(subscriber: "redis.client.PubSub", timeout: float) -> list[dict[str, object]]:
    message = subscriber.get_message(timeout=timeout)
    if message is None:
        return []
    decoded = get_channel_layer().deserialize(message["data"])
    assert decoded["type"] == "realtime.events"
    return list(decoded["payloads"])


def _timed_publish(*payloads: dict[str, object]) -> float:
    started = time.monotonic()
    realtime.publish_now([GROUP], *payloads)
    return time.monotonic() - started


def _handed_over(monkeypatch) -> list[object]:
    """Records what goes to the background thread (it still goes there)."""
    seen: list[object] = []
    original = realtime._RedisPublisher._hand_over

    def spy(self, groups, message):  # type: ignore[no-untyped-def]
        seen.append(message)
        original(self, groups, message)

    monkeypatch.setattr(realtime._RedisPublisher, "_hand_over", spy)
    return seen


def test_a_publish_is_in_redis_when_it_returns_as_one_message(settings, private_redis, monkeypatch):
    _layer_on(settings, private_redis.url)
    handed_over = _handed_over(monkeypatch)
    subscriber = _subscriber(private_redis.url)
    try:
        realtime.publish_now([GROUP], {"type": "visit.no_show", "n": 1}, {"type": "visit.call", "n": 2})
        assert handed_over == []  # sent from this thread: nothing left for another one
        events = _events(subscriber, timeout=0.5)
        assert [(e["type"], e["n"]) for e in events] == [("visit.no_show", 1), ("visit.call", 2)]
        assert all(isinstance(e["published_at"], float) for e in events)
        assert _events(subscriber, timeout=0.2) == []  # both events in that one message
    finally:
        subscriber.close()


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung Redis, a black-holed network)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_silent_redis_holds_one_request_back_then_the_background_takes_over(
    settings, silent_redis, monkeypatch
):
    monkeypatch.setattr(realtime, "HAND_OVER_SECONDS", 0.5)
    _layer_on(settings, silent_redis)
    handed_over = _handed_over(monkeypatch)
    first = _timed_publish({"type": "visit.call", "n": 1})
    # The first publish waits for its answer up to the direct timeout, and no longer.
    assert realtime.DIRECT_TIMEOUT_SECONDS * 0.9 <= first < realtime.DIRECT_TIMEOUT_SECONDS + 0.5
    # The next ones, within the hand-over period, do not wait on Redis at all.
    following = [_timed_publish({"type": "visit.call", "n": n}) for n in range(2, 22)]
    assert sum(following) < 0.1, following
    assert len(handed_over) == 21  # the first one too, for another try in the background
    # Once the period is over, a request tries Redis itself again (and waits for it, once).
    time.sleep(0.5)
    assert _timed_publish({"type": "visit.call", "n": 22}) >= realtime.DIRECT_TIMEOUT_SECONDS * 0.9
    assert _timed_publish({"type": "visit.call", "n": 23}) < 0.05


def test_events_published_while_redis_was_down_reach_it_when_it_returns(settings, private_redis, monkeypatch):
    monkeypatch.setattr(realtime, "HAND_OVER_SECONDS", 1.0)
    _layer_on(settings, private_redis.url)
    handed_over = _handed_over(monkeypatch)
    private_redis.stop()
    assert _timed_publish({"type": "visit.call", "n": 1}) < 0.5  # refused at once; nothing raised
    private_redis.start()
    subscriber = _subscriber(private_redis.url)
    try:
        # Within the hand-over period: the background thread publishes it, once Redis answers.
        assert _timed_publish({"type": "visit.call", "n": 2}) < 0.05
        deadline = time.monotonic() + 5
        received: list[dict[str, object]] = []
        while not any(e["n"] == 2 for e in received) and time.monotonic() < deadline:
            received += _events(subscriber, timeout=0.5)
        assert [e["n"] for e in received if e["n"] == 2] == [2]
        # After it: straight from the caller's thread again.
        time.sleep(1.0)
        sent_before = len(handed_over)
        realtime.publish_now([GROUP], {"type": "visit.call", "n": 3})
        assert len(handed_over) == sent_before
        assert [e["n"] for e in _events(subscriber, timeout=0.5)] == [3]
    finally:
        subscriber.close()


def _publisher_connections(url: str) -> set[str]:
    """The ids of the connections to the Redis at ``url`` whose last command was a publish."""
    return {client["id"] for client in redis.Redis.from_url(url).client_list() if client["cmd"] == "publish"}


def test_a_thread_publishes_on_its_own_connection_and_a_forked_child_opens_a_new_one(
    settings, private_redis, monkeypatch
):
    _layer_on(settings, private_redis.url)
    subscriber = _subscriber(private_redis.url)
    try:
        realtime.publish_now([GROUP], {"type": "visit.call", "n": 1})
        realtime.publish_now([GROUP], {"type": "visit.call", "n": 2})
        first = _publisher_connections(private_redis.url)
        assert len(first) == 1  # one connection, kept between publishes

        published, checked = threading.Event(), threading.Event()

        def another_request_thread() -> None:
            realtime.publish_now([GROUP], {"type": "visit.call", "n": 3})
            published.set()
            checked.wait(5)  # alive, and its connection with it, until counted

        other_thread = threading.Thread(target=another_request_thread)
        other_thread.start()
        published.wait(5)
        assert len(_publisher_connections(private_redis.url) - first) == 1  # the other thread's own
        checked.set()
        other_thread.join()

        # A child process must not write on its parent's socket: after a fork the pid differs.
        parent_pid = realtime.os.getpid()
        monkeypatch.setattr(realtime.os, "getpid", lambda: parent_pid + 1)
        before_fork = _publisher_connections(private_redis.url)
        realtime.publish_now([GROUP], {"type": "visit.call", "n": 4})
        assert len(_publisher_connections(private_redis.url) - before_fork) == 1  # a new connection

        received = [e["n"] for _ in range(4) for e in _events(subscriber, timeout=0.5)]
        assert received == [1, 2, 3, 4]
    finally:
        subscriber.close()
