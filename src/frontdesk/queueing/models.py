"""Visits (tickets), their recorded transitions, ticket numbering and counter sessions."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from frontdesk.branches.models import Branch, Service, ServicePoint


class VisitStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    DONE = "done", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    LEFT = "left", _("Left the queue")


class VisitAction(models.TextChoices):
    """The verbs of the visit lifecycle; each transition record names one."""

    CHECK_IN = "check_in", _("Checked in")
    CALL = "call", _("Called")
    CALL_OUT_OF_ORDER = "call_out_of_order", _("Called out of order")
    RECALL = "recall", _("Called again")
    START = "start", _("Service started")
    NO_SHOW = "no_show", _("Marked no-show")
    TRANSFER = "transfer", _("Transferred")
    PUT_BACK = "put_back", _("Put back in the queue")
    FINISH = "finish", _("Finished")
    LEAVE = "leave", _("Left the queue")


# From which statuses each action may be taken, and the status it leads to. One map, so the
# lifecycle can be read at a glance and every service checks it the same way.
TRANSITIONS: dict[VisitAction, tuple[frozenset[VisitStatus], VisitStatus]] = {
    VisitAction.CALL: (frozenset({VisitStatus.WAITING}), VisitStatus.CALLED),
    VisitAction.CALL_OUT_OF_ORDER: (frozenset({VisitStatus.WAITING}), VisitStatus.CALLED),
    VisitAction.RECALL: (frozenset({VisitStatus.CALLED}), VisitStatus.CALLED),
    VisitAction.START: (frozenset({VisitStatus.CALLED}), VisitStatus.SERVING),
    VisitAction.NO_SHOW: (frozenset({VisitStatus.CALLED}), VisitStatus.NO_SHOW),
    VisitAction.TRANSFER: (
        frozenset({VisitStatus.WAITING, VisitStatus.CALLED, VisitStatus.SERVING}),
        VisitStatus.WAITING,
    ),
    VisitAction.PUT_BACK: (frozenset({VisitStatus.CALLED, VisitStatus.SERVING}), VisitStatus.WAITING),
    VisitAction.FINISH: (frozenset({VisitStatus.SERVING}), VisitStatus.DONE),
    VisitAction.LEAVE: (frozenset({VisitStatus.WAITING, VisitStatus.CALLED}), VisitStatus.LEFT),
}

ACTIVE_STATUSES = frozenset({VisitStatus.WAITING, VisitStatus.CALLED, VisitStatus.SERVING})


class PriorityReason(models.TextChoices):
    NONE = "", _("None")
    APPOINTMENT = "appointment", _("Appointment due")
    ACCESSIBILITY = "accessibility", _("Accessibility needs")
    VIP = "vip", _("VIP")


class Channel(models.TextChoices):
    KIOSK = "kiosk", _("Kiosk")
    RECEPTION = "reception", _("Reception")
    WEB = "web", _("Phone at the door (QR / link)")
    API = "api", _("API")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    FOLLOW_UP = "follow_up", _("Needs a follow-up")
    REFERRED = "referred", _("Referred elsewhere")
    NOT_RESOLVED = "not_resolved", _("Could not be resolved")


class Visit(models.Model):
    """One customer's ticket at a branch, from check-in to the end of service.

    Times are facts recorded by the transitions; waiting and service times are derived from
    them, never typed in. ``arrived_at`` never changes, so a transfer keeps the customer's place.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: every index of the visit table but three starts with the branch.
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="visits", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="visits")
    business_date = models.DateField(help_text=_("The branch's local day of check-in."))
    ticket_number = models.PositiveIntegerField()
    ticket_code = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.WAITING)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.KIOSK)
    priority_reason = models.CharField(max_length=16, choices=PriorityReason.choices, blank=True, default="")
    customer_name = models.CharField(_("name"), max_length=120, blank=True)
    customer_phone = PhoneNumberField(_("phone number"), blank=True)
    language = models.CharField(max_length=8, default="en")
    arrived_at = models.DateTimeField()
    queued_at = models.DateTimeField(help_text=_("When the visit last entered a queue."))
    called_at = models.DateTimeField(null=True, blank=True)
    service_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    target_service_point = models.ForeignKey(
        ServicePoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this counter may call the visit (after a transfer to a counter)."),
        db_index=False,  # see visit_target_counter_idx
    )
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits_served",
    )
    recall_count = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    # NULL, not "", for "no key": the unique constraint must ignore visits without one.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["arrived_at", "id"]
        constraints = [
            # The code (letter + number) stays with the customer through transfers, so it is
            # what must be unique per branch and day.
            models.UniqueConstraint(
                fields=["branch", "business_date", "ticket_code"], name="unique_ticket_per_day"
            ),
            models.UniqueConstraint(
                fields=["branch", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="unique_check_in_idempotency_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["called", "serving"]) | models.Q(service_point__isnull=False),
                name="called_visit_has_counter",
            ),
            # A counter is with one customer at a time. Also the small index behind "is this
            # counter free?", asked on every call (the plain foreign-key index holds the
            # counter's whole history).
            models.UniqueConstraint(
                fields=["service_point"],
                condition=models.Q(status__in=["called", "serving"]),
                name="one_visit_at_a_time_per_counter",
            ),
        ]
        # Every status change rewrites a visit's entry in each index whose row it is in (the status
        # is indexed, so no update is HOT): an index here costs every call, no-show and finish.
        # A day's visits are found through unique_ticket_per_day (branch, business_date, …).
        indexes = [
            models.Index(fields=["branch", "status", "service"], name="visit_queue_idx"),
            # Deleting a counter looks for visits sent to it; the few that were are all it holds.
            models.Index(
                fields=["target_service_point"],
                condition=models.Q(target_service_point__isnull=False),
                name="visit_target_counter_idx",
            ),
            # Call next walks these in arrival order and stops at the first row it can take
            # (ordering.first_in_calling_order_sql); they hold only the waiting visits.
            models.Index(
                fields=["branch", "arrived_at", "id"],
                condition=models.Q(status="waiting"),
                name="visit_waiting_idx",
            ),
            models.Index(
                fields=["branch", "arrived_at", "id"],
                condition=models.Q(status="waiting", priority_reason__gt=""),
                name="visit_waiting_priority_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.ticket_code

    @property
    def has_priority(self) -> bool:
        return bool(self.priority_reason)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def can(self, action: VisitAction) -> bool:
        allowed_from, _to = TRANSITIONS[action]
        return self.status in allowed_from


class VisitTransition(models.Model):
    """An append-only record of one step in a visit's life: what, when, who, where and why."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20, choices=VisitAction.choices)
    from_status = models.CharField(max_length=10, choices=VisitStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=VisitStatus.choices)
    at = models.DateTimeField()
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.action} at {self.at:%H:%M:%S}"


class TicketSequence(models.Model):
    """The last ticket number given per branch, service and local day.

    Incremented with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the check-in
    transaction, so numbers have no duplicates and no gaps under concurrent kiosks.
    """

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    business_date = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "service", "business_date"], name="unique_ticket_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.branch_id}/{self.service_id}/{self.business_date}: {self.last_number}"


class CounterSession(models.Model):
    """A member of staff signed in at a counter; an open session means the counter is open."""

    service_point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="sessions")
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="counter_sessions"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_point"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_session_per_counter",
            ),
            models.UniqueConstraint(
                fields=["staff_member"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_session_per_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member_id} at {self.service_point_id}"


class WaitEstimatorModel(models.Model):
    """The waiting-time estimator's parameters as fitted on a branch's recent history.

    ``parameters`` is :meth:`frontdesk.science.estimator.EstimatorModel.to_dict`. A row without a
    branch is fitted on every branch's history and serves branches that have no fit of their own.
    Rows are kept (a history of fits); the latest one per branch is used.
    """

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, null=True, blank=True, related_name="wait_estimator_models"
    )
    fitted_at = models.DateTimeField()
    parameters = models.JSONField()
    n_waits = models.PositiveIntegerField(
        help_text=_("How many customers served after waiting it was fitted on.")
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-fitted_at", "-id"]
        get_latest_by = ["fitted_at", "id"]
        indexes = [models.Index(fields=["branch", "-fitted_at"], name="wait_estimator_latest_idx")]

    def __str__(self) -> str:
        where = self.branch_id or "network"
        return f"wait estimator for {where} fitted at {self.fitted_at:%Y-%m-%d %H:%M}"
