"""Waiting-time estimates for live tickets, made by THE estimator of ``frontdesk.science.estimator``.

The live queue and the backtest use one estimator: the history in the database is turned into the
science event log (:func:`visit_events`), a model is fitted on it and stored
(:func:`fit_and_store_wait_estimator`, nightly), and a waiting ticket's estimate is that model applied to
a snapshot of the queue built from the current rows (:func:`live_snapshot`, :func:`estimate_for`).

How the database maps onto the event log (one queue per service, one pool per branch: see :func:`pool_of`):

* **arrive**: the check-in, at ``arrived_at``, in the service's queue. A visit that re-enters a queue
  (put back, or transferred) arrives again at that moment (its ``queued_at``) under a new key
  (``"<id>.2"``, ``"<id>.3"`` …), so each stay in a queue is one wait. The live queue keeps such a
  visit's original place (calling order by ``arrived_at``); the replay orders it by its re-entry, which only
  matters for the rare re-entered customer's own training row.
* **start**: the *call* (``call``, ``call out of order``; a recall changes nothing). The wait a customer is
  told about ends when their number is called, and from the call the counter is taken: the live snapshot
  counts a called visit as at a counter, not as waiting, and the replay must see the same. A visit with
  no recorded call (imported history) starts when its service started.
* **end**: finish, no-show, leaving after being called, or being put back/transferred away from a counter:
  the counter is free again. The server is the counter (``counter-<id>``; the staff member when the
  counter is unknown).
* **abandon**: leaving the queue while waiting. A transfer *while waiting* is logged as leaving the old
  queue and arriving in the new one; it counts as an abandonment in the fitted abandonment rate (rare).
* **priority**: 1 when the visit has a priority reason, else 0. The replay credits priority tickets with
  the branch's ``max_wait_minutes`` of waiting (``head_start``), which is the calling rule's "priority
  first, unless a regular ticket has waited that long" seen from the moment of arrival.

Times are seconds on the branch's wall clock, as the estimator expects (only differences, the hour and
the weekday are used; the night of a daylight-saving change is off by an hour, and branches are closed).

The estimate is the **remaining** wait from now: the snapshot is the queue as it is now, with the
ticket being estimated in its current place and the people still ahead of it, which is how the
estimator's tracker builds a snapshot for a ticket already waiting. The model was fitted on snapshots
taken at arrivals, so a ticket that has already waited is estimated as if it had just arrived with that
many people ahead: an approximation that ignores what its own wait so far says.
"""

import calendar
import datetime as dt
import logging
import math
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Max, Q

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, ServicePoint
from frontdesk.core import clock
from frontdesk.core.errors import DomainError
from frontdesk.science.estimator import (
    FORGET_AFTER,
    RECENT_WAITS,
    RECENT_WINDOW,
    Estimate,
    EstimatorModel,
    EventKind,
    QueueEvent,
    QueueSnapshot,
    WaitingTimeEstimator,
    fit,
    hour_and_weekday,
)

from .models import CounterSession, Visit, VisitAction, VisitStatus, VisitTransition, WaitEstimatorModel
from .ordering import calling_order

logger = logging.getLogger(__name__)

#: How long a loaded model is reused before the database is asked again for the latest fit.
MODEL_CACHE_SECONDS = 60.0
#: History a nightly fit learns from.
DEFAULT_WEEKS = 4
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
RECENT_COUNTER_WINDOW = dt.timedelta(seconds=RECENT_WINDOW)

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


def _network_events(branches: Iterable[Branch], since: dt.datetime, until: dt.datetime) -> list[QueueEvent]:
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


# ---------------------------------------------------------------------------------------------
# The live snapshot


def _servable(service_ids: set[int], staff_service_ids: set[int]) -> set[int]:
    """What a counter's member of staff may be called for (the rule of ``services.call_next``)."""
    return service_ids & staff_service_ids if staff_service_ids else service_ids


