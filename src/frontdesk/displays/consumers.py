"""The branch stream: joins the branch group and forwards its events; nothing else.

The stream carries only public-safe payloads (ticket codes, services, counters), so a display
board or a customer's ticket page may listen without signing in. Screens reload their full
state from HTTP on connect and on each event, so a missed message costs nothing.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from frontdesk.core.errors import NotFound
from frontdesk.queueing import selectors
from frontdesk.queueing.events import branch_group


class BranchStreamConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    group_name: str = ""

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["branch_slug"]
        try:
            branch = await database_sync_to_async(selectors.branch_get_public)(slug=slug)
        except NotFound:
            await self.close(code=4404)
            return
        self.group_name = branch_group(branch.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "branch_id": branch.pk})

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def realtime_events(self, message: dict[str, Any]) -> None:
        """One publish's events (a press sends the ended visit and the call together), a frame each."""
        for payload in message["payloads"]:
            await self.send_json(payload)
