"""The demo's history: one branch-day at a time, simulated rather than scattered at random.

What the insights and the staffing planner read back is consistent: arrivals are a non-homogeneous
Poisson process per branch, service and 15-minute slot (morning and lunchtime peaks, a quiet
mid-afternoon, busy Mondays and Saturdays); each branch-day runs a small event-driven simulation of its
staffed counters (one customer per counter, counters serve only their services, the queue's own calling
rule); service times are lognormal; some customers give up after their patience runs out and some are
not there when called. The visits come out as ``PastVisit`` records for ``import_past_visits``.
"""

import datetime as dt
import heapq
import itertools
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import ServicePoint
from frontdesk.queueing.models import Channel, Outcome, PriorityReason, VisitStatus
from frontdesk.queueing.services import PastVisit

from .names import FIRST_NAMES, SURNAMES
from .organisation import (
    BRANCHES,
    DAY_FACTOR,
    DRAIN_SECONDS,
    PEAK_HOURS,
    SATURDAY_PROFILE,
    SERVICES,
    SLOT_SECONDS,
    STAFF,
    TIME_ZONE,
    WEEKDAY_PROFILE,
    BranchSpec,
    CounterSpec,
    Organisation,
    Role,
    StaffSpec,
)

# ---------------------------------------------------------------------------------------------
# One branch-day: who works where, who comes in, and what happens to them


@dataclass
class Desk:
    point: ServicePoint
    staff: StaffMember
    serves: frozenset[int]  # service indexes
    speed: float
    shifts: tuple[tuple[float, float, bool], ...]  # start, end, keeps serving after end (closing)
    free_at: float = 0.0

    def may_call(self, moment: float) -> bool:
        return any(
            start <= moment < end or (drains and end <= moment < end + DRAIN_SECONDS)
            for start, end, drains in self.shifts
        )


@dataclass
class _Customer:
    arrived: float  # seconds after local midnight, as every time here
    service: int
    priority: str
    patience: float
    channel: Channel
    name: str
    status: VisitStatus = VisitStatus.LEFT
    called: float | None = None
    started: float | None = None
    finished: float | None = None
    desk: Desk | None = None


def periods(spec: BranchSpec, weekday: int) -> list[tuple[float, float]]:
    def seconds(text: str) -> float:
        moment = dt.time.fromisoformat(text)
        return moment.hour * 3600 + moment.minute * 60

    return [(seconds(opens), seconds(closes)) for opens, closes in spec.hours.get(weekday, ())]


def _letters(letters: str) -> frozenset[int]:
    return frozenset(index for index, spec in enumerate(SERVICES) if spec.letter in letters)


def roster(rng: random.Random, organisation: Organisation, index: int, day: dt.date) -> list[Desk]:
    """The clerks at the branch's counters that day.

    A clerk of two branches works the first on even weekdays and the second on odd ones. Clerks
    beyond the number of counters have the day off, chosen at random; those working are placed so
    that every service is served all day, then so that each counter serves as much as it can.
    """
    spec, weekday = BRANCHES[index], day.weekday()
    day_periods = periods(spec, weekday)
    if not day_periods:
        return []
    clerks: list[StaffSpec | None] = [
        person
        for person in STAFF
        if person.role == Role.CLERK and person.branches[weekday % len(person.branches)] == spec.slug
    ]
    rng.shuffle(clerks)
    counters = spec.counters
    working = clerks[: len(counters)] + [None] * (len(counters) - len(clerks))
    best: tuple[tuple[int, int], list[frozenset[int]], tuple[StaffSpec | None, ...]] | None = None
    for placing in itertools.permutations(working):
        serves = [_serves(counter, person) for counter, person in zip(counters, placing, strict=True)]
        all_day = frozenset[int]().union(
            *(served for served, counter in zip(serves, counters, strict=True) if not counter.peak_only)
        )
        score = (len(all_day), sum(len(served) for served in serves))
        if best is None or score > best[0]:
            best = (score, serves, placing)
    assert best is not None
    _score, serves, placing = best
    desks = []
    for position, (counter, person, served) in enumerate(zip(counters, placing, serves, strict=True)):
        if person is None or not served:
            continue  # nobody who can work here: the counter stays closed
        shifts = []
        for opens, closes in day_periods:
            if counter.peak_only and weekday < 5:
                for peak_start, peak_end in PEAK_HOURS:
                    start, end = max(opens, peak_start), min(closes, peak_end)
                    if start < end:
                        shifts.append((start, end, end == closes))
            else:
                shifts.append((opens, closes, True))
        desks.append(
            Desk(
                point=organisation.points[index][position],
                staff=organisation.staff[person.username],
                serves=served,
                speed=organisation.speed[person.username],
                shifts=tuple(shifts),
            )
        )
    return desks