def live_snapshot(visit: Visit, now: dt.datetime | None = None) -> QueueSnapshot:
    """The snapshot of a waiting visit's queue now, from the current rows, as the tracker would build it.

    ``ahead_*``: the visits before it in the calling order (``waiting_visits``), by class and queue;
    ``counters_open``/``counters_for_queue``: open counter sessions whose counter and member of staff
    serve the pool/the visit's service; ``counters_busy``/``elapsed_service``: visits called or being
    served, timed from their call; ``counters_recent``: counters that called or let go of a customer of
    the pool in the last five minutes; ``recent_waits``: the last waits of the service ended today (a
    call minus the entry into the queue); head-of-line waits count from ``queued_at``. Like the tracker,
    visits waiting or at a counter for more than a day are ignored. No appointments are due yet.
    """
    now = now or clock.now()
    branch = visit.branch
    queue = queue_name(visit.service_id)
    pool = pool_of(queue)
    service_ids = set(branch.services.values_list("pk", flat=True)) | {visit.service_id}
    pool_services = {service for service in service_ids if pool_of(queue_name(service)) == pool}
    line = _line(visit, pool_services, now)
    counters_open, counters_for_queue = _open_counters(visit, pool_services)
    elapsed = _elapsed_services(branch, pool_services, now)
    recent_waits = _recent_waits(visit, now)
    hour, weekday = hour_and_weekday(wall_clock_seconds(now, ZoneInfo(branch.time_zone)))
    return QueueSnapshot(
        queue=queue,
        pool=pool,
        priority=1 if visit.priority_reason else 0,
        hour=hour,
        weekday=weekday,
        ahead_regular_same=line.ahead[True, False],
        ahead_priority_same=line.ahead[True, True],
        ahead_regular_other=line.ahead[False, False],
        ahead_priority_other=line.ahead[False, True],
        waiting_total=line.waiting_total,
        appointments_due=0,
        counters_open=counters_open,
        counters_recent=_recently_active_counters(branch, pool_services, now),
        counters_for_queue=counters_for_queue,
        counters_busy=len(elapsed),  # one visit per counter
        elapsed_service=elapsed,
        recent_waits=recent_waits,
        last_entered_wait=recent_waits[-1] if recent_waits else None,
        head_of_line_wait=line.head_same,
        pool_head_of_line_wait=line.head_pool,
    )


@dataclass
class _Line:
    """Who waits in the pool: how many ahead of the ticket by (same queue, priority), longest waits."""

    ahead: dict[tuple[bool, bool], int] = field(
        default_factory=lambda: {(True, False): 0, (True, True): 0, (False, False): 0, (False, True): 0}
    )
    waiting_total: int = 0
    head_same: float = 0.0
    head_pool: float = 0.0


def _line(visit: Visit, pool_services: set[int], now: dt.datetime) -> _Line:
    branch = visit.branch
    waiting = (
        Visit.objects.filter(branch=branch, status=VisitStatus.WAITING, service_id__in=pool_services)
        .order_by(*calling_order(now=now, max_wait=dt.timedelta(minutes=branch.max_wait_minutes)))
        .values_list("pk", "service_id", "priority_reason", "queued_at")
    )
    line = _Line()
    before_me = True
    for pk, service_id, priority_reason, queued_at in waiting:
        if pk == visit.pk:
            before_me = False
        waited = (now - queued_at).total_seconds()
        if waited > FORGET_AFTER:
            continue
        line.waiting_total += 1
        same = service_id == visit.service_id
        line.head_pool = max(line.head_pool, waited)
        if same:
            line.head_same = max(line.head_same, waited)
        if before_me and pk != visit.pk:
            line.ahead[same, bool(priority_reason)] += 1
    return line


def _open_counters(visit: Visit, pool_services: set[int]) -> tuple[int, int]:
    """Open counters whose member of staff may serve the pool, and this visit's service."""
    sessions = list(
        CounterSession.objects.filter(
            ended_at__isnull=True, service_point__branch_id=visit.branch_id
        ).values_list("service_point_id", "staff_member_id")
    )
    point_services: dict[int, set[int]] = defaultdict(set)
    for point, service in ServicePoint.services.through.objects.filter(
        servicepoint_id__in=[point for point, _ in sessions]
    ).values_list("servicepoint_id", "service_id"):
        point_services[point].add(service)
    staff_services: dict[int, set[int]] = defaultdict(set)
    for staff, service in StaffMember.services.through.objects.filter(
        staffmember_id__in=[staff for _, staff in sessions]
    ).values_list("staffmember_id", "service_id"):
        staff_services[staff].add(service)
    for_pool = for_queue = 0
    for point, staff in sessions:
        servable = _servable(point_services[point], staff_services[staff])
        for_pool += bool(servable & pool_services)
        for_queue += visit.service_id in servable
    return for_pool, for_queue


