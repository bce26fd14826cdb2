"""The event log: the database's visits as the science estimator's arrivals, starts, ends and abandonments.

See the package's docstring for how each recorded step maps onto an event.
"""

import calendar
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from frontdesk.branches.models import Branch
from frontdesk.core import clock
from frontdesk.core.errors import DomainError
from frontdesk.science.estimator import EventKind, QueueEvent
from frontdesk.science.visit_log import write_csv_log

from ..models import VisitAction, VisitTransition

WEEK = dt.timedelta(days=7)

CALL_ACTIONS = (VisitAction.CALL, VisitAction.CALL_OUT_OF_ORDER)
ENTRY_ACTIONS = (VisitAction.CHECK_IN, VisitAction.PUT_BACK, VisitAction.TRANSFER)
#: Steps that make a counter "seen" (a start or an end in the event log).
COUNTER_ACTIVITY_ACTIONS = (
    *CALL_ACTIONS,
    VisitAction.FINISH,
    VisitAction.NO_SHOW,
    VisitAction.PUT_BACK,
    VisitAction.TRANSFER,
    VisitAction.LEAVE,
)

BRANCH_POOL = "branch"


def pool_of(queue: str) -> str:
    """Which queues share counters: all the queues of a branch form one pool.

    Counters serve several services and call across them in one calling order, so the people waiting
    for other services delay a ticket too. On the demo history (default seed; three weeks fitted, the
    fourth replayed) one pool per branch beat one pool per service at every branch, for our estimator
    (RMSE 441 against 454 s, 330 against 402 s, 384 against 392 s) and more so for the queue-length
    predictor (501/709, 334/562, 402/611 s).
    """
    return BRANCH_POOL


def queue_name(service_id: int) -> str:
    """The estimator's queue for a service: its id (the same at every branch)."""
    return str(service_id)


def wall_clock_seconds(moment: dt.datetime, zone: ZoneInfo) -> float:
    """A moment as seconds on a wall clock (local date and time counted from 1970-01-01)."""
    local = moment.astimezone(zone)
    return float(calendar.timegm(local.timetuple())) + local.microsecond / 1e6


def head_start(branch: Branch) -> dict[int, float]:
    """The calling rule as the replay's priority credit: priority goes first unless a regular has waited."""
    return {0: 0.0, 1: branch.max_wait_minutes * 60.0}


# ---------------------------------------------------------------------------------------------
# The event log


def _server(service_point_id: int | None, staff_member_id: int | None) -> str:
    if service_point_id is not None:
        return f"counter-{service_point_id}"
    if staff_member_id is not None:
        return f"staff-{staff_member_id}"
    return ""


@dataclass
class _Stay:
    """Where one visit is while its transitions are read: in a queue, at a counter, or gone."""

    visit_id: int = 0
    priority: int = 0
    stays: int = 0
    key: str = ""
    queue: str = ""
    server: str = ""
    where: str = ""  # "queue", "counter" or "" (not yet arrived, or gone)

    def enter(self, queue: str) -> None:
        """A new stay in a queue: the first under the visit's id, later ones as "<id>.2", "<id>.3" …"""
        self.stays += 1
        self.key = str(self.visit_id) if self.stays == 1 else f"{self.visit_id}.{self.stays}"
        self.queue, self.server, self.where = queue, "", "queue"

    def event(self, moment: float, kind: EventKind) -> QueueEvent:
        return QueueEvent(moment, kind, self.key, self.queue, self.priority, self.server)


