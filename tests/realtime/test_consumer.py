"""The branch stream consumer in-process, through the real ASGI application and an in-memory layer.

These tests pin what a board can rely on: joining a branch says hello, an unknown branch is
refused, a committed call arrives as a ``visit.call`` frame without any personal data, and a
change that rolls back publishes nothing.
"""

import contextlib
from collections.abc import AsyncIterator

import pytest
from channels.db import database_sync_to_async
from django.db import connections, transaction

from frontdesk.config.asgi import application
from frontdesk.queueing import services
from frontdesk.queueing.models import Visit, VisitStatus

from ._communicator import BoardCommunicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    """The in-memory layer in both suite runs (the Redis run has its own tests)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Changing the setting drops the cached layers, so the consumer and the publisher share a new one.
    yield
    # Database work done by the consumer and by database_sync_to_async ran in a worker thread:
    # close its connection, or PostgreSQL cannot drop the test database at the end.
    connections.close_all()


@pytest.fixture
def counter_open(setup, clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    return setup.counter_1


@pytest.fixture
def waiting(setup):
    """A customer waiting for a general enquiry.

    Made in a (sync) fixture: database work written straight into an async test body would run on
    a connection of the event loop's context that nothing ever closes.
    """
    return services.check_in(
        branch=setup.branch, service=setup.general, customer_name="Lucía Pérez", customer_phone="612 345 678"
    )


def board(slug: str) -> BoardCommunicator:
    return BoardCommunicator(application, f"/ws/branches/{slug}/")


async def close_thread_connections() -> None:
    await database_sync_to_async(connections.close_all)()


@contextlib.asynccontextmanager
async def greeted_board(slug: str) -> AsyncIterator[BoardCommunicator]:
    """A board connected to the branch and past its hello; disconnected afterwards."""
    communicator = board(slug)
    try:
        connected, _ = await communicator.connect()
        assert connected
        assert (await communicator.receive_json(timeout=2))["type"] == "hello"
        yield communicator
    finally:
        await communicator.disconnect()
        await close_thread_connections()


async def test_a_board_joining_a_branch_is_greeted(setup):
    communicator = board("gran-via")
    try:
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_json(timeout=2) == {"type": "hello", "branch_id": setup.branch.pk}
    finally:
        await communicator.disconnect()
        await close_thread_connections()


async def test_an_unknown_branch_is_refused(setup):
    communicator = board("no-such-branch")
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4404
    finally:
        await communicator.disconnect()
        await close_thread_connections()


async def test_a_board_from_another_site_is_refused(setup):
    communicator = BoardCommunicator(application, "/ws/branches/gran-via/", origin="https://evil.example")
    try:
        connected, _ = await communicator.connect()
        assert not connected
    finally:
        await communicator.disconnect()
        await close_thread_connections()


async def test_a_committed_call_reaches_the_board_without_personal_data(setup, clerk, counter_open, waiting):
    async with greeted_board("gran-via") as communicator:
        called = await database_sync_to_async(services.call_next)(
            staff_member=clerk, service_point=counter_open
        )

        frame = await communicator.receive_json(timeout=2)
        assert called.pk == waiting.pk
        assert frame["type"] == "visit.call"
        assert frame["ticket_code"] == waiting.ticket_code == "A-001"
        assert frame["service_point_name"] == "Counter 1"
        assert isinstance(frame["published_at"], float)
        assert "Lucía" not in str(frame)
        assert "612345678" not in str(frame).replace(" ", "")
        assert not {"customer_name", "customer_phone", "public_id"} & set(frame)
        assert await communicator.receive_nothing(timeout=0.2)


async def test_one_press_sends_the_ended_visit_then_the_call(setup, clerk, counter_open, waiting):
    async with greeted_board("gran-via") as communicator:
        called = await database_sync_to_async(services.call_next)(
            staff_member=clerk, service_point=counter_open
        )
        assert (await communicator.receive_json(timeout=2))["type"] == "visit.call"
        after = await database_sync_to_async(services.check_in)(branch=setup.branch, service=setup.general)
        assert (await communicator.receive_json(timeout=2))["type"] == "visit.check_in"

        ended, next_called = await database_sync_to_async(services.end_and_call_next)(
            staff_member=clerk, service_point_id=counter_open.pk, visit_id=called.pk, action="no_show"
        )

        frames = [await communicator.receive_json(timeout=2) for _ in range(2)]
        assert [(f["type"], f["ticket_code"]) for f in frames] == [
            ("visit.no_show", ended.ticket_code),
            ("visit.call", after.ticket_code),
        ]
        assert next_called is not None
        assert frames[1]["service_point_name"] == "Counter 1"
        assert await communicator.receive_nothing(timeout=0.2)


async def test_a_call_that_rolls_back_publishes_nothing(setup, clerk, counter_open, waiting):

    def call_then_roll_back() -> None:
        with transaction.atomic():
            services.call_next(staff_member=clerk, service_point=counter_open)
            transaction.set_rollback(True)

    async with greeted_board("gran-via") as communicator:
        await database_sync_to_async(call_then_roll_back)()

        assert await communicator.receive_nothing(timeout=0.5)
        still = await database_sync_to_async(Visit.objects.get)(pk=waiting.pk)
        assert still.status == VisitStatus.WAITING
        # The stream itself works: the same call, committed this time, arrives.
        await database_sync_to_async(services.call_next)(staff_member=clerk, service_point=counter_open)
        frame = await communicator.receive_json(timeout=2)
        assert (frame["type"], frame["ticket_code"]) == ("visit.call", waiting.ticket_code)
