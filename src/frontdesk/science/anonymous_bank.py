"""Reader for the "Anonymous Bank" call-centre log of 1999, turned into Frontdesk queue events.

Data source: the "Anonymous Bank" call-centre data, published by the Service Enterprise Engineering
lab of the Technion (Ilan Guedj and Avi Mandelbaum). Six gzipped, tab-separated monthly files
(January–June 1999), one record per call: VRU entry and exit, queue entry and exit, outcome
(``AGENT``, ``HANG`` or ``PHANTOM``), service start and end, and the agent who served.

What the reader does with the traps of that log:

* the header line is skipped; times are ``H:MM:SS`` of the day and are turned into seconds on the
  centre's wall clock, counted from 1970-01-01 (see :class:`frontdesk.science.estimator.QueueEvent`);
  every time of a call is placed on the day nearest to the call's previous step, so calls that cross
  midnight keep their order;
* ``PHANTOM`` records are dropped; ``q_start`` of ``0:00:00`` (with no time in queue) means the caller
  never queued;
* priority ``2`` is a priority customer; ``0`` and ``1`` are regular customers (the documentation says
  ``0`` is treated as ``1``, and callers who never queued have ``0`` because of a bug). Events carry the
  normalised class: ``1`` for priority customers and ``0`` for everyone else. Priority customers are
  credited 90 seconds of waiting when they join (:data:`PRIORITY_HEAD_START`);
* type ``IN`` (internet support) is its own queue in a separate room: :func:`pool_of` maps it to the pool
  ``"internet"``, every other type to ``"telephone"``. Calls of each type form their own queue;
* a served caller's wait is known only at ``max(ser_start, q_exit)``: the service-start event is placed
  there, so an estimator replaying the log never learns a wait before it is over;
* a few agent names were mangled by an export that replaced ``NA`` with ``NO_SERVER``
  (``NO_SERVERAMA`` is ``NAAMA``); they are repaired.
"""

from __future__ import annotations

import functools
import gzip
import math
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from frontdesk.science.estimator import EventKind, QueueEvent

__all__ = [
    "MONTH_FILES",
    "PRIORITY_HEAD_START",
    "SPECIAL_DAYS_1999",
    "CallRecord",
    "LogFigures",
    "MonthFigures",
    "compute_figures",
    "events_from_calls",
    "load_events",
    "main",
    "parse_file",
    "parse_files",
    "pool_of",
]

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
NO_SERVER = "NO_SERVER"
INTERNET_TYPE = "IN"
#: Seconds of waiting credited to a caller of each normalised priority class when they join the queue.
PRIORITY_HEAD_START: dict[int, float] = {0: 0.0, 1: 90.0}
#: The monthly files of the log, in order.
MONTH_FILES: tuple[str, ...] = (
    "01_January.txt.gz",
    "02_February.txt.gz",
    "03_March.txt.gz",
    "04_April.txt.gz",
    "05_May.txt.gz",
    "06_June.txt.gz",
)

