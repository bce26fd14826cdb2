"""Staff members, their role and where they may work; API tokens for other systems."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffMember(AbstractUser):
    """A person who signs in: clerk at a counter, branch manager or head office."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("Clerk")
        BRANCH_MANAGER = "branch_manager", _("Branch manager")
        HEAD_OFFICE = "head_office", _("Head office")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CLERK)
    branches = models.ManyToManyField(
        "branches.Branch", related_name="staff_members", blank=True, verbose_name=_("branches")
    )
    services = models.ManyToManyField(
        "branches.Service",
        related_name="staff_members",
        blank=True,
        verbose_name=_("services they may serve"),
        help_text=_("Leave empty to allow every service of their branches."),
    )

    class Meta:
        verbose_name = _("staff member")
        ordering = ["username"]

    @property
    def sees_every_branch(self) -> bool:
        return self.is_superuser or self.role == self.Role.HEAD_OFFICE

    @property
    def manages_branches(self) -> bool:
        return self.sees_every_branch or self.role == self.Role.BRANCH_MANAGER

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


TOKEN_PREFIX = "fd_"  # noqa: S105  (a label, not a secret)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for an integration, acting as one staff member with limited scopes.

    Only the SHA-256 of the token is stored; the token itself is shown once when created.
    """

    class Scope(models.TextChoices):
        QUEUE_READ = "queue:read", _("Read queues and visits")
        QUEUE_WRITE = "queue:write", _("Check in and move visits")

    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_raw_token() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
