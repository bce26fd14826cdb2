"""The queue's hot statements: lock a counter, call next, change a visit, a ticket's position.

Call next and the steps at the counter are what every counter does all day, so they are written
by hand instead of through the ORM: the ORM spent about 9 ms of CPU and 10 statements on a call and
its no-show, where these take one statement each beside the transition record (BENCHMARKS.md).
Each statement does its checks in its ``WHERE`` clause (the status the step needs, the staff
member's branch, what the counter serves, that it is free), so the check and the change are one
atomic step. When a statement changes nothing the service asks why, on the slow path, and says so.

The SQL is plain enough for both databases: PostgreSQL, and SQLite 3.35+ (``RETURNING``);
``FOR UPDATE SKIP LOCKED`` only where the database has it (SQLite serialises writers with its
IMMEDIATE transactions instead). Only services call these functions, inside their transaction.
"""

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from frontdesk.accounts.models import StaffMember
from frontdesk.accounts.selectors import TokenCheck, token_check_params, token_valid_sql
from frontdesk.branches.models import Branch, Service, ServicePoint
from frontdesk.branches.selectors import REFERENCE_VERSION_SQL, reference_row
from frontdesk.core.joined import ModelRows

from .models import CounterSession, TicketSequence, Visit, VisitStatus, VisitTransition
from .ordering import calling_order_sql, first_in_calling_order_sql

_VISIT = Visit._meta.db_table
_SERVICES = Service._meta.db_table
_SESSION = CounterSession._meta.db_table
_TRANSITIONS = VisitTransition._meta.db_table
_SEQUENCE = TicketSequence._meta.db_table
_BRANCH_SERVICES = Branch.services.through._meta.db_table
_COUNTER_SERVICES = ServicePoint.services.through._meta.db_table
_STAFF_SERVICES = StaffMember.services.through._meta.db_table
_STAFF_BRANCHES = StaffMember.branches.through._meta.db_table


def _status_literal(status: VisitStatus) -> str:
    """A status as an SQL literal, for statements that PostgreSQL prepares once and runs for ever.

    A bound parameter leaves a prepared statement's generic plan blind to which status it asks for:
    it cannot use the partial one-visit-per-counter index, nor the statistics that say few visits
    wait, and planned a sequential scan of the whole visit table on every call. The values are
    the model's own constants, never input.
    """
    assert status.value.isidentifier()
    return f"'{status.value}'"


_WAITING = _status_literal(VisitStatus.WAITING)
_CALLED = _status_literal(VisitStatus.CALLED)
_SERVING = _status_literal(VisitStatus.SERVING)

_VISIT_ROWS = ModelRows(Visit)
_RETURNING = _VISIT_ROWS.columns()
_SERVICE_ROWS = ModelRows(Service)
# The relations a visit's answer and events read, and what each holds.
_VISIT_REFERENCES: list[tuple[type[Model], Any]] = [
    (Service, Visit._meta.get_field("service")),
    (ServicePoint, Visit._meta.get_field("service_point")),
    (Branch, Visit._meta.get_field("branch")),
]

# The staff member may act at the branch: every branch for head office, else a membership.
_WORKS_AT_BRANCH = (
    "(%(any_branch)s OR EXISTS (SELECT 1 FROM {members} m"
    " WHERE m.staffmember_id = %(staff)s AND m.branch_id = {branch}))"
)


def works_at_branch_sql(branch_column: str) -> str:
    """SQL that is true when the staff member may act at the branch in ``branch_column``.

    Its parameters are ``%(staff)s`` (their id) and ``%(any_branch)s`` (``sees_every_branch``).
    """
    return _WORKS_AT_BRANCH.format(members=_STAFF_BRANCHES, branch=branch_column)


def _datetime(value: dt.datetime) -> Any:
    """A datetime as the database compares it (SQLite stores naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _one_visit(sql: str, params: Mapping[str, Any]) -> Visit | None:
    """Run a statement that returns at most one visit row (every column, in field order)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _VISIT_ROWS.instance(row) if row is not None else None


def offered_at_branch_sql(service_column: str) -> str:
    """SQL that is true when the branch ``%(branch)s`` offers the service in ``service_column``."""
    return (
        f"EXISTS (SELECT 1 FROM {_BRANCH_SERVICES} offered"
        f" WHERE offered.branch_id = %(branch)s AND offered.service_id = {service_column})"
    )


