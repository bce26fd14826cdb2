"""Reads for staff access."""

import json

from django.db import connection

from frontdesk.core.joined import ModelRows

from .models import ApiToken, StaffMember, hash_token

# Every API call by an integration starts here, so it is one hand-written statement rather than an
# ORM query built anew per request (BENCHMARKS.md, decision 0002). Columns are named, not ``s.*``:
# a prepared statement must keep its result shape when a migration adds a column while older
# processes still run.
_STAFF_ROWS = ModelRows(StaffMember)
_TOKEN_SQL = (
    f"SELECT {_STAFF_ROWS.columns('s')}, t.scopes FROM {StaffMember._meta.db_table} s"  # noqa: S608  (our table names)
    f" JOIN {ApiToken._meta.db_table} t ON t.staff_member_id = s.id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND s.is_active"
)


def staff_for_api_token(raw: str) -> tuple[StaffMember, frozenset[str]] | None:
    """The active staff member and scopes behind a raw bearer token, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [hash_token(raw)])
        row = cursor.fetchone()
    staff_member = _STAFF_ROWS.instance(row) if row is not None else None
    if row is None or staff_member is None:
        return None
    scopes = row[_STAFF_ROWS.width]
    return staff_member, frozenset(json.loads(scopes) if isinstance(scopes, str) else scopes)
