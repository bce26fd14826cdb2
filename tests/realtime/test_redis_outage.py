"""Redis down: the branch keeps working, and boards catch up when it returns (STACK.md gotcha 5).

Each test starts its own ``redis-server`` on a free port, so it can stop and start it at will
without touching anything else, and runs in both suite runs (SQLite and PostgreSQL).

- In-process, with the channel layer and the cache on that Redis: with Redis stopped, checking in
  and calling next through the HTTP API still answer 2xx, and quickly; when Redis is back, the
  next call is published again.
- The public check-ins (kiosk page, phone API) keep working with Redis stopped as well: their rate
  limits live in the cache and must fail open.
- End to end, with a real server process: a board connected over a websocket sees calls before
  the outage, the API keeps answering during it, and after Redis returns a new call reaches the
  board within seconds, while the board page already shows the call made during the outage.
"""

import json
import os
import runpy
import time
from typing import Any
from unittest import mock

import pytest
import redis
from channels.layers import channel_layers
from django.test import Client
from django.urls import reverse

from frontdesk.accounts.services import create_api_token
from frontdesk.config.settings import base as base_settings
from frontdesk.queueing import services
from frontdesk.queueing.events import branch_group
from frontdesk.queueing.models import Visit, VisitStatus

from ._processes import is_call_of, next_frame, running_servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

FAST = 1.0  # seconds: a request must not wait on a dead Redis
CATCH_UP = 5.0  # seconds after Redis returns by which a board sees calls again


def production_settings_for(redis_url: str) -> dict[str, Any]:
    """CHANNEL_LAYERS and CACHES exactly as the settings module builds them when REDIS_URL is set."""
    with mock.patch.dict(os.environ, {"REDIS_URL": redis_url}):
        built = runpy.run_path(base_settings.__file__, run_name="frontdesk_settings_probe")
    return {"CHANNEL_LAYERS": built["CHANNEL_LAYERS"], "CACHES": built["CACHES"]}


@pytest.fixture
def on_private_redis(settings, private_redis):
    """This process's channel layer and cache on the private Redis, as production settings build them."""
    built = production_settings_for(private_redis.url)
    assert built["CACHES"]["default"]["LOCATION"] == private_redis.url
    settings.CHANNEL_LAYERS = built["CHANNEL_LAYERS"]
    settings.CACHES = built["CACHES"]
    # Changing CHANNEL_LAYERS dropped the cached layers: the next publish builds a fresh one.
    assert "default" not in channel_layers.backends
    return private_redis


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _group_channel(branch_id: int) -> str:
    # How channels-redis's pub/sub layer names a group's Redis channel (with our prefix).
    from django.conf import settings

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}__group__{branch_group(branch_id)}"


