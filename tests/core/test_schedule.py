"""The periodic schedule of ``frontdesk worker``: each job once per period, at its local time, caught up."""

import datetime as dt
import signal
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from frontdesk.core import schedule, services
from frontdesk.core.checks import check_periodic_jobs
from frontdesk.core.management.commands.worker import tick
from frontdesk.core.models import ScheduledRun

MADRID = ZoneInfo("Europe/Madrid")
REFIT = "frontdesk.queueing.tasks.refit_wait_estimators"
NIGHTLY = {"refit_wait_estimators": {"task": REFIT, "daily_at": "02:30"}}

pytestmark = pytest.mark.usefixtures("_nightly_refit")


@pytest.fixture
def _nightly_refit():
    with override_settings(SCHEDULE_TIME_ZONE="Europe/Madrid", PERIODIC_JOBS=NIGHTLY):
        yield


@pytest.fixture
def _signals_restored():
    """``db_worker`` installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def madrid(day: int, hour: int, minute: int, month: int = 5) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def refit_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=REFIT))


def tick_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return tick()


@pytest.mark.django_db
def test_a_tick_after_half_past_two_enqueues_the_refit_once_and_before_it_nothing():
    assert tick_at(madrid(11, 2, 29)) == 1  # a fresh install catches up on the night before
    assert ScheduledRun.objects.get().period_key == "2026-05-10"
    assert tick_at(madrid(11, 2, 29)) == 0
    assert tick_at(madrid(11, 2, 30)) == 1
    assert tick_at(madrid(11, 2, 31)) == 0
    assert tick_at(madrid(11, 23, 59)) == 0
    assert tick_at(madrid(12, 2, 29)) == 0  # before the night's time: yesterday's run stands
    assert len(refit_tasks()) == 2
    assert tick_at(madrid(12, 2, 30)) == 1
    runs = list(ScheduledRun.objects.order_by("due_at").values_list("period_key", "due_at", "task_result_id"))
    assert [(key, due) for key, due, _task in runs] == [
        ("2026-05-10", madrid(10, 2, 30)),
        ("2026-05-11", madrid(11, 2, 30)),
        ("2026-05-12", madrid(12, 2, 30)),
    ]
    tasks = refit_tasks()
    assert sorted(str(task.id) for task in tasks) == sorted(task_id for _key, _due, task_id in runs)
    assert {task.status for task in tasks} == {"READY"}


@pytest.mark.django_db
def test_a_worker_down_for_three_nights_runs_the_job_once_when_it_comes_back():
    assert tick_at(madrid(8, 3, 0)) == 1
    assert tick_at(madrid(11, 9, 15)) == 1  # down on the nights of the 9th, 10th and 11th
    assert tick_at(madrid(11, 9, 16)) == 0
    assert list(ScheduledRun.objects.order_by("due_at").values_list("period_key", flat=True)) == [
        "2026-05-08",
        "2026-05-11",
    ]
    assert len(refit_tasks()) == 2


@pytest.mark.django_db
@override_settings(PERIODIC_JOBS={"refit_wait_estimators": {"task": REFIT, "daily_at": "04:00"}})
def test_the_time_of_day_comes_from_the_setting():
    assert tick_at(madrid(11, 3, 59)) == 1  # the 10th's
    assert tick_at(madrid(11, 3, 59)) == 0
    assert tick_at(madrid(11, 4, 0)) == 1


def test_the_period_follows_the_local_clock_across_daylight_saving_changes():
    job = schedule.PeriodicJob("refit", REFIT, dt.time(2, 30), MADRID)
    # 29 March 2026: clocks go from 02:00 to 03:00, so 02:30 is read as 03:30 summer time.
    spring = dt.datetime(2026, 3, 29, 1, 29, tzinfo=dt.UTC)  # 03:29 summer time
    assert job.period_at(spring).key == "2026-03-28"
    assert job.period_at(spring + dt.timedelta(minutes=1)) == schedule.Period(
        "2026-03-29", dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    )
    # 25 October 2026: 02:30 happens twice; the first one counts, and only once.
    autumn_first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 02:30 summer time
    assert job.period_at(autumn_first - dt.timedelta(seconds=1)).key == "2026-10-24"
    assert job.period_at(autumn_first).key == "2026-10-25"
    assert job.period_at(autumn_first + dt.timedelta(hours=1)).key == "2026-10-25"  # 02:30 winter time


@pytest.mark.django_db(transaction=True)
def test_eight_workers_racing_for_the_same_night_enqueue_one_task():
    job = schedule.periodic_jobs()[0]
    period = job.period_at(madrid(11, 2, 30))
    start = threading.Barrier(8)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            # The insert-or-skip itself, without the cheap "already there?" read that would
            # usually spare a late worker the race.
            results.append(services.enqueue_once(job=job, period=period))
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 8
    winners = [run for run in results if run is not None]
    assert len(winners) == 1
    assert ScheduledRun.objects.count() == 1
    assert len(refit_tasks()) == 1
    assert str(refit_tasks()[0].id) == ScheduledRun.objects.get().task_result_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_signals_restored")
def test_worker_batch_enqueues_the_due_refit_and_runs_it(setup):
    with time_machine.travel(madrid(11, 2, 31), tick=False):
        call_command("worker", "--batch", "--verbosity", "0")
    [task] = refit_tasks()
    assert task.status == "SUCCESSFUL"
    # The branch has no history yet: the refit ran and said why it kept no fit.
    assert [row["branch"] for row in task.return_value] == ["gran-via", None]
    assert all(row["model_id"] is None and row["error"] for row in task.return_value)
    with time_machine.travel(madrid(11, 14, 0), tick=False):
        call_command("worker", "--batch", "--verbosity", "0")
    assert len(refit_tasks()) == 1
    with time_machine.travel(madrid(11, 14, 0), tick=False):
        call_command("worker", "--batch", "--no-schedule", "--verbosity", "0")
    assert ScheduledRun.objects.count() == 1


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        ({"refit": {"task": "frontdesk.queueing.tasks.no_such_task", "daily_at": "02:30"}}, "no_such_task"),
        ({"refit": {"task": "frontdesk.core.clock.now", "daily_at": "02:30"}}, "is not a task"),
        ({"refit": {"task": REFIT, "daily_at": "half past two"}}, "is not HH:MM"),
        ({"refit": {"task": REFIT}}, "needs 'task' and 'daily_at'"),
    ],
)
def test_a_wrong_schedule_fails_the_system_check(jobs, message):
    with override_settings(PERIODIC_JOBS=jobs):
        [error] = check_periodic_jobs()
    assert message in error.msg


def test_an_unknown_time_zone_fails_the_system_check():
    with override_settings(SCHEDULE_TIME_ZONE="Mars/Olympus_Mons"):
        [error] = check_periodic_jobs()
    assert "Mars/Olympus_Mons" in error.msg


@pytest.mark.django_db(transaction=True)
def test_the_long_running_worker_ticks_the_schedule_in_its_own_thread():
    from frontdesk.core.management.commands.worker import ScheduleThread

    thread = ScheduleThread(interval=0.05)
    with time_machine.travel(madrid(11, 2, 31), tick=False):
        thread.start()
        try:
            for _ in range(200):
                if ScheduledRun.objects.exists():
                    break
                threading.Event().wait(0.05)
        finally:
            thread.stopped.set()
            thread.join(timeout=10)
    assert not thread.is_alive()
    assert list(ScheduledRun.objects.values_list("period_key", flat=True)) == ["2026-05-11"]
    assert len(refit_tasks()) == 1