def _serves(counter: CounterSpec, person: StaffSpec | None) -> frozenset[int]:
    """What a clerk serves at a counter: the counter's services, narrowed to theirs if they have some."""
    if person is None:
        return frozenset()
    served = _letters(counter.letters)
    return served & _letters(person.letters) if person.letters else served


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _arrivals(rng: random.Random, index: int, day: dt.date, until: float | None = None) -> list[_Customer]:
    """A non-homogeneous Poisson process per service and 15-minute slot over the opening hours."""
    spec, weekday = BRANCHES[index], day.weekday()
    profile = SATURDAY_PROFILE if weekday == 5 else WEEKDAY_PROFILE
    times: list[tuple[float, int]] = []
    for opens, closes in periods(spec, weekday):
        slot = opens
        while slot < closes:
            slot_end = min(slot + SLOT_SECONDS, closes)
            per_hour = spec.hourly_visits * DAY_FACTOR[weekday] * profile.get(int(slot // 3600), 0.6)
            for service, service_spec in enumerate(SERVICES):
                mean = per_hour * service_spec.share * (slot_end - slot) / 3600
                times.extend((rng.uniform(slot, slot_end), service) for _ in range(_poisson(rng, mean)))
            slot = slot_end
    times.sort()
    return [_customer(rng, at, service) for at, service in times if until is None or at < until]


def _customer(rng: random.Random, arrived: float, service: int) -> _Customer:
    draw = rng.random()
    priority = PriorityReason.ACCESSIBILITY if draw < 0.035 else PriorityReason.VIP if draw < 0.05 else ""
    draw = rng.random()
    channel = Channel.KIOSK if draw < 0.68 else Channel.WEB if draw < 0.95 else Channel.RECEPTION
    named = rng.random() < {Channel.KIOSK: 0.1, Channel.WEB: 0.6}.get(channel, 0.85)
    patience = rng.lognormvariate(math.log(30 * 60), 0.7) * (1.6 if priority else 1.0)
    return _Customer(arrived, service, priority, patience, channel, name(rng) if named else "")


def name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _service_seconds(rng: random.Random, service: int, speed: float) -> float:
    spec = SERVICES[service]
    sigma = math.sqrt(math.log(1 + spec.cv**2))
    mean = spec.minutes * 60 * speed
    return max(45.0, rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma))


def _simulate(rng: random.Random, customers: list[_Customer], desks: list[Desk], max_wait: float) -> None:
    """Run the day: arrivals join the queue, free counters call by the queue's rule, people give up."""
    free, arrive, give_up = 0, 1, 2
    order = itertools.count()
    events: list[tuple[float, int, int, int]] = []
    for number, desk in enumerate(desks):
        events += [(start, free, next(order), number) for start, _end, _drains in desk.shifts]
    events += [(customer.arrived, arrive, next(order), number) for number, customer in enumerate(customers)]
    heapq.heapify(events)
    waiting: dict[int, _Customer] = {}  # in arrival order
    while events:
        moment, kind, _, number = heapq.heappop(events)
        if kind == arrive:
            waiting[number] = customers[number]
            heapq.heappush(events, (moment + customers[number].patience, give_up, next(order), number))
        elif kind == give_up:
            customer = waiting.pop(number, None)
            if customer is not None:
                customer.status, customer.finished = VisitStatus.LEFT, moment
        for desk_number, desk in sorted(enumerate(desks), key=lambda item: (item[1].free_at, item[0])):
            if not waiting or desk.free_at > moment or not desk.may_call(moment):
                continue
            chosen = _first_to_call(waiting, desk.serves, moment, max_wait)
            if chosen is None:
                continue
            customer = waiting.pop(chosen)
            _serve(rng, customer, desk, moment)
            heapq.heappush(events, (desk.free_at, free, next(order), desk_number))


def _first_to_call(
    waiting: dict[int, _Customer], serves: frozenset[int], moment: float, max_wait: float
) -> int | None:
    """The calling order of ``queueing.ordering``: priority or waited too long first, then arrival."""
    first_regular = None
    for number, customer in waiting.items():
        if customer.service not in serves:
            continue
        if customer.priority or moment - customer.arrived >= max_wait:
            return number
        if first_regular is None:
            first_regular = number
    return first_regular


def _serve(rng: random.Random, customer: _Customer, desk: Desk, moment: float) -> None:
    customer.called, customer.desk = moment, desk
    waited_minutes = (moment - customer.arrived) / 60
    if rng.random() < 0.03 + min(0.04, waited_minutes * 0.001):  # longer waits, more have gone
        customer.status = VisitStatus.NO_SHOW
        customer.finished = desk.free_at = moment + rng.uniform(90, 240)  # called again, then given up
        return
    customer.status = VisitStatus.DONE
    customer.started = moment + rng.uniform(15, 75)  # walking to the counter
    customer.finished = customer.started + _service_seconds(rng, customer.service, desk.speed)
    desk.free_at = customer.finished + rng.uniform(10, 45)  # notes before the next call


OUTCOMES = (Outcome.RESOLVED, Outcome.FOLLOW_UP, Outcome.REFERRED, Outcome.NOT_RESOLVED)


def past_visits(
    rng: random.Random,
    organisation: Organisation,
    index: int,
    day: dt.date,
    desks: list[Desk],
    until: float | None = None,
) -> list[PastVisit]:
    """The branch's visits that day at these desks (only those over before ``until``, when given)."""
    if not desks:
        return []
    branch = organisation.branches[index]
    customers = _arrivals(rng, index, day, until)
    _simulate(rng, customers, desks, branch.max_wait_minutes * 60.0)
    records = []
    for customer in customers:
        assert customer.finished is not None
        if until is not None and customer.finished >= until:
            continue
        desk = customer.desk if customer.status != VisitStatus.LEFT else None
        outcome = ""
        if customer.status == VisitStatus.DONE:
            technical = SERVICES[customer.service].letter == "C"
            weights = (0.62, 0.25, 0.05, 0.08) if technical else (0.86, 0.08, 0.03, 0.03)
            outcome = rng.choices(OUTCOMES, weights)[0]

        def at(seconds: float | None) -> dt.datetime | None:
            return None if seconds is None else local(day, round(seconds)).astimezone(dt.UTC)

        arrived = at(customer.arrived)
        assert arrived is not None
        records.append(
            PastVisit(
                branch=branch,
                service=organisation.services[customer.service],
                arrived_at=arrived,
                status=customer.status,
                called_at=at(customer.called),
                service_started_at=at(customer.started),
                finished_at=at(customer.finished),
                service_point=desk.point if desk else None,
                staff_member=desk.staff if desk else None,
                outcome=outcome,
                channel=customer.channel,
                priority_reason=customer.priority,
                customer_name=customer.name,
            )
        )
    return records


def local(day: dt.date, seconds: float) -> dt.datetime:
    """A wall-clock moment of a branch day (all demo branches share one time zone)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(TIME_ZONE)) + dt.timedelta(seconds=seconds)
