"""API authentication: bearer tokens with scopes for integrations, sessions for signed-in staff."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from frontdesk.core.errors import PermissionDenied

from .models import StaffMember
from .selectors import staff_for_api_token


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer fd_…`` for integrations; the request then acts as the token's owner."""

    def authenticate(self, request: HttpRequest, token: str) -> StaffMember | None:
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
    writes_imply_reads = scope.endswith(":read") and scope.removesuffix(":read") + ":write" in (scopes or ())
    if scopes is not None and scope not in scopes and not writes_imply_reads:
        raise PermissionDenied(f"This token lacks the {scope} scope.")
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, StaffMember)
    return user
