"""Concurrent clients as separate processes: ``python -m tests.concurrency._worker``.

The parent test writes one JSON line on stdin: ``{"task", "database_name", "jobs": [...]}``. This
process sets Django up once against that database, then forks one child process per job (so
sixteen clients do not each pay for importing Django). Each child opens its own database
connection, loads what its job needs and waits at a barrier; when every child is ready they are
all released at once and race. The answer is one JSON line on stdout:
``{"ok": true, "results": [...], "ready_seconds": ..., "race_seconds": ...}`` or
``{"ok": false, "error": "..."}``.
"""

import contextlib
import json
import multiprocessing
import os
import resource
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

BARRIER_TIMEOUT = 60.0


def _setup_django(database_name: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "frontdesk.config.settings.test"
    from django.conf import settings

    # The same engine and options as the test run (DATABASE_URL is inherited), but the test
    # database that pytest-django created rather than the real one.
    settings.DATABASES["default"]["NAME"] = database_name
    # No channel layer: nobody listens to these processes' events, and the realtime path is
    # tested in tests/realtime. Publishing then costs almost nothing and cannot slow the race.
    settings.CHANNEL_LAYERS = {}
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# Tasks: each loads its objects, calls ``go()`` (the start line), races, and returns what it did.


def call_next_until_empty(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """A clerk at a counter: call next, then serve or mark no-show, until the queue is empty."""
    from frontdesk.accounts.models import StaffMember
    from frontdesk.branches.models import ServicePoint
    from frontdesk.core.errors import QueueEmpty
    from frontdesk.queueing import services
    from frontdesk.queueing.models import Outcome

    clerk = StaffMember.objects.get(pk=job["staff_id"])
    counter = ServicePoint.objects.select_related("branch").get(pk=job["counter_id"])
    go()
    called: list[int] = []
    while True:
        try:
            visit = services.call_next(staff_member=clerk, service_point=counter)
        except QueueEmpty:
            break
        called.append(visit.pk)
        if visit.pk % 4:
            services.mark_no_show(staff_member=clerk, visit=visit)
        else:  # one in four is served; the rest did not come (fewer writes, same race)
            services.start_service(staff_member=clerk, visit=visit)
            services.finish_visit(staff_member=clerk, visit=visit, outcome=Outcome.RESOLVED)
    return {"called": called}


def naive_call_until_empty(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """The bug ``call_next`` exists to prevent: look at the first waiting ticket, then take it.

    The read is an autocommit query with no lock, and the write a separate transaction that
    updates by id without checking the status again. Deliberately wrong; never copy it. Each call
    is closed as a no-show in the same transaction, so the counter is free for its next call (a
    counter is with one visit at a time, which the database enforces).
    """
    from django.db import transaction
    from django.utils import timezone

    from frontdesk.queueing.models import Visit, VisitAction, VisitStatus, VisitTransition

    go()
    called: list[int] = []
    pause = job.get("pause_seconds", 0.002)
    limit = job.get("max_calls", 10**9)
    while len(called) < limit:
        first = (
            Visit.objects.filter(branch_id=job["branch_id"], status=VisitStatus.WAITING)
            .order_by("arrived_at", "id")
            .values_list("pk", "service_id")
            .first()
        )
        if first is None:
            break
        visit_id, service_id = first
        time.sleep(pause)  # the moment between reading and writing that another counter fills
        now = timezone.now()
        with transaction.atomic():
            Visit.objects.filter(pk=visit_id).update(
                status=VisitStatus.CALLED,
                called_at=now,
                service_point_id=job["counter_id"],
                staff_member_id=job["staff_id"],
            )
            VisitTransition.objects.create(
                visit_id=visit_id,
                action=VisitAction.CALL,
                from_status=VisitStatus.WAITING,
                to_status=VisitStatus.CALLED,
                at=now,
                staff_member_id=job["staff_id"],
                service_point_id=job["counter_id"],
                service_id=service_id,
            )
            Visit.objects.filter(pk=visit_id).update(status=VisitStatus.NO_SHOW, finished_at=now)
        called.append(visit_id)
    return {"called": called}


def call_once(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """One press of "call next" (many of these at one counter at once: a double click, or worse)."""
    from frontdesk.accounts.models import StaffMember
    from frontdesk.branches.models import ServicePoint
    from frontdesk.core.errors import DomainError
    from frontdesk.queueing import services

    clerk = StaffMember.objects.get(pk=job["staff_id"])
    counter = ServicePoint.objects.select_related("branch").get(pk=job["counter_id"])
    go()
    try:
        visit = services.call_next(staff_member=clerk, service_point=counter)
    except DomainError as error:
        return {"called": [], "refused": str(error)}
    return {"called": [visit.pk], "refused": ""}


def end_and_call_next_once(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """One press of "did not come: call next" for the visit at the counter (many at once)."""
    from frontdesk.accounts.models import StaffMember
    from frontdesk.core.errors import DomainError
    from frontdesk.queueing import services
    from frontdesk.queueing.models import VisitAction

    clerk = StaffMember.objects.get(pk=job["staff_id"])
    go()
    try:
        _ended, called = services.end_and_call_next(
            staff_member=clerk,
            service_point_id=job["counter_id"],
            visit_id=job["visit_id"],
            action=VisitAction.NO_SHOW,
        )
    except DomainError as error:
        return {"called": [], "refused": str(error)}
    return {"called": [called.pk] if called else [], "refused": ""}


def check_in_many(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """A kiosk issuing ``count`` tickets for one service as fast as it can."""
    from frontdesk.branches.models import Branch, Service
    from frontdesk.queueing import services

    branch = Branch.objects.get(pk=job["branch_id"])
    service = Service.objects.get(pk=job["service_id"])
    go()
    issued = []
    for _ in range(job["count"]):
        visit = services.check_in(branch=branch, service=service)
        issued.append([visit.pk, visit.ticket_number, visit.ticket_code])
    return {"issued": issued}


def check_in_with_keys(job: dict[str, Any], go: Callable[[], None]) -> dict[str, Any]:
    """A kiosk whose taps carry the given idempotency keys, in order (double taps from many kiosks)."""
    from frontdesk.branches.models import Branch, Service
    from frontdesk.queueing import services

    branch = Branch.objects.get(pk=job["branch_id"])
    service = Service.objects.get(pk=job["service_id"])
    go()
    answers = {}
    for key in job["keys"]:
        visit = services.check_in(branch=branch, service=service, idempotency_key=key)
        answers[key] = [visit.pk, visit.ticket_number]
    return {"answers": answers}


TASKS: dict[str, Callable[[dict[str, Any], Callable[[], None]], dict[str, Any]]] = {
    "call_next": call_next_until_empty,
    "naive_call": naive_call_until_empty,
    "call_once": call_once,
    "end_and_call_next_once": end_and_call_next_once,
    "check_in": check_in_many,
    "check_in_with_keys": check_in_with_keys,
}


def _child(task: str, job: dict[str, Any], index: int, barrier: Any, answers: Any) -> None:
    from django.db import connections

    answer: dict[str, Any] = {"index": index}
    try:
        answer["result"] = TASKS[task](job, lambda: barrier.wait(BARRIER_TIMEOUT))
        answer["ok"] = True
    except BaseException:
        barrier.abort()  # release the others at once rather than after the timeout
        answer.update(ok=False, error=traceback.format_exc())
    finally:
        connections.close_all()
    answers.put(answer)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    # Import what the tasks use before forking, so each child starts warm.
    import frontdesk.queueing.services  # noqa: F401

    connections.close_all()  # no connection may be shared across a fork
    jobs = spec["jobs"]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(jobs) + 1)
    answers = context.Queue()
    children = [
        context.Process(target=_child, args=(spec["task"], job, index, barrier, answers), daemon=True)
        for index, job in enumerate(jobs)
    ]
    started = time.monotonic()
    for child in children:
        child.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a child broke it: its answer says why
        barrier.wait(BARRIER_TIMEOUT)
    released = time.monotonic()
    collected = sorted(
        (answers.get(timeout=spec.get("timeout", 120)) for _ in jobs), key=lambda a: a["index"]
    )
    finished = time.monotonic()
    for child in children:
        child.join(timeout=10)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    failures = [answer for answer in collected if not answer["ok"]]
    if failures:
        return {"ok": False, "error": "\n".join(f"child {a['index']}: {a['error']}" for a in failures)}
    return {
        "ok": True,
        "results": [answer["result"] for answer in collected],
        "ready_seconds": released - started,
        "race_seconds": finished - released,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    try:
        _setup_django(spec["database_name"])
        answer = run(spec)
    except BaseException:
        answer = {"ok": False, "error": traceback.format_exc()}
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
