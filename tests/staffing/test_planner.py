"""The planner's rules, through ``plan_week`` on a branch with a known history."""

import datetime as dt

import pytest

from frontdesk.queueing.models import Visit, VisitStatus
from frontdesk.queueing.services import PastVisit, import_past_visits
from frontdesk.staffing import selectors
from frontdesk.staffing.services import PlanInputError, plan_week

from .conftest import DAY_FACTOR, MADRID, NEXT_MONDAY, PROFILE, TODAY, build_history

pytestmark = pytest.mark.django_db

TUESDAY = NEXT_MONDAY + dt.timedelta(days=1)


def slot_at(plan, day: dt.date, start: dt.time):
    return next(slot for slot in plan.slots if slot.day == day and slot.starts_at == start)


def test_forecast_reproduces_the_weekly_pattern(setup, history):
    plan = plan_week(branch=setup.branch, simulate=False)
    assert plan.week_start == NEXT_MONDAY
    by_day = {day: sum(s.forecast for s in plan.slots if s.day == day) for day in plan.open_days}
    normal_day = sum(PROFILE.values())
    assert by_day[TUESDAY] == pytest.approx(normal_day, rel=0.1)
    assert by_day[NEXT_MONDAY] == pytest.approx(2 * normal_day, rel=0.1)  # Mondays are twice as busy
    for start, count in PROFILE.items():
        assert slot_at(plan, TUESDAY, start).forecast == pytest.approx(count, rel=0.15, abs=0.15)
    peak = max((s for s in plan.slots if s.day == NEXT_MONDAY), key=lambda s: s.forecast)
    assert peak.starts_at == dt.time(11, 0)
    # Only opening hours are planned: Monday–Saturday 09:00–18:00, Sunday closed.
    assert plan.open_days == [NEXT_MONDAY + dt.timedelta(days=n) for n in range(6)]
    assert {s.starts_at for s in plan.slots} == set(PROFILE)
    # Every third customer of a half hour is a business customer.
    business_share = sum(c * f // 3 for c in PROFILE.values() for f in DAY_FACTOR.values()) / sum(
        c * f for c in PROFILE.values() for f in DAY_FACTOR.values()
    )
    general, business = plan.services
    assert business.forecast_arrivals / plan.forecast_total == pytest.approx(business_share, rel=0.1)
    # Service times are how long a counter is held: from the call (a minute before service) to the end.
    assert general.service_seconds == pytest.approx(9 * 60)
    assert business.service_seconds == pytest.approx(13 * 60)
    assert general.measured_from > 100
    # The error on the last two weeks, fitted on the week before, beside the same-weekday baseline.
    accuracy = plan.accuracy
    assert accuracy is not None
    assert accuracy.held_out_from == TODAY - dt.timedelta(days=14)
    assert accuracy.frontdesk_total.days == 14
    assert accuracy.frontdesk_total.wape < 0.2  # a perfectly regular history is easy to forecast
    assert accuracy.same_weekday_total.wape < 0.2


def test_counters_rise_with_arrivals_a_stricter_target_and_a_longer_service(setup, history):
    plan = plan_week(branch=setup.branch, simulate=False)
    monday_peak, tuesday_peak = (
        slot_at(plan, NEXT_MONDAY, dt.time(11, 0)),
        slot_at(plan, TUESDAY, dt.time(11, 0)),
    )
    quiet = slot_at(plan, TUESDAY, dt.time(15, 0))
    assert monday_peak.forecast > tuesday_peak.forecast > quiet.forecast
    assert monday_peak.recommended > tuesday_peak.recommended > quiet.recommended >= 1
    assert all(slot.recommended_service_level >= 0.8 for slot in plan.slots)

    strict = plan_week(branch=setup.branch, target_service_level=0.95, target_seconds=60, simulate=False)
    assert all(s.recommended >= d.recommended for s, d in zip(strict.slots, plan.slots, strict=True))
    assert strict.recommended_counter_hours > plan.recommended_counter_hours
    assert all(slot.recommended_service_level >= 0.95 for slot in strict.slots)

    slower = plan_week(branch=setup.branch, service_minutes_override=25, simulate=False)
    assert {service.service_seconds for service in slower.services} == {1500}
    assert {service.measured_from for service in slower.services} == {0}
    assert slower.recommended_counter_hours > plan.recommended_counter_hours
    assert slower.forecast_total == pytest.approx(plan.forecast_total)


