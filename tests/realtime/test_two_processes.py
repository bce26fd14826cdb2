"""Two server processes share one event stream through Redis (DESIGN.md, realtime).

A board connected to process B must see a call made through process A's API, within two
seconds, and what it receives must be safe to show in public: ticket and counter, no name, no phone.
Runs in both suite runs: against the suite's Redis when ``REDIS_URL`` is set, otherwise against a
private ``redis-server`` started for the test.
"""

import json
import time
import uuid

import pytest
from django.conf import settings

from frontdesk.accounts.services import create_api_token
from frontdesk.queueing import services
from tests.factories import ServicePointFactory

from ._processes import is_call_of, next_frame, running_redis, running_servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def redis_url(tmp_path):
    if settings.REDIS_URL:
        yield settings.REDIS_URL
    else:
        with running_redis(tmp_path) as redis:
            yield redis.url


def test_a_call_through_one_process_reaches_a_board_on_another(setup, clerk, redis_url, tmp_path):
    # A counter name of its own, so that another run sharing this Redis cannot satisfy the test.
    desk = ServicePointFactory(
        branch=setup.branch, name=f"Desk {uuid.uuid4().hex[:6]}", services=[setup.general]
    )
    services.open_counter(staff_member=clerk, service_point=desk)
    waiting = services.check_in(
        branch=setup.branch, service=setup.general, customer_name="Lucía Pérez", customer_phone="612 345 678"
    )
    _, token = create_api_token(
        staff_member=clerk, name="two processes", scopes=["queue:read", "queue:write"]
    )

    with running_servers(tmp_path, redis_url=redis_url, count=2) as (server_a, server_b):
        assert server_a.process.pid != server_b.process.pid
        with server_b.board("gran-via") as board, server_a.api(token) as api:
            # The hello comes after the consumer joined the group, so B is subscribed from here on.
            assert json.loads(board.recv(timeout=5)) == {"type": "hello", "branch_id": setup.branch.pk}

            started = time.monotonic()
            response = api.post(f"/api/queueing/counters/{desk.pk}/call-next")
            assert response.status_code == 200, response.text
            assert response.json()["ticket_code"] == waiting.ticket_code

            frame = next_frame(board, is_call_of(waiting.ticket_code), timeout=2)
            waited = time.monotonic() - started
            assert frame is not None, (
                f"no visit.call for {waiting.ticket_code} on B within 2 s\n"
                f"A:\n{server_a.log_tail()}\nB:\n{server_b.log_tail()}"
            )
    assert frame["service_point_name"] == desk.name
    assert frame["ticket_code"] == "A-001"
    assert frame["service_point_id"] == desk.pk
    # Public-safe: a display board shows this to the whole room.
    text = json.dumps(frame, ensure_ascii=False)
    assert not {"customer_name", "customer_phone", "public_id", "note"} & set(frame)
    assert "Lucía" not in text
    assert "Pérez" not in text
    assert "612345678" not in text.replace(" ", "")
    print(f"call-next on A → frame on B: {waited * 1000:.0f} ms")


def test_the_channel_layer_is_namespaced_so_deployments_sharing_a_redis_never_mix(monkeypatch):
    import runpy

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("REDIS_CHANNEL_PREFIX", "branch-network-a")
    from frontdesk.config.settings import base

    namespace = runpy.run_path(base.__file__)
    assert namespace["CHANNEL_LAYERS"]["default"]["CONFIG"]["prefix"] == "branch-network-a"
