"""The queue log the estimator reads: events, their kinds, pools, and wall-clock time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

DAY = 86_400.0
#: Seconds of waiting credited to each priority class when it joins (higher class = served earlier).
DEFAULT_HEAD_START: Mapping[int, float] = {0: 0.0}


class EventKind(IntEnum):
    """What happened to a visit. The values order events that share a timestamp."""

    ARRIVE = 0  # joined the queue
    START = 1  # service started: the wait is over and known
    END = 2  # service ended: the counter is free
    ABANDON = 3  # left the queue without being served


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One fact of a queue log; ``server`` is the counter or agent (empty when unknown)."""

    time: float
    kind: EventKind
    visit: str
    queue: str
    priority: int = 0
    server: str = ""


def pool_per_queue(queue: str) -> str:
    """Pool function for logs where every queue has its own counters."""
    return queue


def hour_and_weekday(time: float) -> tuple[int, int]:
    """Hour of the day and weekday (Monday = 0) of a wall-clock time in seconds since 1970-01-01."""
    day, seconds = divmod(time, DAY)
    return int(seconds // 3600), int((day + 3) % 7)
