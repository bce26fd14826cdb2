"""Writes for staff access: API tokens."""

from django.utils import timezone

from .models import ApiToken, StaffMember, hash_token


def create_api_token(*, staff_member: StaffMember, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    unknown = set(scopes) - set(ApiToken.Scope.values)
    if unknown:
        raise ValueError(f"Unknown scopes: {', '.join(sorted(unknown))}")
    raw = ApiToken.new_raw_token()
    token = ApiToken.objects.create(
        staff_member=staff_member,
        name=name,
        key_hash=hash_token(raw),
        prefix=raw[:10],
        scopes=sorted(set(scopes)),
    )
    return token, raw


def revoke_api_token(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
