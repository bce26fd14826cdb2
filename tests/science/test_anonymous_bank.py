"""The Anonymous Bank reader: the log's traps on hand-made lines, and its figures on the real files.

Data source of the real files: the "Anonymous Bank" call-centre log, Service Enterprise Engineering lab of
the Technion (Ilan Guedj and Avi Mandelbaum).
"""

import gzip
from datetime import date
from pathlib import Path

import pytest

from frontdesk.science import anonymous_bank
from frontdesk.science.estimator import EventKind

DATA = Path(__file__).parents[2].parent / "shared" / "data" / "anonymous_bank_1999"

HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit"
    "\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)
LINES = [
    # served after a wait, priority customer
    "AA0101\t1\t111\t2\tPS\t990104\t9:00:00\t9:00:06\t6\t9:00:06\t9:01:06\t60\tAGENT\t9:01:05\t9:04:05\t180\tSHARON",
    # never queued (q_start 0:00:00), served at once, priority 0 because the id was not recorded
    "AA0101\t2\t0\t0\tNW\t990104\t9:10:00\t9:10:10\t10\t0:00:00\t0:00:00\t0\tAGENT\t9:10:09\t9:12:09\t120\tKAZAV",
    # abandoned after a wait
    "AA0102\t3\t222\t1\tNE\t990104\t9:20:00\t9:20:05\t5\t9:20:05\t9:22:05\t120\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # a phantom call
    "AA0102\t4\t0\t0\tPS\t990104\t9:30:00\t9:30:05\t5\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # crosses midnight: joins the queue before, served after; the agent's name was mangled
    "AA0103\t1\t333\t0\tPS\t990104\t23:58:50\t23:59:00\t10\t23:59:00\t0:01:00\t120\tAGENT\t0:01:00\t0:03:00\t120"
    "\tNO_SERVERAMA",
    # internet support: its own room
    "AA0104\t5\t444\t1\tIN\t990104\t10:00:00\t10:00:05\t5\t10:00:05\t10:00:35\t30\tAGENT\t10:00:35\t10:05:35\t300\tYIFAT",
    # served, but the log lost the service times
    "AA0104\t6\t555\t1\tPS\t990104\t11:00:00\t11:00:05\t5\t11:00:05\t11:00:45\t40\tAGENT\t0:00:00\t0:00:00\t0\tIDIT",
    # service started (by the clock) a second before the queue was left: known only at q_exit
    "AA0104\t7\t666\t2\tPS\t990104\t12:00:00\t12:00:05\t5\t12:00:05\t12:01:05\t60\tAGENT\t12:01:04\t12:02:04\t60\tTOVA",
]


@pytest.fixture
def small_log(tmp_path):
    path = tmp_path / "01_January.txt.gz"
    with gzip.open(path, "wt", encoding="latin-1") as handle:
        handle.write(HEADER + "\n" + "\n".join(LINES) + "\n")
    return path


def test_parser_handles_the_traps(small_log):
    calls = list(anonymous_bank.parse_file(small_log))

    assert [c.call_id for c in calls] == ["1", "2", "3", "1", "5", "6", "7"]  # phantom dropped, ids repeat
    assert len({c.key for c in calls}) == len(calls)
    first, direct, abandoned, midnight, internet, lost, early = calls
    assert first.served_after_wait
    assert first.priority == 1
    assert first.queue_seconds == 60
    assert not direct.queued
    assert direct.priority == 0
    assert direct.served
    assert abandoned.abandoned
    assert abandoned.priority == 0
    assert abandoned.server is None
    assert midnight.queue_start is not None
    assert midnight.service_start is not None
    assert midnight.queue_exit == midnight.queue_start + 120
    assert midnight.service_start - midnight.queue_start == 120  # next day, not 24 hours earlier
    assert midnight.server == "NAAMA"
    assert internet.call_type == "IN"
    assert anonymous_bank.pool_of("IN") != anonymous_bank.pool_of("PS")
    assert not lost.service_recorded
    assert lost.service_start == lost.queue_exit
    assert early.service_start is not None
    assert early.queue_exit is not None
    assert early.service_start < early.queue_exit


def test_events_follow_the_log_in_time_order(small_log):
    events = anonymous_bank.events_from_calls(anonymous_bank.parse_file(small_log))

    assert [e.time for e in events] == sorted(e.time for e in events)
    by_visit: dict[str, list[EventKind]] = {}
    for event in events:
        by_visit.setdefault(event.visit, []).append(event.kind)
    kinds = list(by_visit.values())
    assert kinds[0] == [EventKind.ARRIVE, EventKind.START, EventKind.END]
    assert kinds[1] == [EventKind.START, EventKind.END]  # served without queueing: no arrival
    assert kinds[2] == [EventKind.ARRIVE, EventKind.ABANDON]
    early = [e for e in events if e.visit.endswith(":9")]
    start = next(e for e in early if e.kind is EventKind.START)
    arrive = next(e for e in early if e.kind is EventKind.ARRIVE)
    assert start.time - arrive.time == 60  # the wait is known at max(ser_start, q_exit)
    assert {e.priority for e in events if e.visit.endswith(":2")} == {1}


def test_figures_on_hand_made_lines(small_log):
    figures = anonymous_bank.compute_figures(anonymous_bank.parse_file(small_log))

    assert figures.months[0].served_after_wait == 4  # IN excluded
    assert figures.months[0].abandoned == 1
    assert figures.wait_median == 60


def test_rejects_a_file_that_is_not_the_log(tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("a,b,c\n1,2,3\n")

    with pytest.raises(ValueError, match="not an Anonymous Bank file"):
        list(anonymous_bank.parse_file(path))


def test_parser_figures_on_the_real_log_agree_with_its_readme():
    figures = anonymous_bank.compute_figures(
        anonymous_bank.parse_files(DATA / name for name in anonymous_bank.MONTH_FILES)
    )

    assert [m.month for m in figures.months] == [f"1999-0{i}" for i in range(1, 7)]
    served = [m.served_after_wait for m in figures.months]
    abandoned = [m.abandoned for m in figures.months]
    assert served == [13457, 13957, 19027, 15241, 18863, 16834]
    assert abandoned == [3022, 3870, 8370, 5498, 6902, 4511]
    # nine-month figures of the README: mean 99 s, median 64 s, p90 232 s; service 183 s, CV 1.37
    assert figures.wait_mean == pytest.approx(99, rel=0.05)
    assert figures.wait_median == pytest.approx(64, abs=3)
    assert figures.wait_p90 == pytest.approx(232, rel=0.05)
    assert figures.service_mean == pytest.approx(183, rel=0.06)
    assert figures.service_cv == pytest.approx(1.37, abs=0.05)


def test_special_days_are_in_the_logged_months():
    assert all(date(1999, 1, 1) <= day <= date(1999, 6, 30) for day in anonymous_bank.SPECIAL_DAYS_1999)