def test_the_walk_to_the_counter_holds_the_counter_too(setup, frozen_now):
    """The planner times a counter from the call, not from the start of service.

    The same services (8 and 12 minutes from start to finish) with customers taking 2 minutes more
    from the call to the counter must hold counters 2 minutes longer and need more of them.
    """
    build_history(setup, walk_minutes=0)
    quick = plan_week(branch=setup.branch, simulate=False)
    Visit.objects.filter(branch=setup.branch).delete()
    build_history(setup, walk_minutes=2)
    slow = plan_week(branch=setup.branch, simulate=False)

    assert [s.service_seconds for s in quick.services] == pytest.approx([8 * 60, 12 * 60])
    assert [s.service_seconds for s in slow.services] == pytest.approx([10 * 60, 14 * 60])
    assert slow.forecast_total == pytest.approx(quick.forecast_total)
    assert all(s.recommended >= q.recommended for s, q in zip(slow.slots, quick.slots, strict=True))
    assert slow.recommended_counter_hours > quick.recommended_counter_hours


def test_holding_time_counts_no_shows_from_call_to_mark_and_skips_who_left(setup, frozen_now):
    day = TODAY - dt.timedelta(days=1)
    base = dt.datetime.combine(day, dt.time(10), tzinfo=MADRID)
    minute = dt.timedelta(minutes=1)
    records = [
        # Served: called at +1, service from +3 to +11 → the counter is held 10 minutes.
        *(
            PastVisit(
                branch=setup.branch,
                service=setup.general,
                arrived_at=base + n * 20 * minute,
                status=VisitStatus.DONE,
                called_at=base + (n * 20 + 1) * minute,
                service_started_at=base + (n * 20 + 3) * minute,
                finished_at=base + (n * 20 + 11) * minute,
                service_point=setup.counter_1,
            )
            for n in range(4)
        ),
        # Not there when called: the counter waited 4 minutes before marking the no-show.
        PastVisit(
            branch=setup.branch,
            service=setup.general,
            arrived_at=base + 100 * minute,
            status=VisitStatus.NO_SHOW,
            called_at=base + 101 * minute,
            finished_at=base + 105 * minute,
            service_point=setup.counter_1,
        ),
        # Imported without a call time: timed from the start of service.
        PastVisit(
            branch=setup.branch,
            service=setup.general,
            arrived_at=base + 120 * minute,
            status=VisitStatus.DONE,
            service_started_at=base + 122 * minute,
            finished_at=base + 132 * minute,
            service_point=setup.counter_1,
        ),
        # Left before being called: held no counter.
        PastVisit(
            branch=setup.branch,
            service=setup.general,
            arrived_at=base + 140 * minute,
            status=VisitStatus.LEFT,
            finished_at=base + 170 * minute,
        ),
    ]
    import_past_visits(records)
    measured = selectors.service_times(branch=setup.branch, services=[setup.general], until=frozen_now)
    general = measured[setup.general.pk]
    assert general.samples == 6
    assert general.mean_seconds == pytest.approx((4 * 10 + 4 + 10) * 60 / 6)