def visit_events(branch: Branch, since: dt.datetime, until: dt.datetime) -> list[QueueEvent]:
    """The event log of the visits that checked in at ``branch`` in [since, until), in time order.

    Built from the recorded transitions (a visit's row keeps only its last stay in a queue); steps at
    or after ``until`` are left out, so the log is what was known at ``until``. See the module docstring
    for how each step maps onto an event.
    """
    zone = ZoneInfo(branch.time_zone)
    first_day = clock.local_date(since, branch.time_zone) - dt.timedelta(days=1)
    last_day = clock.local_date(until, branch.time_zone) + dt.timedelta(days=1)
    rows = (
        VisitTransition.objects.filter(
            visit__branch=branch,
            visit__business_date__range=(first_day, last_day),  # the (branch, day) index
            visit__arrived_at__gte=since,
            visit__arrived_at__lt=until,
            at__lt=until,
        )
        .order_by("visit_id", "at", "id")
        .values_list(
            "visit_id",
            "action",
            "at",
            "service_id",
            "service_point_id",
            "staff_member_id",
            "visit__priority_reason",
        )
    )
    events: list[QueueEvent] = []
    stay = _Stay()
    for visit_id, action, at, service_id, service_point_id, staff_member_id, priority_reason in rows.iterator(
        chunk_size=5000
    ):
        if visit_id != stay.visit_id:
            stay = _Stay(visit_id, priority=1 if priority_reason else 0)
        moment = wall_clock_seconds(at, zone)
        if action == VisitAction.CHECK_IN or (action in ENTRY_ACTIONS and stay.where):
            if stay.where:
                events.append(
                    stay.event(moment, EventKind.END if stay.where == "counter" else EventKind.ABANDON)
                )
            stay.enter(queue_name(service_id))
            events.append(stay.event(moment, EventKind.ARRIVE))
        elif stay.where == "queue" and (action in CALL_ACTIONS or action == VisitAction.START):
            stay.server, stay.where = _server(service_point_id, staff_member_id), "counter"
            events.append(stay.event(moment, EventKind.START))
        elif stay.where and action in (VisitAction.FINISH, VisitAction.NO_SHOW, VisitAction.LEAVE):
            events.append(stay.event(moment, EventKind.END if stay.where == "counter" else EventKind.ABANDON))
            stay.where = ""
    events.sort(key=lambda event: (event.time, event.kind))
    return events


def network_events(branches: Iterable[Branch], since: dt.datetime, until: dt.datetime) -> list[QueueEvent]:
    """Every branch's log laid end to end, each moved on by whole weeks so that no two overlap.

    Whole weeks keep every hour and weekday, and the gap of a week or more between logs is longer than
    the tracker keeps a waiting customer or a counter in mind, so one branch's queue is never seen in
    another's snapshots (only the last known waits of a service carry over to the next branch's first
    customers, as the evening's waits carry over to the next morning). The services' statistics are
    network-wide.
    """
    shift_weeks = math.ceil((until - since) / WEEK) + 1
    events: list[QueueEvent] = []
    for number, branch in enumerate(branches):
        shift = number * shift_weeks * WEEK.total_seconds()
        events += [
            QueueEvent(e.time + shift, e.kind, e.visit, e.queue, e.priority, e.server)
            for e in visit_events(branch, since, until)
        ]
    events.sort(key=lambda event: (event.time, event.kind))
    return events


def export_visit_log(*, branch: Branch, first_day: dt.date, last_day: dt.date, handle: TextIO) -> int:
    """Write the event log of the visits that checked in from ``first_day`` to ``last_day`` (local days,
    both included) as the CSV of ``science.visit_log``; how many rows (stays in a queue) it wrote.

    It is the log the live estimator learns from (:func:`visit_events`), with its pools and the calling
    rule's priority credit, so ``frontdesk backtest --format demo`` replays the queue as the live
    estimator sees it. Times are on the branch's wall clock.
    """
    if last_day < first_day:
        raise DomainError("The last day comes before the first.", field="to")
    zone = ZoneInfo(branch.time_zone)
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    labels = {queue_name(pk): name for pk, name in branch.services.values_list("pk", "name")}
    return write_csv_log(
        visit_events(branch, since, until),
        handle,
        pool_of=pool_of,
        head_start=head_start(branch),
        labels=labels,
    )