def _elapsed_services(branch: Branch, pool_services: set[int], now: dt.datetime) -> tuple[float, ...]:
    """How long each visit at a counter has been there since its call, longest first."""
    at_counters = (
        Visit.objects.filter(
            branch=branch, status__in=[VisitStatus.CALLED, VisitStatus.SERVING], service_id__in=pool_services
        )
        .annotate(last_call=Max("transitions__at", filter=Q(transitions__action__in=CALL_ACTIONS)))
        .values_list("last_call", "called_at")
    )
    started = sorted(
        start for last_call, called_at in at_counters if (start := last_call or called_at) is not None
    )
    return tuple(elapsed for start in started if (elapsed := (now - start).total_seconds()) <= FORGET_AFTER)


def _recently_active_counters(branch: Branch, pool_services: set[int], now: dt.datetime) -> int:
    """Counters that called or let go of a customer of the pool in the last five minutes."""
    today = clock.local_date(now, branch.time_zone)
    return (
        VisitTransition.objects.filter(
            visit__branch=branch,
            visit__business_date__in=[today - dt.timedelta(days=1), today],  # the (branch, day) index
            service_id__in=pool_services,
            action__in=COUNTER_ACTIVITY_ACTIONS,
            service_point__isnull=False,
            at__gte=now - RECENT_COUNTER_WINDOW,
            at__lte=now,
        )
        .values("service_point_id")
        .distinct()
        .count()
    )


def _recent_waits(visit: Visit, now: dt.datetime) -> tuple[float, ...]:
    """The last waits of the visit's service ended today (call minus entry into the queue), oldest first.

    Read from today's entries and calls, found through today's visits (the (branch, day) index), so the
    cost does not grow with the history.
    """
    steps = (
        VisitTransition.objects.filter(
            visit__in=Visit.objects.filter(
                branch_id=visit.branch_id, business_date=clock.local_date(now, visit.branch.time_zone)
            ),
            action__in=(*ENTRY_ACTIONS, *CALL_ACTIONS),
            at__lte=now,
        )
        .order_by("visit_id", "at", "id")
        .values_list("visit_id", "action", "at", "service_id")
    )
    waits: list[tuple[dt.datetime, float]] = []
    entered: dict[int, dt.datetime] = {}
    for visit_id, action, at, service_id in steps:
        if action in ENTRY_ACTIONS:
            entered[visit_id] = at
        elif service_id == visit.service_id and visit_id in entered:
            waits.append((at, (at - entered.pop(visit_id)).total_seconds()))
    return tuple(wait for _at, wait in sorted(waits)[-RECENT_WAITS:])


# ---------------------------------------------------------------------------------------------
# Estimates


@dataclass(frozen=True)
class LoadedModel:
    """A stored fit, parsed and ready: the estimator and where it came from."""

    record_id: int
    branch_id: int | None  # None: fitted on every branch
    estimator: WaitingTimeEstimator

    def knows(self, queue: str) -> bool:
        """Whether the fit saw this queue's customers served after waiting (else it would only guess)."""
        model = self.estimator.model
        return pool_of(queue) in model.service_by_pool and queue in model.mean_wait


_cache: dict[int, tuple[float, LoadedModel | None]] = {}
_cache_lock = threading.Lock()


def clear_model_cache() -> None:
    """Forget the models loaded by this process (after a new fit; between tests)."""
    with _cache_lock:
        _cache.clear()


