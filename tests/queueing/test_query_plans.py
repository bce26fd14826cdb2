"""The counter's hot statements stay index lookups when the database prepares them once.

PostgreSQL runs a statement it has prepared with a generic plan, made without the parameters'
values; SQLite plans a statement with bound parameters the same way. A status passed as a
parameter then hides which status is asked for, the partial one-visit-per-counter index no longer
applies, and the busy-counter probe became a scan of the whole visit table on every call
(BENCHMARKS.md). These tests plan the statements exactly as the code binds them, over a table
with history, and look for the scan.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection

from frontdesk.queueing import services, statements
from frontdesk.queueing.models import Visit, VisitStatus

pytestmark = pytest.mark.django_db


def _history(setup, days: int = 20, per_day: int = 100) -> None:
    """Ended visits of past days at every counter, as a branch's table holds them."""
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    counters = [setup.counter_1, setup.counter_2, setup.counter_3]
    rows = []
    for day in range(days):
        for n in range(per_day):
            at = start + dt.timedelta(days=day, minutes=5 * n)
            rows.append(
                Visit(
                    branch=setup.branch,
                    service=setup.general,
                    business_date=at.date(),
                    ticket_number=n + 1,
                    ticket_code=f"A-{n + 1:03d}",
                    status=VisitStatus.DONE,
                    arrived_at=at,
                    queued_at=at,
                    called_at=at,
                    finished_at=at + dt.timedelta(minutes=4),
                    service_point=counters[n % 3],
                )
            )
    Visit.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@contextmanager
def _captured() -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent, as its SQL and parameters before the driver binds them."""
    seen: list[tuple[str, Any]] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def _generic_plan(sql: str, params: Any) -> str:
    """The plan the database uses for ``sql`` with its parameters bound, not inlined."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            key = match.group(1) or str(len(names))
            if key not in names or match.group(1) is None:
                names.append(key)
            return f"${names.index(key) + 1}"

        numbered = re.sub(r"%\((\w+)\)s|%s", placeholder, sql)
        values = [params[name] for name in names] if isinstance(params, dict) else list(params)
    import psycopg

    # PREPARE with $n in its body must go by the simple query protocol: a client-side cursor.
    with psycopg.ClientCursor(connection.connection) as raw:
        raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        raw.execute(f"PREPARE hot_statement AS {numbered}")
        try:
            raw.execute(f"EXPLAIN EXECUTE hot_statement({', '.join(['%s'] * len(values))})", values)
            return "\n".join(str(row[0]) for row in raw.fetchall())
        finally:
            raw.execute("DEALLOCATE hot_statement")


def _scans_the_visit_table(plan: str) -> bool:
    if connection.vendor == "sqlite":
        return bool(re.search(rf"SCAN {Visit._meta.db_table}\b(?! USING)", plan)) or bool(
            re.search(r"SCAN busy\b(?! USING)", plan)
        )
    return "Seq Scan on queueing_visit" in plan


def test_the_busy_counter_probe_uses_the_one_visit_per_counter_index(setup):
    _history(setup)
    with _captured() as seen:
        statements.ticket_at_counter(service_point_id=setup.counter_1.pk)
    ((sql, params),) = seen
    plan = _generic_plan(sql, params)
    assert "one_visit_at_a_time_per_counter" in plan, plan
    assert not _scans_the_visit_table(plan), plan


def test_call_next_walks_the_waiting_in_arrival_order_and_probes_the_counter(setup, clerk):
    _history(setup)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    for _ in range(3):
        services.check_in(branch=setup.branch, service=setup.general)
    with _captured() as seen:
        services.call_next(staff_member=clerk, service_point=setup.counter_1)
    (sql, params) = next((s, p) for s, p in seen if " UPDATE " in f" {s.upper()} ")
    plan = _generic_plan(sql, params)
    assert "one_visit_at_a_time_per_counter" in plan, plan
    assert not _scans_the_visit_table(plan), plan
    # The queue is walked in arrival order, not read whole and sorted (ordering.py).
    assert "visit_waiting_idx" in plan, plan
    assert "visit_waiting_priority_idx" in plan, plan
    writes = [sql for sql, _params in seen if re.search(r"\b(UPDATE|INSERT)\b", sql)]
    # On PostgreSQL the call and its transition are one statement, a second one on SQLite.
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2), [w[:60] for w in writes]
    assert len(writes[0]) <= 4096  # psycopg converts longer statements' placeholders on every run


