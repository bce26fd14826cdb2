"""What is known about a queue at one moment: the snapshot, and the tracker that builds it from a log."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .events import DEFAULT_HEAD_START, EventKind, QueueEvent, hour_and_weekday, pool_per_queue

RECENT_WAITS = 10
#: A visit still waiting or in service after this long is taken to have gone unlogged and is forgotten.
FORGET_AFTER = 24 * 3600.0
ACTIVE_WINDOW = 900.0
RECENT_WINDOW = 300.0
QUEUE_SKILL_WINDOW = 1800.0


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What is known about a ticket's queue at the moment of an estimate (live: built from the database).

    ``priority``: the ticket's class, 0 = regular. ``hour``/``weekday``: local time of the moment.
    ``ahead_*``: customers who will be served before this ticket under the queue's order, in its own queue
    (``same``) or in another queue of the pool (``other``), regular or of a priority class.
    ``waiting_total``: everyone waiting in the pool. ``appointments_due``: booked customers expected to be
    served ahead of this ticket before it is called.
    ``counters_open``: counters staffed for the pool (replay: busy, or active in the last 15 minutes);
    ``counters_recent``: those that started or ended a service in the last five minutes;
    ``counters_for_queue``: those able to serve this queue (live: open and skilled; replay: served it in the
    last 30 minutes); ``counters_busy``: those serving now; ``elapsed_service``: how long each current
    service has lasted.
    ``recent_waits``: the last waits of this queue that are over and known, oldest first;
    ``last_entered_wait``: the wait of the last customer of the queue to enter service;
    ``head_of_line_wait``/``pool_head_of_line_wait``: how long the longest-waiting customer of the queue /
    of the pool has waited so far.
    """

    queue: str
    pool: str
    priority: int
    hour: int
    weekday: int
    ahead_regular_same: int = 0
    ahead_priority_same: int = 0
    ahead_regular_other: int = 0
    ahead_priority_other: int = 0
    waiting_total: int = 0
    appointments_due: int = 0
    counters_open: int = 1
    counters_recent: int = 1
    counters_for_queue: int = 1
    counters_busy: int = 0
    elapsed_service: tuple[float, ...] = ()
    recent_waits: tuple[float, ...] = ()
    last_entered_wait: float | None = None
    head_of_line_wait: float = 0.0
    pool_head_of_line_wait: float = 0.0

    @property
    def ahead(self) -> int:
        """Everyone who will be served before this ticket, appointments included."""
        return (
            self.ahead_regular_same
            + self.ahead_priority_same
            + self.ahead_regular_other
            + self.ahead_priority_other
            + self.appointments_due
        )

    @property
    def ahead_same_queue(self) -> int:
        return self.ahead_regular_same + self.ahead_priority_same + self.appointments_due


@dataclass(slots=True)
class _Waiting:
    queue: str
    priority: int
    arrived: float
    order: float


@dataclass(slots=True)
class _PoolState:
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    in_service: dict[str, tuple[str, float, str]] = field(default_factory=dict)
    server_seen: dict[str, float] = field(default_factory=dict)
    queue_servers: dict[str, dict[str, float]] = field(default_factory=dict)
    recent_waits: dict[str, deque[float]] = field(default_factory=dict)
    last_entered: dict[str, float] = field(default_factory=dict)


