"""A websocket test client for an ASGI application, in-process.

``channels.testing`` cannot be imported here: its package imports ``daphne``, which the project
does not install. This is the small part of it these tests need, over asgiref's communicator.
"""

import json
from typing import Any

from asgiref.testing import ApplicationCommunicator


class BoardCommunicator(ApplicationCommunicator):  # type: ignore[misc]
    """One websocket connection to ``path``, as a browser on ``origin`` would open it."""

    def __init__(self, application: Any, path: str, *, origin: str = "http://testserver") -> None:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"origin", origin.encode())],
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 2) -> tuple[bool, int | None]:
        """(True, None) when accepted; (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, None

    async def receive_json(self, timeout: float = 2) -> dict[str, Any]:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return dict(json.loads(response["text"]))

    async def disconnect(self, code: int = 1000, timeout: float = 2) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
