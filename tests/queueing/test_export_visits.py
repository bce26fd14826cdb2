"""``frontdesk export_visits`` and ``frontdesk backtest --format demo`` on a small demo history."""

import datetime as dt
import re
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from frontdesk.branches.models import Branch
from frontdesk.demo import builder
from frontdesk.queueing import estimates
from frontdesk.science.backtest import main as backtest
from frontdesk.science.estimator import fit
from frontdesk.science.visit_log import load_log

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 3, 18, 10, 40, tzinfo=dt.UTC)  # a Wednesday; two weeks of history before it
FIT_DAYS = ("2026-03-04", "2026-03-10")
TEST_DAYS = ("2026-03-11", "2026-03-17")


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        builder.build(seed=7, weeks=2)
    return Branch.objects.get(slug="madrid-gran-via")


def export(branch: Branch, days: tuple[str, str], path) -> str:
    err = StringIO()
    call_command(
        "export_visits",
        "--branch",
        branch.slug,
        "--from",
        days[0],
        "--to",
        days[1],
        "--out",
        str(path),
        stderr=err,
    )
    return err.getvalue()


def ordered(events):
    return sorted(events, key=lambda e: (e.time, e.kind, e.visit))


def local_range(days: tuple[str, str]) -> tuple[dt.datetime, dt.datetime]:
    first, last = (dt.date.fromisoformat(day) for day in days)
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=MADRID),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=MADRID),
    )


def test_the_export_is_the_log_the_live_estimator_learns_from(demo, tmp_path):
    path = tmp_path / "week.csv"
    said = export(demo, TEST_DAYS, path)

    live = estimates.visit_events(demo, *local_range(TEST_DAYS))
    log = load_log("demo", [path])
    assert ordered(log.events) == ordered(live)
    stays = {event.visit for event in live}
    assert f"{len(stays)} stays in a queue from 2026-03-11 to 2026-03-17" in said
    assert len(stays) > 500  # a week of a busy branch, not an empty file
    assert {log.pool_of(event.queue) for event in live} == {estimates.BRANCH_POOL}
    assert log.head_start == estimates.head_start(demo)
    first_arrival = min(event.time for event in live)
    assert dt.datetime.fromtimestamp(first_arrival, dt.UTC).date() == dt.date(2026, 3, 11)  # local days
    services = set(demo.services.values_list("name", flat=True))
    assert set(re.findall(r",([^,\n]+)\n", path.read_text())[1:]) <= services  # the readable column


def test_backtest_format_demo_replays_the_export_end_to_end(demo, tmp_path, capsys):
    fit_path, test_path = tmp_path / "fit.csv", tmp_path / "test.csv"
    export(demo, FIT_DAYS, fit_path)
    export(demo, TEST_DAYS, test_path)
    capsys.readouterr()

    assert backtest(["--format", "demo", "--fit", str(fit_path), "--test", str(test_path)]) == 0
    out = capsys.readouterr().out
    # It learned from exactly the waits the live estimator would have learned from over those days.
    model = fit(
        estimates.visit_events(demo, *local_range(FIT_DAYS)),
        pool_of=estimates.pool_of,
        head_start=estimates.head_start(demo),
    )
    assert f"fitted on {model.trained_on} waits" in out
    row = re.search(r"^frontdesk\s+([\d.]+)\s+([\d.]+)\s+([\d.]+).*\s(\d+)$", out, re.MULTILINE)
    assert row is not None
    rmse, mean_wait, relative, n = float(row[1]), float(row[2]), float(row[3]), int(row[4])
    assert n > 200
    assert mean_wait > 0
    assert relative == pytest.approx(rmse / mean_wait, abs=0.001)
    zero = re.search(r"^zero\s+([\d.]+)", out, re.MULTILINE)
    assert zero is not None
    assert rmse < float(zero[1])  # better than saying nothing


def test_bad_input_is_a_clear_message_and_writes_nothing(demo, tmp_path):
    path = tmp_path / "none.csv"
    with pytest.raises(CommandError, match="No branch 'atlantis'"):
        call_command("export_visits", "--branch", "atlantis", "--from", "2026-03-04", "--to", "2026-03-10")
    with pytest.raises(CommandError, match="The last day comes before the first"):
        call_command(
            "export_visits",
            "--branch",
            demo.slug,
            "--from",
            "2026-03-10",
            "--to",
            "2026-03-04",
            "--out",
            str(path),
        )
    assert not path.exists()
