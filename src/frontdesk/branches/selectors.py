"""Reads of the branch catalogue: branches, services and counters."""

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Model

from .models import Branch, ReferenceVersion, ServicePoint

# SQL for the reference version, for a statement to return beside rows that name branches,
# services or counters by id (see ReferenceVersion). NULL after a flush of every table.
REFERENCE_VERSION_SQL = f"(SELECT version FROM {ReferenceVersion._meta.db_table} WHERE id = 1)"  # noqa: S608  (our table)

type _Key = tuple[type[Model], int]

# This process's rows of one reference version. Replaced, never emptied in place, when a
# statement returns another version, so that a thread holding the old dictionary keeps a
# consistent one.
_held: tuple[int | None, dict[_Key, Model]] = (None, {})


def reference_row[M: Model](model: type[M], pk: int, version: int | None) -> M:
    """The branch, service or counter ``pk`` as it is at ``version`` (:data:`REFERENCE_VERSION_SQL`
    read by the statement that named it), from this process's memory while that version holds.

    A counter comes with its branch. The instance is shared by every request and thread of the
    process that asks for it at that version: read it, never change or save it. Without a version
    (the row of ReferenceVersion flushed away) it is read every time.
    """
    global _held
    if version is None:
        return _load(model, pk, version)
    held_version, rows = _held
    if held_version != version:
        rows = {}
        _held = (version, rows)
    row = rows.get((model, pk))
    if row is None:
        # Read after the statement, so at least as new as its version: a later change moves the
        # version again and the next statement finds this dictionary stale.
        row = rows[(model, pk)] = _load(model, pk, version)
    assert isinstance(row, model)
    return row


def held_row[M: Model](model: type[M], pk: int, *, fresh: bool = False) -> tuple[int, M] | None:
    """The branch, service or counter ``pk`` as this process holds it, with the version it is
    held at, for a statement that acts on it only while that version is still the database's
    (``REFERENCE_VERSION_SQL = version`` in its ``WHERE``): then the row is what the database
    holds. The version is read first when nothing is held yet (once per process and catalogue
    change), or always with ``fresh`` (after such a statement changed nothing). None without a
    version (SQLite) or without such a row.
    """
    held_version, rows = _held
    row = rows.get((model, pk)) if held_version is not None and not fresh else None
    if row is not None:
        assert held_version is not None
        assert isinstance(row, model)
        return held_version, row
    version = reference_version()
    if version is None:
        return None
    try:
        return version, reference_row(model, pk, version)
    except ObjectDoesNotExist:
        return None


def reference_version() -> int | None:
    """The database's reference version now (None on SQLite, or after a flush of every table)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {REFERENCE_VERSION_SQL}")
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _load[M: Model](model: type[M], pk: int, version: int | None) -> M:
    row = model._base_manager.get(pk=pk)
    if isinstance(row, ServicePoint):
        ServicePoint._meta.get_field("branch").set_cached_value(
            row, reference_row(Branch, row.branch_id, version)
        )
    return row