def take_ticket_number(*, branch_id: int, service_id: int, business_date: dt.date) -> int | None:
    """The next ticket number of the day for the service, or None if the branch does not offer it.

    One atomic upsert of the day's sequence row (no duplicates, no gaps); its row lock is held until
    the transaction ends, so the visit that takes the number must be inserted in the same one.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_SEQUENCE} (branch_id, service_id, business_date, last_number)"
            f" SELECT %(branch)s, %(service)s, %(day)s, 1 WHERE {offered_at_branch_sql('%(service)s')}"
            " ON CONFLICT (branch_id, service_id, business_date)"
            f" DO UPDATE SET last_number = {_SEQUENCE}.last_number + 1 RETURNING last_number",
            {
                "branch": branch_id,
                "service": service_id,
                "day": connection.ops.adapt_datefield_value(business_date),
            },
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def ticket_code_sql(letter: str, number: str) -> str:
    """SQL for ``services.format_ticket_code``: the letter, a dash and the number with at least three
    digits (``B-042``, ``B-1000``). ``letter`` and ``number`` are SQL."""
    digits = f"CASE WHEN {number} < 100 THEN lpad({number}::text, 3, '0') ELSE {number}::text END"
    return f"{letter} || '-' || {digits}"


def check_in_visit(visit: Visit, *, action: str, staff_member_id: int | None) -> bool:
    """Take the day's next ticket number, insert the visit (built in Python with its defaults) and
    its check-in transition as one statement; set the visit's id, number and code.

    False, with nothing changed, when the branch does not offer the service. The sequence row's
    lock is held only while this statement commits, so kiosks taking tickets for one service at
    once queue for microseconds rather than for a transaction's round trips. A visit refused by a
    unique index (a double tap's idempotency key) undoes the number with it: no gap. PostgreSQL
    only (:func:`writes_in_one_statement`).
    """
    params: dict[str, Any] = {
        field.attname: field.get_db_prep_save(field.pre_save(visit, add=True), connection)
        for field in _CHECK_IN_FIELDS
    }
    params.update(
        branch=visit.branch_id,
        service=visit.service_id,
        day=params["business_date"],
        action=action,
        staff=staff_member_id,
        now=params["arrived_at"],
    )
    with connection.cursor() as cursor:
        cursor.execute(_check_in_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return False
    visit.pk, visit.ticket_number, visit.ticket_code = row
    visit._state.adding = False
    visit._state.db = connection.alias
    return True


# Every column of a new visit but its id and the two that come from the day's sequence.
_CHECK_IN_FIELDS = [
    field
    for field in Visit._meta.concrete_fields
    if not field.primary_key and field.attname not in {"ticket_number", "ticket_code"}
]


@functools.cache
def _check_in_sql() -> str:
    columns = ", ".join(str(field.column) for field in _CHECK_IN_FIELDS)
    values = ", ".join(f"%({field.attname})s" for field in _CHECK_IN_FIELDS)
    code = ticket_code_sql(
        f"(SELECT ticket_letter FROM {_SERVICES} WHERE id = %(service)s)", "number.last_number"
    )
    return (
        f"WITH number AS (INSERT INTO {_SEQUENCE} (branch_id, service_id, business_date, last_number)"
        f" SELECT %(branch)s, %(service)s, %(day)s, 1 WHERE {offered_at_branch_sql('%(service)s')}"
        " ON CONFLICT (branch_id, service_id, business_date)"
        f" DO UPDATE SET last_number = {_SEQUENCE}.last_number + 1 RETURNING last_number),"
        f" inserted AS (INSERT INTO {_VISIT} ({columns}, ticket_number, ticket_code)"
        f" SELECT {values}, number.last_number, {code} FROM number"
        " RETURNING id, ticket_number, ticket_code, status, service_id),"
        f" step AS (INSERT INTO {_TRANSITIONS} ({_TRANSITION_COLUMNS}) SELECT id, %(action)s, '', status,"
        " %(now)s, %(staff)s, NULL, service_id, '' FROM inserted)"
        " SELECT id, ticket_number, ticket_code FROM inserted"
    )


def insert_visit(visit: Visit) -> None:
    """Insert a new visit (built in Python with its defaults) and set its id."""
    fields = [field for field in Visit._meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_VISIT} ({', '.join(str(field.column) for field in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",
            [field.get_db_prep_save(field.pre_save(visit, add=True), connection) for field in fields],
        )
        row = cursor.fetchone()
    assert row is not None
    visit.pk = row[0]
    visit._state.adding = False
    visit._state.db = connection.alias


def ticket_at_counter(*, service_point_id: int) -> str | None:
    """The code of the ticket called to or served at the counter, if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ticket_code FROM {_VISIT}"
            f" WHERE service_point_id = %s AND status IN ({_CALLED}, {_SERVING}) LIMIT 1",
            [service_point_id],
        )
        row = cursor.fetchone()
        return str(row[0]) if row else None


