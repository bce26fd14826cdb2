"""Reads for staff access."""

from .models import ApiToken, StaffMember, hash_token


def staff_for_api_token(raw: str) -> tuple[StaffMember, frozenset[str]] | None:
    """The active staff member and scopes behind a raw bearer token, or None."""
    token = (
        ApiToken.objects.select_related("staff_member")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, staff_member__is_active=True)
        .first()
    )
    if token is None:
        return None
    return token.staff_member, frozenset(token.scopes)
