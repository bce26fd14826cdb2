"""API authentication: bearer tokens with scopes for integrations, sessions for signed-in staff."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from .models import StaffMember, hash_token
from .selectors import TokenCheck, check_scope, read_token_claim, remembered_token_claim


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer fd_…`` for integrations; the request then acts as the token's owner.

    ``checked_in_statement``: for endpoints whose one statement checks the token again as it acts
    (a counter's press). A token this process has read before is then taken at its word here,
    saving a round trip per request; the statement refuses it if it was revoked or changed since,
    and the endpoint then reads it (:func:`token_to_check`).
    """

    def __init__(self, *, checked_in_statement: bool = False) -> None:
        super().__init__()
        self.checked_in_statement = checked_in_statement

    def authenticate(self, request: HttpRequest, token: str) -> StaffMember | None:
        key_hash = hash_token(token)
        claim = remembered_token_claim(key_hash) if self.checked_in_statement else None
        if claim is not None:
            request.api_claim = claim  # type: ignore[attr-defined]
        else:
            claim = read_token_claim(key_hash)
            if claim is None:
                return None
        request.api_scopes = claim.scopes  # type: ignore[attr-defined]
        request.user = claim.staff_member
        return claim.staff_member


class StaffSessionAuth(SessionAuth):
    """Signed-in staff in the browser (CSRF checked on writes, as Django intends)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.api_scopes = None  # type: ignore[attr-defined]  # a session may do all its role allows
        return user


staff_auth = [ApiTokenAuth(), StaffSessionAuth()]
checked_in_statement_auth = [ApiTokenAuth(checked_in_statement=True), StaffSessionAuth()]


def staff_of(request: HttpRequest, *, scope: str) -> StaffMember:
    """The authenticated staff member, checking the token's scope when a token was used."""
    check_scope(getattr(request, "api_scopes", None), scope)
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, StaffMember)
    return user


def token_to_check(request: HttpRequest, *, scope: str) -> TokenCheck | None:
    """The remembered token claim the acting statement must check, when one was taken on trust."""
    claim = getattr(request, "api_claim", None)
    return TokenCheck(claim, scope) if claim is not None else None