def call_first_waiting(
    *,
    branch_id: int,
    service_point_id: int,
    staff_member_id: int,
    any_branch: bool,
    now: dt.datetime,
    max_wait: dt.timedelta,
    record_as: str | None = None,
) -> Visit | None:
    """Call the first waiting visit the counter and its staff member may serve, in calling order.

    Only for a staff member signed in at the counter and working at its branch, and only while the
    counter is with nobody. ``SKIP LOCKED`` lets every counter of a branch call at once without
    waiting on each other or taking the same ticket. Two calls at one counter at the same moment
    (a double click) both pass the "with nobody" test; the index that keeps a counter to one visit
    at a time then refuses the second (``IntegrityError``), once the first has committed.

    ``record_as`` (the call's action; PostgreSQL only, :func:`writes_in_one_statement`)
    records the transition in the same statement and returns the visit with its service.
    """
    params = {
        "now": _datetime(now),
        "cutoff": _datetime(now - max_wait),
        "point": service_point_id,
        "staff": staff_member_id,
        "branch": branch_id,
        "any_branch": any_branch,
    }
    if record_as is None:
        ctes, update = _call_sql(branch="%(branch)s", cutoff="%(cutoff)s", ended_here=False)
        return _one_visit(f"WITH {ctes} {update} RETURNING {_RETURNING}", params)
    with connection.cursor() as cursor:
        cursor.execute(_call_and_record_sql(), {**params, "call_action": record_as})
        row = cursor.fetchone()
    if row is None:
        return None
    visit = _VISIT_ROWS.instance(row[: _VISIT_ROWS.width])
    service = _SERVICE_ROWS.instance(row[_VISIT_ROWS.width :])
    assert visit is not None
    assert service is not None
    visit.service = service
    return visit


@functools.cache
def _call_and_record_sql() -> str:
    ctes, update = _call_sql(branch="%(branch)s", cutoff="%(cutoff)s", ended_here=False)
    return (
        f"WITH {ctes}, called AS ({update} RETURNING {_RETURNING}),"
        f" called_step AS ({_step('call_action', _WAITING)} FROM called)"
        f" SELECT x.*, {_SERVICE_ROWS.columns('s')} FROM called x JOIN {_SERVICES} s ON s.id = x.service_id"
    )


