"""Reads for staff access."""

import json
from dataclasses import dataclass

from django.db import connection

from frontdesk.core.errors import NotAuthenticated, PermissionDenied
from frontdesk.core.joined import ModelRows

from .models import ApiToken, StaffMember

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


@dataclass(frozen=True, slots=True)
class TokenClaim:
    """A bearer token's owner and scopes as this process last read them.

    A token's owner never changes; whether it may still act does (revoked, owner deactivated,
    role or scopes changed). So a claim is only taken on trust by a statement that checks it again
    as it acts (:func:`token_valid_sql`); everything else reads the token.
    """

    key_hash: str
    staff_member: StaffMember
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """A remembered claim to be checked by the statement that acts, for one scope."""

    claim: TokenClaim
    scope: str


# key hash -> the claim last read; bounded, as any client may present many tokens.
_claims: dict[str, TokenClaim] = {}
CLAIMS_LIMIT = 10_000


def read_token_claim(key_hash: str) -> TokenClaim | None:
    """The token's claim, read from the database (and remembered), or None when it is not valid."""
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [key_hash])
        row = cursor.fetchone()
    staff_member = _STAFF_ROWS.instance(row) if row is not None else None
    if row is None or staff_member is None:
        _claims.pop(key_hash, None)
        return None
    scopes = row[_STAFF_ROWS.width]
    scopes = json.loads(scopes) if isinstance(scopes, str) else scopes
    claim = TokenClaim(key_hash, staff_member, frozenset(scopes))
    if len(_claims) >= CLAIMS_LIMIT:
        _claims.clear()
    _claims[key_hash] = claim
    return claim


def remembered_token_claim(key_hash: str) -> TokenClaim | None:
    """The claim this process last read for the token, without reading the database."""
    return _claims.get(key_hash)


def accepted_scopes(scope: str) -> tuple[str, ...]:
    """The token scopes that allow ``scope``: itself, and for a read the matching write."""
    if scope.endswith(":read"):
        return (scope, scope.removesuffix(":read") + ":write")
    return (scope,)


def check_scope(scopes: frozenset[str] | None, scope: str) -> None:
    """Refuse a token without ``scope`` (None: a session, which may do all its role allows)."""
    if scopes is not None and not scopes.intersection(accepted_scopes(scope)):
        raise PermissionDenied(f"This token lacks the {scope} scope.")


def staff_for_token_check(check: TokenCheck) -> StaffMember:
    """The staff member behind a claim, read again: for when a statement refused it, to say why."""
    claim = read_token_claim(check.claim.key_hash)
    if claim is None:
        raise NotAuthenticated(NotAuthenticated.MESSAGE)
    check_scope(claim.scopes, check.scope)
    return claim.staff_member


def token_valid_sql() -> str:
    """SQL true while the claim holds: the token ``%(token)s`` is ``%(staff)s``'s, not revoked, its
    owner active and still seeing every branch exactly when ``%(any_branch)s`` says, and it grants
    one of ``%(token_scopes)s``, space-separated (PostgreSQL: ``?|`` over the JSON list of scopes;
    one text parameter rather than an array, which psycopg adapts at several times the cost)."""
    return (
        f"EXISTS (SELECT 1 FROM {ApiToken._meta.db_table} t JOIN {StaffMember._meta.db_table} a"  # noqa: S608  (our table names)
        " ON a.id = t.staff_member_id WHERE t.key_hash = %(token)s AND a.id = %(staff)s"
        " AND t.revoked_at IS NULL AND a.is_active AND t.scopes ?| string_to_array(%(token_scopes)s, ' ')"
        f" AND (a.is_superuser OR a.role = '{StaffMember.Role.HEAD_OFFICE.value}') = %(any_branch)s)"
    )


def token_check_params(check: TokenCheck) -> dict[str, object]:
    return {"token": check.claim.key_hash, "token_scopes": " ".join(accepted_scopes(check.scope))}
