"""The walk-in queue's rules, through its services."""

import datetime as dt

import pytest
import time_machine

from frontdesk.core.errors import DomainError, InvalidTransition, PermissionDenied, QueueEmpty
from frontdesk.queueing import services
from frontdesk.queueing.models import Outcome, PriorityReason, Visit, VisitAction, VisitStatus
from tests.factories import ServiceFactory


def test_tickets_are_numbered_per_service_and_restart_each_local_day(setup):
    branch = setup.branch  # Europe/Madrid
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), tick=False):
        first = services.check_in(branch=branch, service=setup.general)
        second = services.check_in(branch=branch, service=setup.general)
        business = services.check_in(branch=branch, service=setup.business)
    # 23:30 UTC is already the next day in Madrid: numbering restarts.
    with time_machine.travel(dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC), tick=False):
        next_day = services.check_in(branch=branch, service=setup.general)
    assert [first.ticket_code, second.ticket_code, business.ticket_code] == ["A-001", "A-002", "B-001"]
    assert next_day.ticket_code == "A-001"
    assert next_day.business_date == dt.date(2026, 3, 3)


def test_ticket_codes_keep_three_digits_and_grow_past_999(setup):
    """The code is written with the number in one statement on PostgreSQL; it must read as
    ``format_ticket_code`` writes it, before and after three digits run out."""
    from frontdesk.queueing.models import TicketSequence

    first = services.check_in(branch=setup.branch, service=setup.general)
    TicketSequence.objects.filter(branch=setup.branch, service=setup.general).update(last_number=98)
    codes = [services.check_in(branch=setup.branch, service=setup.general) for _ in range(2)]
    TicketSequence.objects.filter(branch=setup.branch, service=setup.general).update(last_number=998)
    codes += [services.check_in(branch=setup.branch, service=setup.general) for _ in range(2)]
    assert [first.ticket_code, *(v.ticket_code for v in codes)] == [
        "A-001",
        "A-099",
        "A-100",
        "A-999",
        "A-1000",
    ]
    for visit in [first, *codes]:
        visit.refresh_from_db()
        assert visit.ticket_code == services.format_ticket_code(setup.general, visit.ticket_number)
        assert visit.status == VisitStatus.WAITING


def test_check_in_records_who_checked_the_customer_in(setup, clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general, staff_member=clerk)
    (step,) = visit.transitions.all()
    assert (step.action, step.from_status, step.to_status) == ("check_in", "", "waiting")
    assert (step.staff_member, step.service_point, step.service) == (clerk, None, setup.general)
    assert step.at == visit.arrived_at


def test_same_idempotency_key_gives_one_ticket(setup):
    first = services.check_in(branch=setup.branch, service=setup.general, idempotency_key="tap-1")
    again = services.check_in(branch=setup.branch, service=setup.general, idempotency_key="tap-1")
    assert again.pk == first.pk
    assert Visit.objects.count() == 1


def test_check_in_refuses_a_service_the_branch_does_not_offer(setup):
    foreign = ServiceFactory(name="Mortgages", ticket_letter="M")
    with pytest.raises(DomainError, match="does not offer"):
        services.check_in(branch=setup.branch, service=foreign)
    assert Visit.objects.count() == 0


def test_bad_phone_number_is_refused_and_nothing_is_created(setup):
    with pytest.raises(DomainError) as error:
        services.check_in(branch=setup.branch, service=setup.general, customer_phone="12")
    assert error.value.field == "customer_phone"
    assert Visit.objects.count() == 0


def test_phone_is_stored_in_e164(setup):
    visit = services.check_in(branch=setup.branch, service=setup.general, customer_phone="612 345 678")
    visit.refresh_from_db()
    assert str(visit.customer_phone) == "+34612345678"


def test_call_next_needs_the_clerk_signed_in_at_the_counter(setup, clerk):
    services.check_in(branch=setup.branch, service=setup.general)
    with pytest.raises(DomainError, match="Sign in"):
        services.call_next(staff_member=clerk, service_point=setup.counter_1)