def model_for_branch(branch_id: int) -> LoadedModel | None:
    """The latest fit for the branch, else the latest network-wide one; reused for a minute."""
    moment = time.time()  # the wall clock, so tests can travel
    with _cache_lock:
        cached = _cache.get(branch_id)
    if cached is not None and moment - cached[0] < MODEL_CACHE_SECONDS:
        return cached[1]
    record = (
        WaitEstimatorModel.objects.filter(Q(branch_id=branch_id) | Q(branch__isnull=True))
        .order_by(F("branch_id").asc(nulls_last=True), "-fitted_at", "-id")
        .only("pk", "branch_id", "parameters")
        .first()
    )
    loaded = None
    if record is not None:
        try:
            loaded = LoadedModel(
                record.pk, record.branch_id, WaitingTimeEstimator(EstimatorModel.from_dict(record.parameters))
            )
        except (KeyError, TypeError, ValueError):
            logger.exception("wait estimator model %s cannot be read; using the simple estimate", record.pk)
    with _cache_lock:
        _cache[branch_id] = (moment, loaded)
    return loaded


def estimate_for(visit: Visit, *, now: dt.datetime | None = None) -> Estimate | None:
    """The estimator's remaining wait for a waiting visit, or None when it cannot make one.

    None when the visit is not waiting, when no model was fitted yet (the estimator cannot run without a
    fit: it needs at least 50 past waits) or when the fit never saw the visit's service served after a
    wait. The caller then falls back to the simple estimate (position × mean service time ÷ counters open).
    """
    if visit.status != VisitStatus.WAITING:
        return None
    loaded = model_for_branch(visit.branch_id)
    if loaded is None or not loaded.knows(queue_name(visit.service_id)):
        return None
    return loaded.estimator.estimate(live_snapshot(visit, now))


# ---------------------------------------------------------------------------------------------
# Fitting


def fit_and_store_wait_estimator(
    *, branch: Branch | None, weeks: int = DEFAULT_WEEKS, now: dt.datetime | None = None
) -> WaitEstimatorModel:
    """Fit the estimator on the last ``weeks`` of visits and store it as the branch's latest model.

    ``branch=None`` fits one network-wide model on every active branch's history, used by branches
    without a fit of their own. Raises :class:`DomainError` when there is too little history (the
    estimator needs at least 50 customers served after waiting).
    """
    if weeks < 1:
        raise DomainError("Fit on at least one week of history.", field="weeks")
    until = now or clock.now()
    since = until - weeks * WEEK
    if branch is None:
        branches = list(Branch.objects.filter(is_active=True).order_by("pk"))
        events = _network_events(branches, since, until)
        credit = statistics.median_low([b.max_wait_minutes for b in branches]) * 60.0 if branches else 0.0
        starts = {0: 0.0, 1: credit}
        where = "every branch"
    else:
        events = visit_events(branch, since, until)
        starts = head_start(branch)
        where = branch.name
    try:
        model = fit(events, pool_of=pool_of, head_start=starts)
    except ValueError as error:
        raise DomainError(f"Cannot fit the waiting-time estimator for {where}: {error}.") from error
    record = WaitEstimatorModel.objects.create(
        branch=branch,
        fitted_at=until,
        parameters=model.to_dict(),
        n_waits=model.trained_on,
        notes=(
            f"{where}: {weeks} week(s) of visits from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, "
            f"{len(events)} events, {model.trained_on} waits, shrinkage {model.shrinkage:g}"
        ),
    )
    clear_model_cache()
    return record


@dataclass(frozen=True)
class RefitResult:
    """One branch's (or the network's) nightly fit: the stored model, or why there is none."""

    branch: str  # slug, or "" for the network-wide model
    model: WaitEstimatorModel | None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a task's return value, ``--json``)."""
        return {
            "branch": self.branch or None,
            "model_id": self.model.pk if self.model else None,
            "n_waits": self.model.n_waits if self.model else 0,
            "error": self.error,
        }


def refit_wait_estimators(*, weeks: int = DEFAULT_WEEKS) -> list[RefitResult]:
    """Fit every active branch, then the network-wide fallback; a branch with too little history is skipped.

    Run nightly by the task ``queueing.tasks.refit_wait_estimators`` (and ``frontdesk fit_wait_estimator``).
    """
    now = clock.now()
    results = []
    for branch in [*Branch.objects.filter(is_active=True).order_by("slug"), None]:
        slug = "" if branch is None else branch.slug
        try:
            results.append(
                RefitResult(slug, fit_and_store_wait_estimator(branch=branch, weeks=weeks, now=now))
            )
        except DomainError as error:
            logger.info("wait estimator not refitted: %s", error.message)
            results.append(RefitResult(slug, None, error.message))
    return results