def _published(subscriber, ticket_code: str, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = subscriber.get_message(ignore_subscribe_messages=True, timeout=left)
        if message and ticket_code.encode() in message["data"]:
            return True
    return False


def test_check_in_and_call_next_keep_working_while_redis_is_down(
    setup, clerk, staff_client, on_private_redis
):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    check_in_url = reverse("api:check_in", kwargs={"branch_slug": setup.branch.slug})
    call_next_url = reverse("api:call_next", kwargs={"counter_id": setup.counter_1.pk})
    listener = redis.Redis.from_url(on_private_redis.url)
    subscriber = listener.pubsub()
    try:
        subscriber.subscribe(_group_channel(setup.branch.pk))
        # Before: the layer is connected and publishing.
        response = staff_client.post(
            check_in_url, {"service_id": setup.general.pk}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        assert _published(subscriber, response.json()["ticket_code"], timeout=2)

        on_private_redis.stop()

        response, took = _timed(
            lambda: staff_client.post(
                check_in_url, {"service_id": setup.general.pk}, content_type="application/json"
            )
        )
        assert response.status_code == 201, response.content
        assert took < FAST, f"check-in took {took:.2f}s with Redis down"
        response, took = _timed(lambda: staff_client.post(call_next_url))
        assert response.status_code == 200, response.content
        assert took < FAST, f"call-next took {took:.2f}s with Redis down"
        first = response.json()
        assert first["ticket_code"] == "A-001"
        response, took = _timed(
            lambda: staff_client.post(reverse("api:mark_no_show", kwargs={"visit_id": first["id"]}))
        )
        assert response.status_code == 200, response.content
        assert took < FAST
        assert Visit.objects.get(pk=first["id"]).status == VisitStatus.NO_SHOW

        on_private_redis.start()
        subscriber.close()
        subscriber = listener.pubsub()
        subscriber.subscribe(_group_channel(setup.branch.pk))
        # After: the same process publishes again, without a restart.
        response = staff_client.post(call_next_url)
        assert response.status_code == 200, response.content
        assert _published(subscriber, response.json()["ticket_code"], timeout=CATCH_UP)
    finally:
        subscriber.close()
        listener.close()


@pytest.mark.parametrize("entrance", ["kiosk page", "phone check-in API"])
def test_public_check_ins_keep_working_while_redis_is_down(setup, entrance, on_private_redis):
    """The kiosk page and the phone check-in API rate-limit through the cache: with Redis gone they
    must let customers in (fail open), not answer 500."""
    client = Client(raise_request_exception=False)  # a 500 is an answer here, not a crash of the test
    on_private_redis.stop()

    if entrance == "kiosk page":
        url = reverse("queueing:kiosk", kwargs={"branch_slug": setup.branch.slug})
        response, took = _timed(
            lambda: client.post(url, {"service": setup.general.pk, "idempotency_key": "kiosk-tap-1"})
        )
        expected = 302  # to the printed ticket
    else:
        url = reverse("api:public_check_in", kwargs={"branch_slug": setup.branch.slug})
        response, took = _timed(
            lambda: client.post(url, {"service_id": setup.general.pk}, content_type="application/json")
        )
        expected = 201
    assert response.status_code == expected, f"the {entrance} answered {response.status_code} with Redis down"
    assert took < FAST
    assert Visit.objects.filter(branch=setup.branch).count() == 1


def test_a_board_catches_up_after_redis_returns(setup, clerk, second_clerk, private_redis, tmp_path):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    for _ in range(20):
        services.check_in(branch=setup.branch, service=setup.general)
    scopes = ["queue:read", "queue:write"]
    _, clara_token = create_api_token(staff_member=clerk, name="outage", scopes=scopes)
    _, diego_token = create_api_token(staff_member=second_clerk, name="outage", scopes=scopes)
    counter_1 = f"/api/queueing/counters/{setup.counter_1.pk}/call-next"
    counter_2 = f"/api/queueing/counters/{setup.counter_2.pk}/call-next"

    with (
        running_servers(tmp_path, redis_url=private_redis.url) as [server],
        server.api(clara_token) as clara,
        server.api(diego_token) as diego,
        server.board(setup.branch.slug) as board,
    ):
        assert json.loads(board.recv(timeout=5))["type"] == "hello"

        # Before the outage a call reaches the board.
        response = clara.post(counter_1)
        assert response.status_code == 200, response.text
        before = response.json()
        assert next_frame(board, is_call_of(before["ticket_code"]), timeout=2), server.log_tail()
        assert clara.post(f"/api/queueing/visits/{before['id']}/no-show").status_code == 200

        private_redis.stop()

        # During the outage the counter keeps working, and quickly.
        response, took = _timed(lambda: clara.post(counter_1))
        assert response.status_code == 200, response.text
        assert took < FAST, f"call-next took {took:.2f}s with Redis down"
        during = response.json()["ticket_code"]
        response, took = _timed(
            lambda: clara.post(
                f"/api/queueing/branches/{setup.branch.slug}/check-ins", json={"service_id": setup.general.pk}
            )
        )
        assert response.status_code == 201, response.text
        assert took < FAST, f"check-in took {took:.2f}s with Redis down"

        private_redis.start()
        back = time.monotonic()

        # After: within a few seconds, a new call reaches the board that stayed connected
        # (a board only reconnects when its socket closes, so a deaf socket would stay deaf).
        seen = None
        calls = 0
        while seen is None and time.monotonic() - back < CATCH_UP:
            response = diego.post(counter_2)
            assert response.status_code == 200, response.text
            calls += 1
            visit = response.json()
            left = CATCH_UP - (time.monotonic() - back)
            seen = next_frame(board, is_call_of(visit["ticket_code"]), timeout=max(0.05, min(0.5, left)))
            if seen is None:
                assert diego.post(f"/api/queueing/visits/{visit['id']}/no-show").status_code == 200
        caught_up = time.monotonic() - back
        assert seen is not None, (
            f"no call reached the board within {CATCH_UP:.0f}s of Redis returning ({calls} calls made)\n"
            f"{server.log_tail()}"
        )
        assert seen["service_point_name"] == setup.counter_2.name

        # And what the board missed is on its page, which it reloads on every event.
        page = clara.get(f"/display/{setup.branch.slug}/")
        assert page.status_code == 200
        assert during in page.text
    print(f"board saw calls again {caught_up:.1f}s after Redis returned ({calls} calls made)")