def test_one_press_is_one_statement_on_postgresql_and_never_scans_the_visit_table(setup, clerk):
    _history(setup)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    for _ in range(4):
        services.check_in(branch=setup.branch, service=setup.general)
    current = services.call_next(staff_member=clerk, service_point=setup.counter_1)

    def press() -> list[tuple[str, object]]:
        nonlocal current
        with _captured() as seen:
            ended, called = services.end_and_call_next(
                staff_member=clerk, service_point_id=setup.counter_1.pk, visit_id=current.pk, action="no_show"
            )
        assert ended.status == VisitStatus.NO_SHOW
        assert called is not None
        current = called
        return seen

    # The first press after the catalogue changed (the fixtures wrote it) reads the reference
    # version, then the counter, its branch and the service it names once
    # (branches.selectors.held_row, reference_row); the next ones do not.
    first = press()
    seen = press()
    writes = [(sql, params) for sql, params in seen if re.search(r"\b(UPDATE|INSERT)\b", sql)]
    if connection.vendor == "postgresql":
        assert len(first) == 5, [sql[:80] for sql, _ in first]
        # Both steps and both transitions in one round trip (statements.end_and_call_next).
        assert len(seen) == 1, [sql[:80] for sql, _ in seen]
        (sql, params) = seen[0]
        # The branch's active flag and maximum wait come from the counter the process holds.
        assert "branches_branch" not in sql
        plan = _generic_plan(sql, params)
        assert "visit_waiting_idx" in plan, plan
        # Short enough for psycopg to convert its placeholders once, not on every run.
        assert len(sql) <= 4096
    else:
        assert len(writes) >= 3  # the steps one by one
    for sql, params in writes:
        plan = _generic_plan(sql, params)
        assert not _scans_the_visit_table(plan), plan

    # Finishing (with outcome and note) is the longer statement of the two kinds of ending.
    services.start_service(staff_member=clerk, visit=current)
    with _captured() as seen:
        services.end_and_call_next(
            staff_member=clerk,
            service_point_id=setup.counter_1.pk,
            visit_id=current.pk,
            action="finish",
            outcome="resolved",
            note="Card sent",
        )
    if connection.vendor == "postgresql":
        assert len(seen) == 1
        assert len(seen[0][0]) <= 4096


def test_a_step_at_the_counter_records_its_transition_in_the_same_statement_on_postgresql(setup, clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.check_in(branch=setup.branch, service=setup.general)
    called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    with _captured() as seen:
        serving = services.start_service(staff_member=clerk, visit=called)
    writes = [sql for sql, _params in seen if re.search(r"\b(UPDATE|INSERT)\b", sql)]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2), [w[:60] for w in writes]
    assert serving.status == VisitStatus.SERVING
    step = serving.transitions.get(action="start")
    assert (step.from_status, step.to_status) == ("called", "serving")
    assert (step.staff_member, step.service_point) == (clerk, setup.counter_1)


def test_check_in_is_one_statement_on_postgresql(setup, clerk):
    services.check_in(branch=setup.branch, service=setup.general)
    with _captured() as seen:
        visit = services.check_in(branch=setup.branch, service=setup.general, staff_member=clerk)
    writes = [sql for sql, _params in seen if re.search(r"\b(UPDATE|INSERT)\b", sql)]
    # Number, visit and transition: one round trip on PostgreSQL, three statements on SQLite.
    assert len(writes) == (1 if connection.vendor == "postgresql" else 3), [w[:60] for w in writes]
    # (The test's own transaction adds a savepoint around it; a request's autocommit does not.)
    assert len([sql for sql, _params in seen if "SAVEPOINT" not in sql]) == len(writes)
    assert len(writes[0]) <= 4096
    assert visit.ticket_code == "A-002"
    assert Visit.objects.get(pk=visit.pk).ticket_number == 2
