"""A busy branch floor for the race tests: many open counters, many clerks, a long queue."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.test import override_settings

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, ServicePoint
from frontdesk.queueing import services
from frontdesk.queueing.models import PriorityReason, VisitAction, VisitTransition
from tests.factories import ServicePointFactory, StaffFactory


@dataclass
class Floor:
    branch: Branch
    counters: list[ServicePoint]
    clerks: list[StaffMember]
    ticket_ids: set[int]

    def jobs(self) -> list[dict[str, int]]:
        """One job per counter: the clerk signed in there and the counter."""
        return [
            {"branch_id": self.branch.pk, "staff_id": clerk.pk, "counter_id": counter.pk}
            for clerk, counter in zip(self.clerks, self.counters, strict=True)
        ]


def busy_floor(setup, *, counters: int, tickets: int) -> Floor:
    """``counters`` counters serving both services, each opened by its own clerk, and ``tickets`` waiting.

    The tickets mix both services and some priority ones, so the calling order is not simply by id.
    Everything is committed (the test runs with ``transaction=True``) before any worker starts.
    The set-up's own realtime events are not under test, so they go nowhere (no channel layer):
    2,000 of them would only cost time, and flood a real Redis in one burst.
    """
    branch = setup.branch
    points = [
        ServicePointFactory(branch=branch, name=f"Desk {n:02d}", services=[setup.general, setup.business])
        for n in range(1, counters + 1)
    ]
    clerks = [StaffFactory(username=f"desk-clerk-{n:02d}", branches=[branch]) for n in range(1, counters + 1)]
    for clerk, point in zip(clerks, points, strict=True):
        services.open_counter(staff_member=clerk, service_point=point)
    ids = set()
    with override_settings(CHANNEL_LAYERS={}), transaction.atomic():
        for n in range(tickets):
            visit = services.check_in(
                branch=branch,
                service=setup.general if n % 3 else setup.business,
                priority_reason=PriorityReason.ACCESSIBILITY if n % 17 == 0 else PriorityReason.NONE,
            )
            ids.add(visit.pk)
    return Floor(branch=branch, counters=points, clerks=clerks, ticket_ids=ids)


@dataclass
class CallTally:
    """How often each ticket was called, against the tickets that were waiting."""

    duplicates: dict[int, int] = field(default_factory=dict)  # visit id -> times called (> 1)
    missing: set[int] = field(default_factory=set)  # waiting, never called
    unexpected: set[int] = field(default_factory=set)  # called, but not one of the waiting tickets

    @classmethod
    def of(cls, called: Iterable[int], expected: set[int]) -> "CallTally":
        counts = Counter(called)
        return cls(
            duplicates={visit_id: n for visit_id, n in sorted(counts.items()) if n > 1},
            missing=expected - set(counts),
            unexpected=set(counts) - expected,
        )

    def __str__(self) -> str:
        def some(ids: Iterable[int]) -> str:
            ids = sorted(ids)
            return f"{len(ids)} {ids[:10]}{' …' if len(ids) > 10 else ''}"

        return (
            f"called twice or more: {some(self.duplicates)}; never called: {some(self.missing)}; "
            f"not in the queue: {some(self.unexpected)}"
        )

    @property
    def extra_calls(self) -> int:
        """Calls beyond the first of each ticket: how many customers were called twice over."""
        return sum(n - 1 for n in self.duplicates.values())


def tally_from_workers(results: list[dict[str, list[int]]], expected: set[int]) -> CallTally:
    return CallTally.of((visit_id for result in results for visit_id in result["called"]), expected)


def tally_from_transitions(branch: Branch, expected: set[int]) -> CallTally:
    """The same count from the database's own record: one ``call`` transition per call."""
    called = VisitTransition.objects.filter(
        visit__branch=branch, action__in=[VisitAction.CALL, VisitAction.CALL_OUT_OF_ORDER]
    ).values_list("visit_id", flat=True)
    return CallTally.of(called, expected)