def test_call_next_takes_priority_first_then_arrival(setup, clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    base = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(base, tick=False):
        regular = services.check_in(branch=setup.branch, service=setup.general)
    with time_machine.travel(base + dt.timedelta(minutes=2), tick=False):
        priority = services.check_in(
            branch=setup.branch, service=setup.business, priority_reason=PriorityReason.ACCESSIBILITY
        )
    with time_machine.travel(base + dt.timedelta(minutes=5), tick=False):
        called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert called.pk == priority.pk
    assert regular.pk != called.pk


def test_a_regular_ticket_past_the_maximum_wait_goes_before_newer_priority_tickets(setup, clerk):
    setup.branch.max_wait_minutes = 20
    setup.branch.save()
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    base = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(base, tick=False):
        regular = services.check_in(branch=setup.branch, service=setup.general)
    with time_machine.travel(base + dt.timedelta(minutes=10), tick=False):
        services.check_in(branch=setup.branch, service=setup.general, priority_reason=PriorityReason.VIP)
    with time_machine.travel(base + dt.timedelta(minutes=21), tick=False):
        called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert called.pk == regular.pk


def _one_press_after(clerk, counter, at):
    """The visit at the counter marked as not shown and the next called, at ``at``."""
    current = Visit.objects.get(service_point=counter, status=VisitStatus.CALLED)
    with time_machine.travel(at, tick=False):
        return services.end_and_call_next(
            staff_member=clerk, service_point_id=counter.pk, visit_id=current.pk, action=VisitAction.NO_SHOW
        )


def test_one_press_calls_by_the_same_rule_as_call_next(setup, clerk):
    """Priority first, but a regular ticket past the branch's maximum wait goes before newer ones
    (on PostgreSQL the one-press step is one statement of its own, with the rule inside)."""
    setup.branch.max_wait_minutes = 20
    setup.branch.save()
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    base = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(base, tick=False):
        services.check_in(branch=setup.branch, service=setup.general)  # called first, then a no-show
        services.call_next(staff_member=clerk, service_point=setup.counter_1)
        regular = services.check_in(branch=setup.branch, service=setup.general)
    with time_machine.travel(base + dt.timedelta(minutes=10), tick=False):
        vip = services.check_in(
            branch=setup.branch, service=setup.general, priority_reason=PriorityReason.VIP
        )
        later_vip = services.check_in(
            branch=setup.branch, service=setup.general, priority_reason=PriorityReason.VIP
        )

    ended, called = _one_press_after(clerk, setup.counter_1, base + dt.timedelta(minutes=15))
    assert ended.status == VisitStatus.NO_SHOW
    assert called is not None
    assert called.pk == vip.pk
    assert called.service_point == setup.counter_1
    assert called.service.name == setup.general.name

    _ended, called = _one_press_after(clerk, setup.counter_1, base + dt.timedelta(minutes=21))
    assert called is not None
    assert called.pk == regular.pk

    _ended, called = _one_press_after(clerk, setup.counter_1, base + dt.timedelta(minutes=22))
    assert called is not None
    assert called.pk == later_vip.pk
    _ended, called = _one_press_after(clerk, setup.counter_1, base + dt.timedelta(minutes=23))
    assert called is None
    assert not Visit.objects.filter(status__in=[VisitStatus.CALLED, VisitStatus.WAITING]).exists()
    calls = list(
        Visit.objects.get(pk=regular.pk).transitions.values_list("action", "from_status", "to_status")
    )
    assert calls == [
        ("check_in", "", "waiting"),
        ("call", "waiting", "called"),
        ("no_show", "called", "no_show"),
    ]


def test_one_press_needs_the_clerk_still_signed_in_and_changes_nothing_otherwise(setup, clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.check_in(branch=setup.branch, service=setup.general)
    waiting = services.check_in(branch=setup.branch, service=setup.general)
    called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    services.close_counter(staff_member=clerk)
    with pytest.raises(DomainError, match="Sign in at Counter 1"):
        services.end_and_call_next(
            staff_member=clerk,
            service_point_id=setup.counter_1.pk,
            visit_id=called.pk,
            action=VisitAction.NO_SHOW,
        )
    called.refresh_from_db()
    waiting.refresh_from_db()
    assert (called.status, waiting.status) == (VisitStatus.CALLED, VisitStatus.WAITING)
    assert called.transitions.count() == 2


def test_a_counter_only_calls_services_it_serves(setup, clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_2)  # general only
    services.check_in(branch=setup.branch, service=setup.business)
    with pytest.raises(QueueEmpty):
        services.call_next(staff_member=clerk, service_point=setup.counter_2)


def test_full_lifecycle_is_recorded_with_times_and_who(setup, clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    services.recall_visit(staff_member=clerk, visit=called)
    services.start_service(staff_member=clerk, visit=called)
    done = services.finish_visit(
        staff_member=clerk, visit=called, outcome=Outcome.RESOLVED, note="Card replaced"
    )
    assert done.status == VisitStatus.DONE
    assert done.recall_count == 1
    assert done.arrived_at <= done.called_at <= done.service_started_at <= done.finished_at
    actions = list(visit.transitions.values_list("action", "staff_member__username"))
    assert actions == [
        (VisitAction.CHECK_IN, None),
        (VisitAction.CALL, "clara"),
        (VisitAction.RECALL, "clara"),
        (VisitAction.START, "clara"),
        (VisitAction.FINISH, "clara"),
    ]


def test_impossible_transitions_are_refused_with_a_clear_message(setup, clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    with pytest.raises(InvalidTransition, match="A-001 is waiting: it cannot be finished now"):
        services.finish_visit(staff_member=clerk, visit=visit, outcome=Outcome.RESOLVED)
    with pytest.raises(InvalidTransition):
        services.start_service(staff_member=clerk, visit=visit)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.WAITING
    assert visit.transitions.count() == 1


def test_a_counter_serves_one_customer_at_a_time(setup, clerk):
    services.check_in(branch=setup.branch, service=setup.general)
    services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(DomainError, match="still with A-001"):
        services.call_next(staff_member=clerk, service_point=setup.counter_1)


def test_calling_out_of_order_needs_a_reason_which_is_recorded(setup, clerk):
    services.check_in(branch=setup.branch, service=setup.general)
    later = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(DomainError, match="Say why"):
        services.call_visit(staff_member=clerk, service_point=setup.counter_1, visit=later, reason="  ")
    services.call_visit(
        staff_member=clerk, service_point=setup.counter_1, visit=later, reason="Came back for a form"
    )
    step = later.transitions.get(action=VisitAction.CALL_OUT_OF_ORDER)
    assert step.reason == "Came back for a form"


def test_transfer_keeps_the_original_arrival_time_and_place(setup, clerk, second_clerk):
    base = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(base, tick=False):
        first = services.check_in(branch=setup.branch, service=setup.general)
    with time_machine.travel(base + dt.timedelta(minutes=5), tick=False):
        services.check_in(branch=setup.branch, service=setup.business)
        services.open_counter(staff_member=clerk, service_point=setup.counter_2)
        called = services.call_next(staff_member=clerk, service_point=setup.counter_2)
        assert called.pk == first.pk
        services.start_service(staff_member=clerk, visit=called)
        moved = services.transfer_visit(
            staff_member=clerk, visit=called, to_service=setup.business, reason="Business account"
        )
    assert moved.status == VisitStatus.WAITING
    assert moved.arrived_at == base
    with time_machine.travel(base + dt.timedelta(minutes=6), tick=False):
        services.open_counter(staff_member=second_clerk, service_point=setup.counter_3)
        next_business = services.call_next(staff_member=second_clerk, service_point=setup.counter_3)
    assert next_business.pk == first.pk  # ahead of the B ticket that arrived after it


def test_transfer_to_a_counter_lets_only_that_counter_call_it(setup, clerk, second_clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.transfer_visit(staff_member=clerk, visit=visit, to_service_point=setup.counter_1)
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    with pytest.raises(QueueEmpty):
        services.call_next(staff_member=second_clerk, service_point=setup.counter_2)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    assert services.call_next(staff_member=clerk, service_point=setup.counter_1).pk == visit.pk


def test_put_back_returns_the_visit_to_its_place(setup, clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    back = services.put_back(staff_member=clerk, visit=visit, reason="Fetching documents")
    assert back.status == VisitStatus.WAITING
    assert back.service_point is None
    assert services.call_next(staff_member=clerk, service_point=setup.counter_1).pk == visit.pk


def test_no_show_and_leaving(setup, clerk):
    gone = services.check_in(branch=setup.branch, service=setup.general)
    absent = services.check_in(branch=setup.branch, service=setup.general)
    services.leave_queue(visit=gone)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    called = services.call_next(staff_member=clerk, service_point=setup.counter_1)
    assert called.pk == absent.pk
    services.mark_no_show(staff_member=clerk, visit=called)
    called.refresh_from_db()
    assert called.status == VisitStatus.NO_SHOW
    with pytest.raises(InvalidTransition):
        services.leave_queue(visit=called)


def test_staff_cannot_act_on_another_branch(setup, outsider):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    with pytest.raises(PermissionDenied):
        services.open_counter(staff_member=outsider, service_point=setup.counter_1)
    with pytest.raises(PermissionDenied):
        services.put_back(staff_member=outsider, visit=visit)
    visit.refresh_from_db()
    assert visit.transitions.count() == 1


def test_two_clerks_cannot_share_a_counter(setup, clerk, second_clerk):
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    with pytest.raises(DomainError, match="Clara Ruiz is signed in"):
        services.open_counter(staff_member=second_clerk, service_point=setup.counter_1)


def test_import_past_visits_continues_the_day_numbering(setup, clerk):
    arrived = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    count = services.import_past_visits(
        [
            services.PastVisit(
                branch=setup.branch,
                service=setup.general,
                arrived_at=arrived + dt.timedelta(minutes=i),
                status=VisitStatus.DONE,
                called_at=arrived + dt.timedelta(minutes=i + 3),
                service_started_at=arrived + dt.timedelta(minutes=i + 4),
                finished_at=arrived + dt.timedelta(minutes=i + 9),
                service_point=setup.counter_1,
                staff_member=clerk,
                outcome=Outcome.RESOLVED,
            )
            for i in range(3)
        ]
    )
    assert count == 3
    with time_machine.travel(arrived + dt.timedelta(minutes=30), tick=False):
        live = services.check_in(branch=setup.branch, service=setup.general)
    assert live.ticket_code == "A-004"
    assert Visit.objects.get(ticket_code="A-001").transitions.count() == 4


def test_a_refused_step_is_said_in_a_plain_sentence(setup, clerk):
    """Every status and every step has its words (a new one without them would fail here, not as a 500)."""
    assert set(services._STATUS_IN_A_SENTENCE) == set(VisitStatus)
    assert set(services._ACTION_DONE_TO_IT) == set(VisitAction)
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    services.mark_no_show(staff_member=clerk, visit=visit)
    with pytest.raises(InvalidTransition) as refused:
        services.mark_no_show(staff_member=clerk, visit=visit)
    assert str(refused.value) == "A-001 did not come: it cannot be marked as a no-show now."
