"""Queue logs on disk: the visit CSV format (read and written) and the formats the science tools load.

:func:`load_log` reads ``anonymous-bank`` (the Technion call-centre files, see
:mod:`frontdesk.science.anonymous_bank`), ``csv`` and ``demo``. The CSV has a header and one row per
stay of a customer in a queue:

======================  =======================================================================
``queue``               service (queue) name
``customer_id``         visit or ticket identifier, unique in the file
``priority``            integer priority class, 0 = regular (optional, default 0)
``arrived_at``          ISO 8601 time the customer joined the queue (empty: served without queueing)
``service_started_at``  ISO 8601 time the service started (empty if not served)
``abandoned_at``        ISO 8601 time the customer left unserved (empty otherwise)
``service_ended_at``    ISO 8601 time the service ended (empty if not served)
``counter``             counter or staff member who served (optional)
``pool``                optional: group of queues sharing counters (default: the queue itself)
``head_start_s``        optional: seconds of waiting the calling rule credits the row's priority class
                        (a large credit is a strict priority; default 0 for every class)
======================  =======================================================================

Other columns are ignored. Times with an offset are converted to the ``tz`` given to
:func:`read_csv_log` (default: kept on the wall clock they carry); naive times are taken as the
branch's wall clock.

``demo`` is the demo history (or any Frontdesk branch's) as ``frontdesk export_visits`` writes it with
:func:`write_csv_log`: the same CSV, one row per stay in a queue (a visit put back or transferred
comes back as ``<id>.2``), times on the branch's wall clock, with the ``pool`` and ``head_start_s``
columns that make the replay organise the queues as the live estimator does. Reading a file as
``demo`` checks that those columns are there.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TextIO

from frontdesk.science import anonymous_bank
from frontdesk.science.estimator import DEFAULT_HEAD_START, EventKind, QueueEvent, pool_per_queue

__all__ = ["COLUMNS", "FORMATS", "LogSpec", "load_log", "read_csv_log", "write_csv_log"]

FORMATS = ("anonymous-bank", "csv", "demo")
COLUMNS = (
    "queue",
    "customer_id",
    "priority",
    "arrived_at",
    "service_started_at",
    "abandoned_at",
    "service_ended_at",
    "counter",
    "pool",
    "head_start_s",
)
#: What ``frontdesk export_visits`` always writes, so that a ``demo`` file replays like the live queue.
DEMO_COLUMNS = frozenset({"pool", "head_start_s"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LogSpec:
    """A log ready to replay: events in time order and how its queues are organised."""

    events: list[QueueEvent]
    pool_of: Callable[[str], str] = pool_per_queue
    head_start: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_HEAD_START))


def _parse_time(text: str, tz: tzinfo | None) -> float | None:
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None and tz is not None:
        moment = moment.astimezone(tz)
    return float(calendar.timegm(moment.timetuple())) + moment.microsecond / 1e6


def _wall_clock(seconds: float) -> str:
    """The inverse of :func:`_parse_time` for naive times: a wall-clock moment, to the microsecond."""
    return (_EPOCH + timedelta(microseconds=round(seconds * 1e6))).replace(tzinfo=None).isoformat()


def read_csv_log(
    path: Path | str,
    *,
    tz: tzinfo | None = None,
    head_start: Mapping[int, float] = DEFAULT_HEAD_START,
    required: Iterable[str] = (),
) -> LogSpec:
    """Read a visit log in the CSV format described in this module's docstring.

    ``head_start`` applies unless the file has a ``head_start_s`` column; ``required`` names columns
    the file must have beyond the four that every log needs.
    """
    events: list[QueueEvent] = []
    pools: dict[str, str] = {}
    credits: dict[int, float] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"queue", "customer_id", "arrived_at", "service_started_at", *required} - set(
            reader.fieldnames or ()
        )
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                queue = row["queue"].strip()
                visit = row["customer_id"].strip()
                priority = int(row.get("priority") or 0)
                arrived = _parse_time(row.get("arrived_at") or "", tz)
                started = _parse_time(row.get("service_started_at") or "", tz)
                abandoned = _parse_time(row.get("abandoned_at") or "", tz)
                ended = _parse_time(row.get("service_ended_at") or "", tz)
                credit = (row.get("head_start_s") or "").strip()
                if credit:
                    seconds = float(credit)
                    if credits.setdefault(priority, seconds) != seconds:
                        raise ValueError(f"head_start_s {credit} differs from {credits[priority]:g} before")
            except ValueError as error:
                raise ValueError(f"{path}:{line}: {error}") from error
            if not queue or not visit:
                raise ValueError(f"{path}:{line}: queue and customer_id are required")
            if row.get("pool"):
                pools[queue] = row["pool"].strip()
            counter = (row.get("counter") or "").strip()
            if arrived is not None:
                events.append(QueueEvent(arrived, EventKind.ARRIVE, visit, queue, priority))
                if started is None and abandoned is not None:
                    events.append(
                        QueueEvent(max(abandoned, arrived), EventKind.ABANDON, visit, queue, priority)
                    )
            if started is not None:
                start = started if arrived is None else max(started, arrived)
                events.append(QueueEvent(start, EventKind.START, visit, queue, priority, counter))
                if ended is not None:
                    events.append(
                        QueueEvent(max(ended, start), EventKind.END, visit, queue, priority, counter)
                    )
    events.sort(key=lambda e: (e.time, e.kind))
    pool_map = dict(pools)
    return LogSpec(
        events,
        (lambda queue: pool_map.get(queue, queue)) if pool_map else pool_per_queue,
        {0: 0.0, **credits} if credits else dict(head_start),
    )


def write_csv_log(
    events: Iterable[QueueEvent],
    handle: TextIO,
    *,
    pool_of: Callable[[str], str] = pool_per_queue,
    head_start: Mapping[int, float] = DEFAULT_HEAD_START,
    labels: Mapping[str, str] | None = None,
) -> int:
    """Write an event log (times on a wall clock) as the CSV above, one row per stay; how many rows.

    Reading the file back gives the same events. ``labels`` adds a ``service`` column naming each
    queue for people reading the file (the reader ignores it).
    """
    column_of = {
        EventKind.ARRIVE: "arrived_at",
        EventKind.START: "service_started_at",
        EventKind.END: "service_ended_at",
        EventKind.ABANDON: "abandoned_at",
    }
    rows: dict[str, dict[str, str]] = {}
    for event in events:
        row = rows.get(event.visit)
        if row is None:
            row = rows[event.visit] = {
                "queue": event.queue,
                "customer_id": event.visit,
                "priority": str(event.priority),
                "pool": pool_of(event.queue),
                "head_start_s": f"{head_start.get(event.priority, 0.0):g}",
            }
            if labels is not None:
                row["service"] = labels.get(event.queue, "")
        row[column_of[event.kind]] = _wall_clock(event.time)
        if event.server:
            row["counter"] = event.server
    fields = [*COLUMNS, *(["service"] if labels is not None else [])]
    writer = csv.DictWriter(handle, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows.values())
    return len(rows)


def load_log(
    fmt: str,
    paths: Sequence[Path | str],
    *,
    tz: tzinfo | None = None,
    head_start: Mapping[int, float] = DEFAULT_HEAD_START,
) -> LogSpec:
    """Load and merge logs of one format (``anonymous-bank``, ``csv`` or ``demo``)."""
    if fmt == "anonymous-bank":
        events = anonymous_bank.events_from_calls(anonymous_bank.parse_files(paths))
        return LogSpec(events, anonymous_bank.pool_of, dict(anonymous_bank.PRIORITY_HEAD_START))
    if fmt in ("csv", "demo"):
        required = DEMO_COLUMNS if fmt == "demo" else ()
        try:
            logs = [read_csv_log(path, tz=tz, head_start=head_start, required=required) for path in paths]
        except ValueError as error:
            if fmt == "demo" and "missing column" in str(error):
                raise ValueError(f"{error} (a demo log is what `frontdesk export_visits` writes)") from error
            raise
        if len(logs) == 1:
            return logs[0]
        merged = sorted((e for log in logs for e in log.events), key=lambda e: (e.time, e.kind))

        def pool_of(queue: str) -> str:
            return next((p for p in (log.pool_of(queue) for log in logs) if p != queue), queue)

        credits: dict[int, float] = {}
        for log in logs:
            credits.update(log.head_start)
        return LogSpec(merged, pool_of, credits)
    raise ValueError(f"unknown log format {fmt!r}; expected one of {', '.join(FORMATS)}")
