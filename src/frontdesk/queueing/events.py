"""Domain events of the walk-in queue: one per visit state change.

The payload is public-safe on purpose (ticket code, service, counter; never a name, phone or
the visit's secret public id), because display boards and ticket pages listen to the same
branch stream as the staff consoles.
"""

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, kw_only=True)
class VisitChanged:
    """A visit moved in its lifecycle; ``action`` says how (``call``, ``finish`` …)."""

    version: int = 1
    action: str
    visit_id: int
    branch_id: int
    service_id: int
    ticket_code: str
    status: str
    service_point_id: int | None
    service_point_name: str
    occurred_at: dt.datetime

    @property
    def type(self) -> str:
        return f"visit.{self.action}"

    def as_payload(self) -> dict[str, Any]:
        return _payload(self)


@dataclass(frozen=True, kw_only=True)
class CounterChanged:
    """A counter opened or closed (a member of staff signed in or out at it)."""

    version: int = 1
    action: str  # "opened" | "closed"
    branch_id: int
    service_point_id: int
    service_point_name: str
    occurred_at: dt.datetime

    @property
    def type(self) -> str:
        return f"counter.{self.action}"

    def as_payload(self) -> dict[str, Any]:
        return _payload(self)


def branch_group(branch_id: int) -> str:
    """The realtime group every screen of one branch listens to."""
    return f"branch-{branch_id}"


def _payload(event: VisitChanged | CounterChanged) -> dict[str, Any]:
    """The event as a JSON-ready dict (its fields are flat, so no ``asdict`` deep copy is needed)."""
    data = {field.name: getattr(event, field.name) for field in fields(event)}
    data["type"] = event.type
    data["occurred_at"] = event.occurred_at.isoformat()
    return data
