"""Random sequences of everything people do at a branch, checked against the queue's invariants.

Hypothesis drives check-ins, calls, transfers, put-backs, no-shows, finishes and customers leaving,
in any order and from any counter, and after every step checks what must always hold: a counter
serves at most one customer, a visit is at no more than one counter, every visit's recorded
transitions replay to its current status, and "call next" takes the ticket the calling-order rule
puts first.
"""

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from frontdesk.core.errors import DomainError
from frontdesk.queueing import services
from frontdesk.queueing.models import TRANSITIONS, Outcome, Visit, VisitAction, VisitStatus

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def expected_first(waiting: list[Visit], now: dt.datetime, max_wait: dt.timedelta) -> Visit:
    """The rule written out independently of the database ordering."""

    def key(visit: Visit) -> tuple[int, dt.datetime, int]:
        goes_first = bool(visit.priority_reason) or visit.arrived_at <= now - max_wait
        return (0 if goes_first else 1, visit.arrived_at, visit.pk)

    return min(waiting, key=key)


@pytest.mark.django_db
def test_queue_state_machine(setup, clerk, second_clerk, branch_manager):
    people = [clerk, second_clerk, branch_manager]
    points = [setup.counter_1, setup.counter_2, setup.counter_3]
    service_options = [setup.general, setup.business]

    class Branch(RuleBasedStateMachine):
        @initialize()
        def open_counters(self):
            Visit.objects.all().delete()
            self.clock = START
            self.traveller = time_machine.travel(self.clock, tick=False)
            self.traveller.start()
            for person, point in zip(people, points, strict=True):
                services.open_counter(staff_member=person, service_point=point)

        def teardown(self):
            self.traveller.stop()

        def _advance(self, minutes: int) -> None:
            self.traveller.stop()
            self.clock += dt.timedelta(minutes=minutes)
            self.traveller = time_machine.travel(self.clock, tick=False)
            self.traveller.start()

        @rule(
            service=st.sampled_from([0, 1]),
            priority=st.sampled_from(["", "", "", "accessibility", "vip"]),
            minutes=st.integers(0, 12),
        )
        def check_in(self, service, priority, minutes):
            self._advance(minutes)
            services.check_in(branch=setup.branch, service=service_options[service], priority_reason=priority)

        @rule(counter=st.integers(0, 2))
        def call_next(self, counter):
            point = points[counter]
            servable = {service.pk for service in point.services.all()}
            waiting = [
                visit
                for visit in Visit.objects.filter(status=VisitStatus.WAITING)
                if visit.service_id in servable and visit.target_service_point_id in (None, point.pk)
            ]
            busy = Visit.objects.filter(service_point=point, status__in=["called", "serving"]).exists()
            try:
                called = services.call_next(staff_member=people[counter], service_point=point)
            except DomainError:
                assert busy or not waiting
                return
            assert not busy
            rule_says = expected_first(
                waiting, self.clock, dt.timedelta(minutes=setup.branch.max_wait_minutes)
            )
            assert called.pk == rule_says.pk

        @rule(
            counter=st.integers(0, 2),
            action=st.sampled_from(["start", "finish", "no_show", "put_back", "recall"]),
        )
        def act_on_current(self, counter, action):
            visit = Visit.objects.filter(
                service_point=points[counter], status__in=["called", "serving"]
            ).first()
            if visit is None:
                return
            person = people[counter]
            steps = {
                "start": lambda: services.start_service(staff_member=person, visit=visit),
                "finish": lambda: services.finish_visit(
                    staff_member=person, visit=visit, outcome=Outcome.RESOLVED
                ),
                "no_show": lambda: services.mark_no_show(staff_member=person, visit=visit),
                "put_back": lambda: services.put_back(staff_member=person, visit=visit),
                "recall": lambda: services.recall_visit(staff_member=person, visit=visit),
            }
            allowed = visit.can(VisitAction(action))
            try:
                steps[action]()
            except DomainError:
                assert not allowed
            else:
                assert allowed

        @rule(index=st.integers(0, 30), to=st.sampled_from([0, 1]))
        def transfer(self, index, to):
            visits = list(Visit.objects.filter(status__in=["waiting", "called", "serving"]).order_by("pk"))
            if not visits:
                return
            visit = visits[index % len(visits)]
            arrived = visit.arrived_at
            moved = services.transfer_visit(
                staff_member=branch_manager, visit=visit, to_service=service_options[to]
            )
            assert moved.arrived_at == arrived
            assert moved.status == VisitStatus.WAITING

        @rule(index=st.integers(0, 30))
        def customer_leaves(self, index):
            visits = list(Visit.objects.filter(status__in=["waiting", "called"]).order_by("pk"))
            if visits:
                services.leave_queue(visit=visits[index % len(visits)])

        @invariant()
        def one_customer_per_counter_and_one_counter_per_customer(self):
            active = list(
                Visit.objects.filter(status__in=["called", "serving"]).values_list(
                    "service_point_id", flat=True
                )
            )
            assert None not in active
            assert len(active) == len(set(active))

        @invariant()
        def transitions_replay_to_the_current_status(self):
            for visit in Visit.objects.prefetch_related("transitions"):
                status = ""
                for step in visit.transitions.all():
                    assert step.from_status == status
                    if step.action != VisitAction.CHECK_IN:
                        allowed_from, to_status = TRANSITIONS[VisitAction(step.action)]
                        assert status in allowed_from
                        assert step.to_status == to_status
                    status = step.to_status
                assert status == visit.status

        @invariant()
        def ticket_codes_are_unique(self):
            codes = list(Visit.objects.values_list("ticket_code", flat=True))
            assert len(codes) == len(set(codes))

    Branch.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=30,
        deadline=None,
        derandomize=True,
        # Shrinking replays hundreds of database-backed runs; a failure is clear enough unshrunk.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    Branch.TestCase().runTest()
