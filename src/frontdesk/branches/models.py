"""Branches, their opening hours, the service catalogue and the counters (service points)."""

import zoneinfo
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Service(models.Model):
    """Something a customer can come in for, with its own ticket letter and queue."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=255, blank=True)
    ticket_letter = models.CharField(
        _("ticket letter"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{1,2}$", _("Use one or two capital letters."))],
        help_text=_("Printed before the ticket number, as in B-042."),
    )
    expected_duration_minutes = models.PositiveSmallIntegerField(
        _("expected duration (minutes)"), default=10, validators=[MinValueValidator(1)]
    )
    display_order = models.PositiveSmallIntegerField(default=0)

    # Declared so type checkers see it; modeltranslation swaps in its language-aware manager.
    objects: ClassVar[models.Manager["Service"]] = models.Manager()

    class Meta:
        ordering = ["display_order", "ticket_letter"]

    def __str__(self) -> str:
        return f"{self.ticket_letter} · {self.name}"


class Branch(models.Model):
    """A place where customers are served in person."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name in addresses"), unique=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    services = models.ManyToManyField(
        Service, related_name="branches", blank=True, verbose_name=_("services")
    )
    max_wait_minutes = models.PositiveSmallIntegerField(
        _("maximum wait before a regular ticket goes first (minutes)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_(
            "Priority tickets go first, but a regular ticket that has waited this long goes before "
            "priority tickets that arrived after it, so nobody waits forever."
        ),
    )
    wait_alert_minutes = models.PositiveSmallIntegerField(
        _("highlight waits longer than (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening period of a branch on a weekday, in the branch's own time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["branch", "weekday", "opens_at"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="opening_before_closing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class ServicePoint(models.Model):
    """A counter (desk, window, room) where one member of staff serves one customer at a time."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="service_points")
    name = models.CharField(
        _("name"), max_length=60, help_text=_("As shown on the display board, e.g. Counter 3.")
    )
    services = models.ManyToManyField(
        Service, related_name="service_points", verbose_name=_("services served")
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["branch", "display_order", "name"]
        verbose_name = _("counter")
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="unique_counter_name_per_branch")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.branch.name})"


class ReferenceVersion(models.Model):
    """One row whose ``version`` changes whenever a branch, service or counter row does.

    The counter's hot statements return it instead of joining those rarely changed rows again on
    every press, and ``branches.selectors.reference_row`` serves them from memory while it holds
    (decision 0002). On PostgreSQL triggers keep it (migration 0002): any write, through the admin,
    the ORM or plain SQL, commits a new value with it, taken from a sequence so that a value is
    never used twice, not even after a rollback. On SQLite the table stays empty:
    nothing is held there.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)