def test_scheduled_is_what_the_branch_usually_opens(setup, history):
    usual = selectors.usual_staffing(branch=setup.branch, until=TODAY)
    eleven, nine = 22, 18  # half-hour indexes of 11:00 and 09:00
    assert usual[0][eleven] == 3  # ten customers on a Monday at 11:00, over all three counters
    assert usual[1][nine] == 1  # one customer at 09:00 on a Tuesday: one counter seen
    plan = plan_week(branch=setup.branch, simulate=False)
    assert plan.counters_available == 3
    peak = slot_at(plan, NEXT_MONDAY, dt.time(11, 0))
    assert peak.scheduled == 3
    assert peak.gap == peak.recommended - 3 > 0
    assert peak.expected_service_level < plan.target_service_level
    assert plan.over_capacity_slots >= 1
    assert any("more counters than the branch has (3)" in note for note in plan.notes)
    enough = [slot for slot in plan.slots if slot.gap <= 0 and slot.expected_service_level is not None]
    assert enough
    assert all(slot.expected_service_level >= plan.target_service_level for slot in enough)


def test_every_open_day_is_checked_by_simulation(setup, history):
    plan = plan_week(branch=setup.branch)
    assert plan.simulated
    assert [check.day for check in plan.checks] == plan.open_days
    for check in plan.checks:
        assert check.simulated_arrivals == pytest.approx(check.forecast, rel=0.3)
        assert check.service_level is not None
        # Staffed for the target per half hour, the simulated day meets it too.
        assert check.service_level >= plan.target_service_level - 0.05
    monday = plan.checks[0]
    assert monday.usual_service_level is not None
    assert monday.usual_service_level < monday.service_level
    assert plan.hours
    assert all(hour.recommended_service_level is not None for hour in plan.hours)
    assert plan.expected_service_level < plan.recommended_service_level


def test_the_simulation_opens_counters_with_their_skills(setup, history):
    """Counters that serve only some services do less than the pooled queue's counters would."""
    split = plan_week(branch=setup.branch)
    for counter in (setup.counter_2, setup.counter_3):
        counter.services.set([setup.general, setup.business])
    pooled = plan_week(branch=setup.branch)
    assert [slot.scheduled for slot in split.slots] == [slot.scheduled for slot in pooled.slots]
    assert split.expected_service_level < pooled.expected_service_level
    assert not any("No counter serves" in note for note in split.notes)

    for counter in (setup.counter_1, setup.counter_2, setup.counter_3):
        counter.services.set([setup.general])
    unserved = plan_week(branch=setup.branch)
    assert any(f"No counter serves {setup.business.name}" in note for note in unserved.notes)
    # Business customers are never called, so at most the others are served within the target.
    business = unserved.services[1]
    assert unserved.recommended_service_level <= 1 - business.forecast_arrivals / unserved.forecast_total


def test_a_branch_without_history_keeps_one_counter_open(setup, frozen_now):
    plan = plan_week(branch=setup.branch)
    assert plan.slots
    assert {slot.recommended for slot in plan.slots} == {1}
    assert plan.forecast_total == 0
    assert plan.accuracy is None
    assert plan.checks == []
    assert any("No visits recorded yet" in note for note in plan.notes)
    assert any("Appointments" in note for note in plan.notes)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"target_service_level": 1.0}, "target"),
        ({"target_service_level": 0.0}, "target"),
        ({"target_service_level": float("nan")}, "target"),
        ({"target_seconds": 0.0}, "target_minutes"),
        ({"service_minutes_override": -3.0}, "service_minutes"),
        ({"week_start": TODAY - dt.timedelta(days=14)}, "week"),
        ({"week_start": TODAY + dt.timedelta(weeks=20)}, "week"),
    ],
)
def test_bad_inputs_are_refused_with_the_field(setup, frozen_now, inputs, field):
    with pytest.raises(PlanInputError) as raised:
        plan_week(branch=setup.branch, **inputs)
    assert raised.value.field == field


def test_any_day_of_a_week_plans_that_week(setup, frozen_now):
    plan = plan_week(branch=setup.branch, week_start=NEXT_MONDAY + dt.timedelta(days=10), simulate=False)
    assert plan.week_start == NEXT_MONDAY + dt.timedelta(weeks=1)