def _call_sql(*, branch: str, cutoff: str, ended_here: bool) -> tuple[str, str]:
    """The ``WITH`` clauses and the ``UPDATE`` that call the counter's first waiting visit.

    ``branch`` and ``cutoff`` are SQL for the branch and ``now - max_wait``. ``ended_here``: the
    same statement ends the counter's visit, having checked that the staff member is signed in at
    the counter and works at the branch; the counter is then free, as the index that keeps a
    counter to one visit at a time allows no other. Parameters: ``%(point)s``, ``%(staff)s``,
    ``%(any_branch)s``, ``%(now)s``.
    """
    skip_locked = (
        " FOR UPDATE OF v SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    # Signed in at the counter, working at the branch, the counter with nobody.
    may_call_here = (
        f" AND EXISTS (SELECT 1 FROM {_SESSION} s WHERE s.service_point_id = %(point)s"
        f" AND s.staff_member_id = %(staff)s AND s.ended_at IS NULL) AND {works_at_branch_sql('v.branch_id')}"
        f" AND NOT EXISTS (SELECT 1 FROM {_VISIT} busy WHERE busy.service_point_id = %(point)s"
        f" AND busy.status IN ({_CALLED}, {_SERVING}))"
    )
    serves = (
        f"SELECT service_id FROM {_COUNTER_SERVICES} c WHERE c.servicepoint_id = %(point)s"
        f" AND (NOT EXISTS (SELECT 1 FROM {_STAFF_SERVICES} WHERE staffmember_id = %(staff)s)"
        f" OR c.service_id IN (SELECT service_id FROM {_STAFF_SERVICES} WHERE staffmember_id = %(staff)s))"
    )
    # Both probes take the services the counter serves and its staff member may serve. Where the
    # statement is PostgreSQL's own (ended_here), they share one inlined WITH, which keeps the
    # statement under psycopg's length for caching (see _end_and_call_next_sql).
    eligible = (
        f"v.branch_id = {branch} AND v.status = {_WAITING}"
        f" AND v.service_id IN ({'SELECT service_id FROM serves' if ended_here else serves})"
        " AND (v.target_service_point_id IS NULL OR v.target_service_point_id = %(point)s)"
        f"{'' if ended_here else may_call_here}"
    )
    ctes, pick = first_in_calling_order_sql(
        table=_VISIT, alias="v", eligible=eligible, cutoff=cutoff, lock=skip_locked
    )
    if ended_here:
        ctes = f"serves AS NOT MATERIALIZED ({serves}), {ctes}"
    update = (
        f"UPDATE {_VISIT} SET status = {_CALLED}, called_at = %(now)s, service_point_id = %(point)s,"
        " staff_member_id = %(staff)s, target_service_point_id = NULL"
        f" WHERE id = {pick}"
    )
    return ctes, update


def writes_in_one_statement() -> bool:
    """Whether a step and its transition can be one statement (:func:`check_in_visit`,
    :func:`end_and_call_next`, ``record_as``): PostgreSQL runs ``UPDATE`` and ``INSERT`` inside
    ``WITH``; SQLite cannot, and takes the steps one by one in a transaction."""
    return connection.vendor == "postgresql"


def end_and_call_next(
    *,
    visit_id: int,
    service_point_id: int,
    staff_member_id: int,
    any_branch: bool,
    end_action: str,
    from_status: VisitStatus,
    changes: Mapping[str, Any],
    call_action: str,
    now: dt.datetime,
    branch_id: int,
    max_wait: dt.timedelta,
    reference_version: int,
    token: TokenCheck | None = None,
) -> tuple[Visit, Visit | None] | None:
    """End the visit at the counter and call the counter's next, with both transitions, as one
    statement (so one round trip and atomic without a transaction of its own).

    The visit is ended only if it is at this counter, in ``from_status``, at the counter's branch
    ``branch_id``, which the staff member works at, the staff member is signed in at the counter,
    and the reference version is still ``reference_version``: then the call can only find nobody
    waiting. The caller takes the branch, whether it is active and its ``max_wait`` from the
    counter as the process holds it at that version
    (:func:`~frontdesk.branches.selectors.held_row`), so the statement reads no branch row.
    Returns the ended and the called visit (None when nobody waits), each with its branch, service
    and counter (shared, read-only instances: :func:`~frontdesk.branches.selectors.reference_row`);
    None when nothing was changed, for the caller to find out why the slow way. With ``token``,
    the visit is ended only while the remembered token claim still holds
    (:func:`~frontdesk.accounts.selectors.token_valid_sql`). PostgreSQL only
    (:func:`writes_in_one_statement`).
    """
    params: dict[str, Any] = {
        "visit": visit_id,
        "point": service_point_id,
        "staff": staff_member_id,
        "any_branch": any_branch,
        "now": _datetime(now),
        "cutoff": _datetime(now - max_wait),
        "branch": branch_id,
        "version": reference_version,
        "end_action": end_action,
        "call_action": call_action,
        **(token_check_params(token) if token is not None else {}),
    }
    assignments = _assignments(changes, params)
    with connection.cursor() as cursor:
        cursor.execute(_end_and_call_next_sql(from_status, assignments, token is not None), params)
        rows = cursor.fetchall()
    if not rows or rows[0][0] != 0:
        return None
    ended = _with_references(rows[0][1:], reference_version)
    return ended, _with_references(rows[1][1:], reference_version) if len(rows) > 1 else None


@functools.cache
def _end_and_call_next_sql(from_status: VisitStatus, assignments: str, checks_token: bool) -> str:
    """The statement of :func:`end_and_call_next`, built once per kind of ending.

    Kept under psycopg's 4,096 characters for statements whose placeholders it converts once
    (longer ones are parsed again on every run): the call's probes rely on the checks the ending
    passed (``_call_sql``), and both transitions are one ``INSERT``. The two rows' service, counter
    and branch are not joined but come from the process's memory (``_with_references``), which
    made a press about a tenth faster through HTTP (BENCHMARKS.md, session 9); so do the branch's
    active flag and maximum wait, held true by the version check (session 10).
    """
    from_literal = _status_literal(from_status)
    # The call is made only when the ending was (its branch is the ended visit's).
    call_ctes, call_update = _call_sql(
        branch="(SELECT branch_id FROM ended)", cutoff="%(cutoff)s", ended_here=True
    )
    return (
        f"WITH ended AS (UPDATE {_VISIT} e SET {assignments}"
        f" WHERE e.id = %(visit)s AND e.status = {from_literal} AND e.service_point_id = %(point)s"
        f" AND e.branch_id = %(branch)s AND {works_at_branch_sql('%(branch)s')}"
        f" AND {REFERENCE_VERSION_SQL} = %(version)s"
        f" AND EXISTS (SELECT 1 FROM {_SESSION} s WHERE s.service_point_id = %(point)s"
        " AND s.staff_member_id = %(staff)s AND s.ended_at IS NULL)"
        f"{f' AND {token_valid_sql()}' if checks_token else ''}"
        f" RETURNING {_RETURNING}),"
        f" {call_ctes},"
        f" called AS ({call_update} RETURNING {_RETURNING}),"
        f" steps AS ({_step('end_action', from_literal)} FROM ended"
        f" UNION ALL {_step('call_action', _WAITING, insert=False)} FROM called)"
        # The service, counter and branch are not joined: the ending checked the version of the
        # reference rows, and the process holds the rows of that version (reference_row).
        " SELECT x.*"
        " FROM (SELECT 0 AS step, * FROM ended UNION ALL SELECT 1, * FROM called) x ORDER BY x.step"
    )


def _with_references(row: Sequence[Any], version: int | None) -> Visit:
    """A visit from a row of its columns, with its service, counter and branch as of the reference
    ``version`` the same statement returned (:func:`~frontdesk.branches.selectors.reference_row`)."""
    visit = _VISIT_ROWS.instance(row)
    assert visit is not None
    for model, field in _VISIT_REFERENCES:
        pk = getattr(visit, field.attname)
        field.set_cached_value(visit, reference_row(model, pk, version) if pk is not None else None)
    return visit


def lock_visit(*, visit_id: int, staff_member_id: int | None, any_branch: bool) -> tuple[Visit, bool] | None:
    """The visit's row, locked until the transaction ends, and whether the staff member may act at its
    branch (always True without a staff member). None when there is no such visit."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    params: dict[str, Any]
    if staff_member_id is None:
        works_here, params = "%(any_branch)s", {"any_branch": True}
    else:
        works_here = works_at_branch_sql(f"{_VISIT}.branch_id")
        params = {"staff": staff_member_id, "any_branch": any_branch}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_RETURNING}, {works_here} FROM {_VISIT} WHERE id = %(visit)s{lock}",
            {**params, "visit": visit_id},
        )
        row = cursor.fetchone()
    visit = _VISIT_ROWS.instance(row) if row is not None else None
    if row is None or visit is None:
        return None
    return visit, bool(row[_VISIT_ROWS.width])


def update_visit(*, visit_id: int, changes: Mapping[str, Any]) -> None:
    """Write ``changes`` (field name to value; model instances for foreign keys) to a locked visit."""
    params: dict[str, Any] = {"visit": visit_id}
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_VISIT} SET {_assignments(changes, params)} WHERE id = %(visit)s", params)


def change_visit_if(
    *,
    visit_id: int,
    status: str,
    changes: Mapping[str, Any],
    staff_member_id: int,
    any_branch: bool,
    record_as: tuple[str, dt.datetime] | None = None,
) -> Visit | None:
    """Apply ``changes`` if the visit is still in ``status`` and at a branch the staff member works at.

    The new row, or None when nothing was changed (no such visit, another status, not their branch).
    ``record_as`` (an action and its time; PostgreSQL only, :func:`writes_in_one_statement`)
    also records the transition, at the visit's counter, in the same statement.
    """
    params: dict[str, Any] = {
        "visit": visit_id,
        "status": status,
        "staff": staff_member_id,
        "any_branch": any_branch,
    }
    update = (
        f"UPDATE {_VISIT} SET {_assignments(changes, params)}"
        f" WHERE id = %(visit)s AND status = %(status)s AND {works_at_branch_sql(f'{_VISIT}.branch_id')}"
        f" RETURNING {_RETURNING}"
    )
    if record_as is None:
        return _one_visit(update, params)
    params["action"], params["now"] = record_as[0], _datetime(record_as[1])
    step = _step("action", "%(status)s", point="service_point_id")
    return _one_visit(
        f"WITH changed AS ({update}), step AS ({step} FROM changed) SELECT * FROM changed", params
    )


def _assignments(changes: Mapping[str, Any], params: dict[str, Any]) -> str:
    """``column = %(vN)s, …`` for the changes, their values added to ``params``."""
    assignments = []
    for name, value in changes.items():
        field = Visit._meta.get_field(name)
        key = f"v{len(params)}"
        params[key] = _db_value(field, value)
        assignments.append(f"{field.column} = %({key})s")  # type: ignore[union-attr]
    return ", ".join(assignments)


_TRANSITION_COLUMNS = (
    "visit_id, action, from_status, to_status, at, staff_member_id, service_point_id, service_id, reason"
)


def _step(action: str, from_status: str, point: str = "%(point)s", *, insert: bool = True) -> str:
    """A step's transition as an ``INSERT … SELECT`` to follow with ``FROM <the step's WITH name>``.

    ``action`` names the parameter holding the action; ``from_status`` and ``point`` are SQL (the
    transition's counter: the acting counter's parameter, or the changed row's own). Without
    ``insert``, only the ``SELECT``, to add to another step's with ``UNION ALL``.
    """
    select = f"SELECT id, %({action})s, {from_status}, status, %(now)s, %(staff)s, {point}, service_id, ''"
    return f"INSERT INTO {_TRANSITIONS} ({_TRANSITION_COLUMNS}) {select}" if insert else select


def record_transition(
    *,
    visit_id: int,
    action: str,
    from_status: str,
    to_status: str,
    at: dt.datetime,
    staff_member_id: int | None,
    service_point_id: int | None,
    service_id: int,
    reason: str,
) -> None:
    """Append one :class:`VisitTransition` row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TRANSITIONS} ({_TRANSITION_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                visit_id,
                action,
                from_status,
                to_status,
                _datetime(at),
                staff_member_id,
                service_point_id,
                service_id,
                reason,
            ],
        )


def _db_value(field: Any, value: Any) -> Any:
    if isinstance(value, Model):
        value = value.pk
    if value is None:
        return None
    return field.get_db_prep_save(value, connection)


# ---------------------------------------------------------------------------------------------
# Reads behind every ticket page


def waiting_ids_in_calling_order(
    *, branch_id: int, service_id: int, now: dt.datetime, max_wait: dt.timedelta
) -> list[int]:
    """The ids of the service's waiting visits at the branch, first to be called first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v.id FROM {_VISIT} v WHERE v.branch_id = %(branch)s AND v.status = {_WAITING}"
            f" AND v.service_id = %(service)s ORDER BY {calling_order_sql('v', cutoff='%(cutoff)s')}",
            {
                "branch": branch_id,
                "service": service_id,
                "cutoff": _datetime(now - max_wait),
            },
        )
        return [row[0] for row in cursor.fetchall()]


def open_counters_serving(*, branch_id: int, service_id: int) -> int:
    """How many counters of the branch that serve the service have someone signed in."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT s.service_point_id) FROM {_SESSION} s"
            f" JOIN {ServicePoint._meta.db_table} p ON p.id = s.service_point_id"
            f" JOIN {_COUNTER_SERVICES} m ON m.servicepoint_id = s.service_point_id"
            " WHERE s.ended_at IS NULL AND p.branch_id = %s AND m.service_id = %s",
            [branch_id, service_id],
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0