class QueueStateTracker:
    """Follows a queue log in time order and builds the snapshot a customer's estimate is made from.

    The backtest feeds it every event of a log; for an arrival it calls :meth:`snapshot` *before*
    :meth:`apply`, so a snapshot contains only what happened before that moment. The live side builds the
    same :class:`QueueSnapshot` from the database instead.

    ``head_start`` credits each priority class with seconds of waiting (the order is arrival time minus
    the credit; a large credit is a strict priority). ``forget_after`` drops visits whose end never came.
    """

    def __init__(
        self,
        *,
        pool_of: Callable[[str], str] = pool_per_queue,
        head_start: Mapping[int, float] = DEFAULT_HEAD_START,
        forget_after: float = FORGET_AFTER,
    ) -> None:
        self.pool_of = pool_of
        self.head_start = dict(head_start)
        self.forget_after = forget_after
        self._pools: dict[str, _PoolState] = {}
        self._pool_cache: dict[str, str] = {}

    def _pool(self, queue: str) -> tuple[str, _PoolState]:
        name = self._pool_cache.get(queue)
        if name is None:
            name = self._pool_cache[queue] = self.pool_of(queue)
        state = self._pools.get(name)
        if state is None:
            state = self._pools[name] = _PoolState()
        return name, state

    def waiting_since(self, queue: str, visit: str) -> float | None:
        """When a visit still waiting joined the queue (None if it is not waiting)."""
        entry = self._pool(queue)[1].waiting.get(visit)
        return None if entry is None else entry.arrived

    def apply(self, event: QueueEvent) -> float | None:
        """Take one event into the state. Returns the wait when the event ends a wait (start or abandon)."""
        state = self._pool(event.queue)[1]
        now = event.time
        kind = event.kind
        if kind is EventKind.ARRIVE:
            credit = self.head_start.get(event.priority, 0.0)
            state.waiting[event.visit] = _Waiting(event.queue, event.priority, now, now - credit)
            return None
        if kind is EventKind.START:
            entry = state.waiting.pop(event.visit, None)
            server = event.server or f"?{event.visit}"
            state.in_service[event.visit] = (server, now, event.queue)
            if event.server:
                state.server_seen[server] = now
                state.queue_servers.setdefault(event.queue, {})[server] = now
            if entry is None:
                return None
            wait = now - entry.arrived
            waits = state.recent_waits.get(event.queue)
            if waits is None:
                waits = state.recent_waits[event.queue] = deque(maxlen=RECENT_WAITS)
            waits.append(wait)
            state.last_entered[event.queue] = wait
            return wait
        if kind is EventKind.END:
            service = state.in_service.pop(event.visit, None)
            if event.server:
                state.server_seen[event.server] = now
            elif service is not None and not service[0].startswith("?"):
                state.server_seen[service[0]] = now
            return None
        entry = state.waiting.pop(event.visit, None)
        return None if entry is None else now - entry.arrived

    def snapshot(self, event: QueueEvent, *, appointments_due: int = 0) -> QueueSnapshot:
        """The snapshot for a ticket of ``event.queue``/``event.priority`` at ``event.time``.

        For an arrival call it before :meth:`apply`. For a ticket already waiting (a live update), the
        people ahead are those before it in the queue's order; the result estimates the remaining wait.
        """
        pool, state = self._pool(event.queue)
        now = event.time
        queue = event.queue
        own = state.waiting.get(event.visit)
        order = own.order if own is not None else now - self.head_start.get(event.priority, 0.0)
        regular_same = priority_same = regular_other = priority_other = 0
        head_same = head_pool = 0.0
        stale: list[str] = []
        for visit, entry in state.waiting.items():
            waited = now - entry.arrived
            if waited > self.forget_after:
                stale.append(visit)
                continue
            if waited > head_pool:
                head_pool = waited
            same = entry.queue == queue
            if same and waited > head_same:
                head_same = waited
            if entry.order < order or (
                own is not None and entry.order == order and entry.arrived < own.arrived
            ):
                if same:
                    if entry.priority > 0:
                        priority_same += 1
                    else:
                        regular_same += 1
                elif entry.priority > 0:
                    priority_other += 1
                else:
                    regular_other += 1
        busy_servers = set()
        elapsed = []
        for visit, (server, started, _queue) in state.in_service.items():
            if now - started > self.forget_after:
                stale.append(visit)
                continue
            busy_servers.add(server)
            elapsed.append(now - started)
        for visit in stale:  # a visit whose end was never logged must not stay in the queue for ever
            state.waiting.pop(visit, None)
            state.in_service.pop(visit, None)
        open_counters = set(busy_servers)
        recent = 0
        for server, seen in state.server_seen.items():
            if now - seen <= ACTIVE_WINDOW:
                open_counters.add(server)
                if now - seen <= RECENT_WINDOW:
                    recent += 1
        skilled = 0
        for seen in state.queue_servers.get(queue, {}).values():
            if now - seen <= QUEUE_SKILL_WINDOW:
                skilled += 1
        waits = state.recent_waits.get(queue)
        hour, weekday = hour_and_weekday(now)
        return QueueSnapshot(
            queue=queue,
            pool=pool,
            priority=event.priority,
            hour=hour,
            weekday=weekday,
            ahead_regular_same=regular_same,
            ahead_priority_same=priority_same,
            ahead_regular_other=regular_other,
            ahead_priority_other=priority_other,
            waiting_total=len(state.waiting),
            appointments_due=appointments_due,
            counters_open=len(open_counters),
            counters_recent=recent,
            counters_for_queue=skilled,
            counters_busy=len(busy_servers),
            elapsed_service=tuple(elapsed),
            recent_waits=tuple(waits) if waits else (),
            last_entered_wait=state.last_entered.get(queue),
            head_of_line_wait=head_same,
            pool_head_of_line_wait=head_pool,
        )
