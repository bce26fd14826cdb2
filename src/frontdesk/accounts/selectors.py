"""Reads for staff access."""

import json

from .models import ApiToken, StaffMember, hash_token

# Every API call by an integration starts here, so it is one hand-written statement rather than an
# ORM query built anew per request (about a third of a small request's CPU, BENCHMARKS.md).
# Columns named, not ``s.*``: a prepared statement must keep its result shape when a migration
# adds a column while older processes still run.
_STAFF_COLUMNS = ", ".join(f"s.{field.column}" for field in StaffMember._meta.concrete_fields)
_TOKEN_SQL = (
    f"SELECT {_STAFF_COLUMNS}, t.scopes AS token_scopes FROM {StaffMember._meta.db_table} s"  # noqa: S608  (our table names)
    f" JOIN {ApiToken._meta.db_table} t ON t.staff_member_id = s.id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND s.is_active"
)


def staff_for_api_token(raw: str) -> tuple[StaffMember, frozenset[str]] | None:
    """The active staff member and scopes behind a raw bearer token, or None."""
    found = list(StaffMember.objects.raw(_TOKEN_SQL, [hash_token(raw)]))
    if not found:
        return None
    staff_member = found[0]
    scopes = staff_member.token_scopes  # type: ignore[attr-defined]
    return staff_member, frozenset(json.loads(scopes) if isinstance(scopes, str) else scopes)
