"""Fixtures shared by the realtime tests."""

from collections.abc import Iterator

import pytest

from ._processes import RedisServer


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A ``redis-server`` of this test's own, on a free port, that the test may stop and start."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
