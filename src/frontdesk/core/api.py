"""What every context's API shares: authentication, scopes, and the error body."""

from typing import Any

from django.http import HttpRequest
from ninja import Schema
from ninja.security import HttpBearer, SessionAuth

from frontdesk.accounts.models import StaffMember
from frontdesk.core.errors import PermissionDenied


class ErrorOut(Schema):
    """Every 4xx answer: a sentence for people, a code for programs, and the field at fault."""

    detail: str
    code: str
    field: str | None = None


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer fd_…`` for integrations; the request then acts as the token's owner."""

    def authenticate(self, request: HttpRequest, token: str) -> StaffMember | None:
        from frontdesk.accounts.selectors import staff_for_api_token

        found = staff_for_api_token(token)
        if found is None:
            return None
        staff_member, scopes = found
        request.api_scopes = scopes  # type: ignore[attr-defined]
        request.user = staff_member
        return staff_member


class StaffSessionAuth(SessionAuth):
    """Signed-in staff in the browser (CSRF checked on writes, as Django intends)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.api_scopes = None  # type: ignore[attr-defined]  # a session may do all its role allows
        return user


staff_auth = [ApiTokenAuth(), StaffSessionAuth()]


def staff_of(request: HttpRequest, *, scope: str) -> StaffMember:
    """The authenticated staff member, checking the token's scope when a token was used."""
    scopes = getattr(request, "api_scopes", None)
    if scopes is not None and scope not in scopes:
        raise PermissionDenied(f"This token lacks the {scope} scope.")
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, StaffMember)
    return user