#: Israeli holidays and their eves in January–June 1999 (known in advance, so a forecast may use them),
#: with the first working day after a holiday, when callers who could not call come back.
SPECIAL_DAYS_1999: dict[date, str] = {
    date(1999, 3, 2): "purim",
    date(1999, 3, 31): "eve",  # Passover eve
    date(1999, 4, 1): "holiday",  # Passover
    date(1999, 4, 2): "after",
    date(1999, 4, 6): "eve",
    date(1999, 4, 7): "holiday",  # last day of Passover
    date(1999, 4, 8): "after",
    date(1999, 4, 20): "eve",  # Memorial Day, eve of Independence Day
    date(1999, 4, 21): "holiday",  # Independence Day
    date(1999, 4, 22): "after",
    date(1999, 5, 17): "election",  # general election, a day off
    date(1999, 5, 20): "eve",  # Shavuot eve
    date(1999, 5, 21): "holiday",  # Shavuot
    date(1999, 5, 23): "after",
}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call of the log. Times are wall-clock seconds since 1970-01-01; ``None`` when not reached.

    ``key`` (file name and line number) identifies the call: ``call_id`` repeats, even within a day.
    """

    key: str
    call_id: str
    customer_id: str
    priority_raw: int
    call_type: str
    day: date
    vru_entry: float
    vru_exit: float
    queue_start: float | None
    queue_exit: float | None
    queue_seconds: int
    outcome: str
    service_start: float | None
    service_end: float | None
    service_seconds: int
    server: str | None

    @property
    def queued(self) -> bool:
        return self.queue_start is not None

    @property
    def priority(self) -> int:
        """Normalised priority class: 1 for priority customers, 0 for regular ones."""
        return 1 if self.priority_raw == 2 else 0

    @property
    def served(self) -> bool:
        return self.outcome == "AGENT"

    @property
    def served_after_wait(self) -> bool:
        return self.served and self.queued and self.queue_seconds > 0

    @property
    def service_recorded(self) -> bool:
        """False for the served calls whose service times the log lacks (``ser_start`` 0:00:00, no time)."""
        return self.served and not (
            self.service_seconds == 0
            and self.service_start == self.service_end
            and (self.service_start == (self.queue_exit if self.queue_exit is not None else self.vru_exit))
        )

    @property
    def abandoned(self) -> bool:
        return self.outcome == "HANG" and self.queued and self.queue_seconds > 0


@functools.cache
def _clock(text: str) -> int:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


@functools.cache
def _day(text: str) -> tuple[date, float]:
    """The day of a ``yymmdd`` date and its start in wall-clock seconds."""
    year = int(text[:2])
    day = date(1900 + year if year > 50 else 2000 + year, int(text[2:4]), int(text[4:6]))
    return day, float((day.toordinal() - _EPOCH_ORDINAL) * DAY)


def _near(reference: float, time_of_day: int) -> float:
    """The moment showing ``time_of_day`` on the clock that is nearest to ``reference``."""
    day_start = reference - reference % DAY
    candidate = day_start + time_of_day
    if candidate - reference > DAY / 2:
        candidate -= DAY
    elif reference - candidate > DAY / 2:
        candidate += DAY
    return candidate


def _server(name: str) -> str | None:
    if name == NO_SERVER or not name:
        return None
    return name.replace(NO_SERVER, "NA")


def _parse_line(fields: Sequence[str], key: str) -> CallRecord | None:
    outcome = fields[12]
    if outcome == "PHANTOM":
        return None
    day, day_start = _day(fields[5])
    vru_entry = day_start + _clock(fields[6])
    vru_exit = _near(vru_entry, _clock(fields[7]))
    queue_seconds = int(fields[11])
    queue_start_clock = _clock(fields[9])
    queue_start: float | None = None
    queue_exit: float | None = None
    if queue_start_clock != 0 or queue_seconds > 0:
        queue_start = _near(vru_exit, queue_start_clock)
        queue_exit = queue_start + queue_seconds
    service_seconds = int(fields[15])
    service_start: float | None = None
    service_end: float | None = None
    if outcome == "AGENT":
        reference = queue_exit if queue_exit is not None else vru_exit
        service_start_clock = _clock(fields[13])
        if service_start_clock == 0 and service_seconds == 0:
            # a few hundred served calls carry no service times: service began when the queue was left
            service_start = service_end = reference
        else:
            service_start = _near(reference, service_start_clock)
            service_end = service_start + service_seconds
    return CallRecord(
        key=key,
        call_id=fields[1],
        customer_id=fields[2],
        priority_raw=int(fields[3]),
        call_type=fields[4],
        day=day,
        vru_entry=vru_entry,
        vru_exit=vru_exit,
        queue_start=queue_start,
        queue_exit=queue_exit,
        queue_seconds=queue_seconds,
        outcome=outcome,
        service_start=service_start,
        service_end=service_end,
        service_seconds=service_seconds,
        server=_server(fields[16]),
    )


def parse_file(path: Path | str) -> Iterator[CallRecord]:
    """Stream the calls of one monthly file (gzipped or plain), PHANTOM records dropped."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="latin-1", newline="") as handle:
        header = handle.readline()
        if not header.startswith("vru+line"):
            raise ValueError(f"{path}: not an Anonymous Bank file (header {header[:40]!r})")
        for number, line in enumerate(handle, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 17:
                if not line.strip():
                    continue
                raise ValueError(f"{path}:{number}: expected 17 fields, found {len(fields)}")
            record = _parse_line(fields, f"{path.name}:{number}")
            if record is not None:
                yield record


def parse_files(paths: Iterable[Path | str]) -> Iterator[CallRecord]:
    """Stream the calls of several monthly files, in the order given."""
    for path in paths:
        yield from parse_file(path)


def pool_of(queue: str) -> str:
    """The group of agents answering a queue: internet support sits in its own room."""
    return "internet" if queue == INTERNET_TYPE else "telephone"


def events_from_calls(calls: Iterable[CallRecord]) -> list[QueueEvent]:
    """Queue events of the calls, sorted in time order (ties: ends, starts, abandonments, arrivals).

    A caller who queued gets an arrival at ``q_start``, then either a service start at
    ``max(ser_start, q_exit)`` or an abandonment at ``q_exit``. A caller served without queueing gets only
    a service start (no arrival), so it occupies an agent without being a waiting customer. Every service
    ends at ``max(ser_start + ser_time, service-start event)``.
    """
    events: list[QueueEvent] = []
    append = events.append
    for call in calls:
        visit = call.key
        queue = call.call_type
        priority = call.priority
        server = call.server or ""
        if call.queue_start is not None and call.queue_exit is not None:
            if call.outcome == "HANG" and call.queue_seconds == 0:
                continue  # hung up the moment it reached the queue: never waited, never counted
            append(QueueEvent(call.queue_start, EventKind.ARRIVE, visit, queue, priority))
            if call.outcome == "HANG":
                append(QueueEvent(call.queue_exit, EventKind.ABANDON, visit, queue, priority))
        if call.service_start is not None and call.service_end is not None:
            known = (
                call.service_start if call.queue_exit is None else max(call.service_start, call.queue_exit)
            )
            append(QueueEvent(known, EventKind.START, visit, queue, priority, server))
            append(QueueEvent(max(call.service_end, known), EventKind.END, visit, queue, priority, server))
    events.sort(key=lambda event: (event.time, event.kind))
    return events


def load_events(directory: Path | str, months: Iterable[int]) -> list[QueueEvent]:
    """Queue events of the given months (1 = January … 6 = June) of the log kept in ``directory``."""
    directory = Path(directory)
    return events_from_calls(parse_files(directory / MONTH_FILES[month - 1] for month in months))


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str
    served_after_wait: int
    abandoned: int
    served_without_wait: int


@dataclass(frozen=True, slots=True)
class LogFigures:
    """The figures the log's README asks a parser to check (types other than IN)."""

    months: tuple[MonthFigures, ...]
    wait_mean: float
    wait_median: float
    wait_p90: float
    service_mean: float
    service_cv: float

    def as_text(self) -> str:
        lines = [f"{'month':<8}{'served after wait':>18}{'abandoned':>11}{'served at once':>16}"]
        lines += [
            f"{m.month:<8}{m.served_after_wait:>18}{m.abandoned:>11}{m.served_without_wait:>16}"
            for m in self.months
        ]
        lines.append(
            f"wait of served-after-wait calls: mean {self.wait_mean:.1f} s, median {self.wait_median:.0f} s, "
            f"p90 {self.wait_p90:.0f} s; service: mean {self.service_mean:.1f} s, CV {self.service_cv:.2f}"
        )
        return "\n".join(lines)


def _quantile(ordered: Sequence[float], share: float) -> float:
    """Nearest-rank quantile of sorted values."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def compute_figures(calls: Iterable[CallRecord]) -> LogFigures:
    """Per-month counts, waits of served-after-wait calls, service times of all served calls; IN left out."""
    per_month: dict[str, list[int]] = {}
    waits: list[float] = []
    services: list[float] = []
    for call in calls:
        if call.call_type == INTERNET_TYPE:
            continue
        counts = per_month.setdefault(call.day.strftime("%Y-%m"), [0, 0, 0])
        if call.served_after_wait:
            counts[0] += 1
            waits.append(call.queue_seconds)
        elif call.abandoned:
            counts[1] += 1
        elif call.served:
            counts[2] += 1
        if call.served and call.service_recorded:
            services.append(call.service_seconds)
    if not waits or not services:
        raise ValueError("no served calls in the log")
    waits.sort()
    service_mean = statistics.fmean(services)
    return LogFigures(
        months=tuple(MonthFigures(month, *counts) for month, counts in sorted(per_month.items())),
        wait_mean=statistics.fmean(waits),
        wait_median=statistics.median(waits),
        wait_p90=_quantile(waits, 0.9),
        service_mean=service_mean,
        service_cv=statistics.pstdev(services) / service_mean,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m frontdesk.science.anonymous_bank DIRECTORY``: print the parser's check figures."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("directory", type=Path, help="folder holding the gzipped monthly files")
    arguments = parser.parse_args(argv)
    print(compute_figures(parse_files(arguments.directory / name for name in MONTH_FILES)).as_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
