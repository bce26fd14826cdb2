"""The demo organisation: three Spanish branches of a telecom retailer, reproducible from one seed.

Set-up rows (branches, opening hours, services, counters, staff) are written with the ORM, as head
office would in the admin. Every visit goes through ``queueing.services``: weeks of history through
``import_past_visits``, today's live queue through ``check_in``, ``open_counter``, ``call_next`` and
``start_service``.

The history is simulated rather than scattered at random, so that what the insights and the staffing
planner read back is consistent: arrivals are a non-homogeneous Poisson process per branch, service and
15-minute slot (morning and lunchtime peaks, a quiet mid-afternoon, busy Mondays and Saturdays); each
branch-day runs a small event-driven simulation of its staffed counters (one customer per counter,
counters serve only their services, the queue's own calling rule); service times are lognormal; some
customers give up after their patience runs out and some are not there when called.
"""

import datetime as dt
import heapq
import itertools
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher
from django.db import transaction

from frontdesk.accounts.models import StaffMember
from frontdesk.accounts.services import create_api_token
from frontdesk.branches.models import Branch, OpeningHours, Service, ServicePoint
from frontdesk.core import clock
from frontdesk.core.errors import QueueEmpty
from frontdesk.queueing import services as queue
from frontdesk.queueing.models import Channel, Outcome, PriorityReason, VisitStatus
from frontdesk.queueing.services import PastVisit

from .names import FIRST_NAMES, SURNAMES

DEFAULT_SEED = 20260316
DEMO_PASSWORD = "frontdesk-demo"  # noqa: S105  (printed for everyone to use: it is a demo)
TIME_ZONE = "Europe/Madrid"

Role = StaffMember.Role

# ---------------------------------------------------------------------------------------------
# The organisation


@dataclass(frozen=True)
class _ServiceSpec:
    letter: str
    name_en: str
    name_es: str
    description_en: str
    description_es: str
    minutes: int  # expected (mean) service time
    cv: float  # coefficient of variation of the service time
    share: float  # of the arrivals


SERVICES = (
    _ServiceSpec(
        "A",
        "New contracts & sales",
        "Altas y ventas",
        "New lines, fibre, mobile plans and phones.",
        "Nuevas líneas, fibra, tarifas móviles y teléfonos.",
        12,
        0.7,
        0.30,
    ),
    _ServiceSpec(
        "B",
        "Billing & payments",
        "Facturas y pagos",
        "Questions about a bill, payments and direct debits.",
        "Dudas sobre una factura, pagos y domiciliaciones.",
        8,
        0.8,
        0.30,
    ),
    _ServiceSpec(
        "C",
        "Technical support & repairs",
        "Soporte técnico y reparaciones",
        "Phone or connection problems, repairs under warranty.",
        "Problemas con el teléfono o la conexión, reparaciones en garantía.",
        20,
        0.9,
        0.21,
    ),
    _ServiceSpec(
        "D",
        "Pick up an order",
        "Recogida de pedidos",
        "Collect an online order or a repaired device.",
        "Recoge un pedido online o un equipo reparado.",
        4,
        0.6,
        0.19,
    ),
)


@dataclass(frozen=True)
class _CounterSpec:
    name: str
    letters: str  # the services it serves
    peak_only: bool = False  # on weekdays staffed only at the busy hours


@dataclass(frozen=True)
class _BranchSpec:
    slug: str
    name: str
    address: str
    hourly_visits: float  # arrivals in a weekday hour of profile weight 1
    hours: Mapping[int, tuple[tuple[str, str], ...]]  # weekday → opening periods, local time
    counters: tuple[_CounterSpec, ...]


def _week(
    weekdays: tuple[tuple[str, str], ...], saturday: tuple[tuple[str, str], ...] = ()
) -> dict[int, tuple[tuple[str, str], ...]]:
    return {**dict.fromkeys(range(5), weekdays), **({5: saturday} if saturday else {})}


BRANCHES = (
    _BranchSpec(
        "madrid-gran-via",
        "Madrid – Gran Vía",
        "Gran Vía 32, 28013 Madrid",
        12.5,
        _week((("09:00", "20:00"),), (("10:00", "14:00"),)),
        (
            _CounterSpec("Counter 1", "ABD"),
            _CounterSpec("Counter 2", "ABD"),
            _CounterSpec("Counter 3", "AC"),
            _CounterSpec("Counter 4", "BCD", peak_only=True),
        ),
    ),
    _BranchSpec(
        "barcelona-passeig-de-gracia",
        "Barcelona – Passeig de Gràcia",
        "Passeig de Gràcia 45, 08007 Barcelona",
        11.5,
        _week((("09:30", "20:30"),), (("10:00", "14:00"),)),
        (
            _CounterSpec("Counter 1", "ABD"),
            _CounterSpec("Counter 2", "AB"),
            _CounterSpec("Counter 3", "CD"),
            _CounterSpec("Counter 4", "ABCD", peak_only=True),
        ),
    ),
    _BranchSpec(
        "valencia-colon",
        "Valencia – Colón",
        "Carrer de Colón 18, 46004 València",
        9.5,
        _week((("09:00", "14:00"), ("16:30", "20:00"))),  # split day, closed on Saturday
        (
            _CounterSpec("Counter 1", "ABD"),
            _CounterSpec("Counter 2", "ABCD"),
            _CounterSpec("Counter 3", "C"),
        ),
    ),
)


@dataclass(frozen=True)
class _StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: StaffMember.Role
    branches: tuple[str, ...] = ()  # slugs; a clerk of two works the first on even weekdays
    letters: str = ""  # the only services they serve; empty for all of their counter's


MADRID, BARCELONA, VALENCIA = (spec.slug for spec in BRANCHES)
STAFF = (
    _StaffSpec("admin", "Elena", "Navarro", Role.HEAD_OFFICE),
    _StaffSpec("marta", "Marta", "Gil", Role.BRANCH_MANAGER, (MADRID,)),
    _StaffSpec("montse", "Montse", "Puig", Role.BRANCH_MANAGER, (BARCELONA,)),
    _StaffSpec("amparo", "Amparo", "Ferrer", Role.BRANCH_MANAGER, (VALENCIA,)),
    _StaffSpec("clara", "Clara", "Ruiz", Role.CLERK, (MADRID,)),
    _StaffSpec("diego", "Diego", "Soto", Role.CLERK, (MADRID,)),
    _StaffSpec("sofia", "Sofía", "Martín", Role.CLERK, (MADRID,), "C"),
    _StaffSpec("pablo", "Pablo", "Herrera", Role.CLERK, (MADRID,), "ABD"),
    _StaffSpec("lucia", "Lucía", "Romero", Role.CLERK, (MADRID,)),
    _StaffSpec("jordi", "Jordi", "Vidal", Role.CLERK, (BARCELONA,)),
    _StaffSpec("laia", "Laia", "Serra", Role.CLERK, (BARCELONA,)),
    _StaffSpec("marc", "Marc", "Font", Role.CLERK, (BARCELONA,), "C"),
    _StaffSpec("nuria", "Núria", "Roca", Role.CLERK, (BARCELONA,), "BD"),
    _StaffSpec("pau", "Pau", "Riera", Role.CLERK, (BARCELONA,)),
    _StaffSpec("vicent", "Vicent", "Llorens", Role.CLERK, (VALENCIA,)),
    _StaffSpec("carmen", "Carmen", "Soler", Role.CLERK, (VALENCIA,), "ABD"),
    _StaffSpec("rafa", "Rafael", "Mora", Role.CLERK, (VALENCIA,)),
    _StaffSpec("ines", "Inés", "Castro", Role.CLERK, (VALENCIA, MADRID)),
    _StaffSpec("alex", "Àlex", "Camps", Role.CLERK, (BARCELONA, VALENCIA)),
)

# Relative arrivals per local hour, and per weekday: late-morning and lunchtime peaks, a quiet
# mid-afternoon, an after-work bump; Monday busiest; Saturday's short opening busier per hour.
WEEKDAY_PROFILE = {9: 0.55, 10: 1.25, 11: 1.4, 12: 1.15, 13: 1.2, 14: 0.8, 15: 0.5, 16: 0.55, 17: 0.85}
WEEKDAY_PROFILE |= {18: 1.0, 19: 0.8, 20: 0.6}
SATURDAY_PROFILE = {10: 1.2, 11: 1.4, 12: 1.4, 13: 1.15}
DAY_FACTOR = {0: 1.2, 1: 1.0, 2: 0.95, 3: 1.0, 4: 1.1, 5: 1.25}
PEAK_HOURS = ((11 * 3600, 14 * 3600), (17 * 3600 + 1800, 20 * 3600))  # when a peak-only counter is staffed
SLOT_SECONDS = 15 * 60
DRAIN_SECONDS = 60 * 60  # counters keep serving up to an hour after closing while people wait
LIVE_WINDOW = dt.timedelta(minutes=35)  # today's waiting customers arrived within this long

# ---------------------------------------------------------------------------------------------
# Public interface


def is_loaded() -> bool:
    """Whether the demo organisation is already in this database."""
    return Branch.objects.filter(slug=BRANCHES[0].slug).exists()


def build(
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] = lambda _: None,
    weeks: int = 4,
    today: dt.date | None = None,
) -> str:
    """Create the organisation, ``weeks`` of history before ``today`` and a live queue; say what."""
    began = time.perf_counter()
    rng = random.Random(seed)
    zone = ZoneInfo(TIME_ZONE)
    now = clock.now()
    today = today or now.astimezone(zone).date()
    # Today's customers arrived shortly before now; on another day, before noon of that day.
    anchor = now if now.astimezone(zone).date() == today else _local(today, 12 * 3600)
    with transaction.atomic():
        organisation = _create_organisation(rng)
        progress(
            f"{len(organisation.branches)} branches, {len(organisation.services)} services, "
            f"{sum(len(points) for points in organisation.points)} counters, "
            f"{len(organisation.staff)} staff"
        )
        days = [today - dt.timedelta(days=back) for back in range(weeks * 7, 0, -1)]
        past = 0
        for week in range(weeks):
            records = [
                record
                for day in days[week * 7 : week * 7 + 7]
                for index in range(len(BRANCHES))
                for record in _past_visits(
                    rng, organisation, index, day, _roster(rng, organisation, index, day)
                )
            ]
            past += queue.import_past_visits(records)
            progress(f"history, week {week + 1} of {weeks}: {len(records):,} visits")
        live = _Live()
        for index in range(len(BRANCHES)):
            progress(_open_today(rng, organisation, index, today, anchor, live))
        create_api_token(
            staff_member=organisation.staff["admin"],
            name="CRM integration (demo)",
            scopes=["queue:read", "queue:write"],
        )
    return (
        f"Demo organisation ready in {time.perf_counter() - began:.1f} s: {len(BRANCHES)} branches, "
        f"{len(SERVICES)} services, {sum(len(points) for points in organisation.points)} counters, "
        f"{len(STAFF)} staff; {past:,} past visits over {len(days)} days; "
        f"today {live.earlier + live.checked_in:,} tickets so far: {live.waiting} waiting, "
        f"{live.at_counters} at a counter, {live.counters} counters open; 1 API token (its secret not kept)."
    )


def addresses(base_url: str) -> str:
    """Where to look and how to sign in, for the person who started the demo."""
    base = base_url.rstrip("/")
    lines = [
        "",
        f"Frontdesk demo at {base}/ — every demo account's password is {DEMO_PASSWORD!r} (it is a demo).",
        "",
        f"  staff console    {base}/console/",
        f"  admin            {base}/admin/   (sign in as admin)",
        f"  API docs         {base}/api/docs",
        "  API token        frontdesk create_api_token admin --name CRM --scope queue:write",
    ]
    for spec in BRANCHES:
        people = [person for person in STAFF if person.branches and spec.slug in person.branches]
        managers = [person.username for person in people if person.role == Role.BRANCH_MANAGER]
        clerks = [_clerk_label(person) for person in people if person.role == Role.CLERK]
        lines += [
            "",
            f"  {spec.name}",
            f"    kiosk          {base}/kiosk/{spec.slug}/",
            f"    display board  {base}/display/{spec.slug}/",
            f"    join by phone  {base}/join/{spec.slug}/",
            f"    live view      {base}/manage/{spec.slug}/",
            f"    manager        {', '.join(managers)}",
            f"    clerks         {', '.join(clerks)}",
        ]
    lines += ["", "  head office      admin (superuser: every branch, the admin site)", ""]
    return "\n".join(lines)


def _clerk_label(person: _StaffSpec) -> str:
    notes = [f"only {person.letters}"] if person.letters else []
    notes += ["two branches"] if len(person.branches) > 1 else []
    return f"{person.username} ({', '.join(notes)})" if notes else person.username


# ---------------------------------------------------------------------------------------------
# Set-up rows


@dataclass
class _Organisation:
    services: list[Service]  # in SERVICES order
    branches: list[Branch]  # in BRANCHES order
    points: list[list[ServicePoint]]  # per branch, in counter order
    staff: dict[str, StaffMember]
    speed: dict[str, float]  # each clerk's service time relative to the average


def _create_organisation(rng: random.Random) -> _Organisation:
    services = [
        Service.objects.create(
            name=spec.name_en,
            name_en=spec.name_en,
            name_es=spec.name_es,
            description=spec.description_en,
            description_en=spec.description_en,
            description_es=spec.description_es,
            ticket_letter=spec.letter,
            expected_duration_minutes=spec.minutes,
            display_order=position,
        )
        for position, spec in enumerate(SERVICES)
    ]
    by_letter = {spec.letter: service for spec, service in zip(SERVICES, services, strict=True)}
    branches: list[Branch] = []
    points: list[list[ServicePoint]] = []
    for spec in BRANCHES:
        branch = Branch.objects.create(
            name=spec.name, slug=spec.slug, address=spec.address, time_zone=TIME_ZONE
        )
        branch.services.set(services)
        OpeningHours.objects.bulk_create(
            OpeningHours(
                branch=branch,
                weekday=weekday,
                opens_at=dt.time.fromisoformat(opens),
                closes_at=dt.time.fromisoformat(closes),
            )
            for weekday, periods in spec.hours.items()
            for opens, closes in periods
        )
        branch_points = []
        for position, counter in enumerate(spec.counters):
            point = ServicePoint.objects.create(branch=branch, name=counter.name, display_order=position)
            point.services.set([by_letter[letter] for letter in counter.letters])
            branch_points.append(point)
        branches.append(branch)
        points.append(branch_points)
    by_slug = {spec.slug: branch for spec, branch in zip(BRANCHES, branches, strict=True)}
    password = _password_hash()
    staff: dict[str, StaffMember] = {}
    for person in STAFF:
        member = StaffMember.objects.create(
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@frontdesk.example",
            role=person.role,
            is_staff=person.role == Role.HEAD_OFFICE,
            is_superuser=person.role == Role.HEAD_OFFICE,
            password=password,
        )
        member.branches.set([by_slug[slug] for slug in person.branches])
        if person.letters:
            member.services.set([by_letter[letter] for letter in person.letters])
        staff[person.username] = member
    speed = {person.username: rng.uniform(0.9, 1.25) for person in STAFF if person.role == Role.CLERK}
    return _Organisation(services, branches, points, staff, speed)


def _password_hash() -> str:
    """One hash for every demo account.

    Django's default PBKDF2 rounds take a second or two per hash, which buys nothing for a password
    printed on the screen; Django raises the rounds to its default at the first sign-in.
    """
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(DEMO_PASSWORD, hasher.salt(), iterations=50_000)
    return hasher.encode(DEMO_PASSWORD, hasher.salt())


# ---------------------------------------------------------------------------------------------
# One branch-day: who works where, who comes in, and what happens to them


@dataclass
class _Desk:
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
    desk: _Desk | None = None


def _periods(spec: _BranchSpec, weekday: int) -> list[tuple[float, float]]:
    def seconds(text: str) -> float:
        moment = dt.time.fromisoformat(text)
        return moment.hour * 3600 + moment.minute * 60

    return [(seconds(opens), seconds(closes)) for opens, closes in spec.hours.get(weekday, ())]


def _letters(letters: str) -> frozenset[int]:
    return frozenset(index for index, spec in enumerate(SERVICES) if spec.letter in letters)


def _roster(rng: random.Random, organisation: _Organisation, index: int, day: dt.date) -> list[_Desk]:
    """The clerks at the branch's counters that day.

    A clerk of two branches works the first on even weekdays and the second on odd ones. Clerks
    beyond the number of counters have the day off, chosen at random; those working are placed so
    that every service is served all day, then so that each counter serves as much as it can.
    """
    spec, weekday = BRANCHES[index], day.weekday()
    periods = _periods(spec, weekday)
    if not periods:
        return []
    clerks: list[_StaffSpec | None] = [
        person
        for person in STAFF
        if person.role == Role.CLERK and person.branches[weekday % len(person.branches)] == spec.slug
    ]
    rng.shuffle(clerks)
    counters = spec.counters
    working = clerks[: len(counters)] + [None] * (len(counters) - len(clerks))
    best: tuple[tuple[int, int], list[frozenset[int]], tuple[_StaffSpec | None, ...]] | None = None
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
        for opens, closes in periods:
            if counter.peak_only and weekday < 5:
                for peak_start, peak_end in PEAK_HOURS:
                    start, end = max(opens, peak_start), min(closes, peak_end)
                    if start < end:
                        shifts.append((start, end, end == closes))
            else:
                shifts.append((opens, closes, True))
        desks.append(
            _Desk(
                point=organisation.points[index][position],
                staff=organisation.staff[person.username],
                serves=served,
                speed=organisation.speed[person.username],
                shifts=tuple(shifts),
            )
        )
    return desks


def _serves(counter: _CounterSpec, person: _StaffSpec | None) -> frozenset[int]:
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
    for opens, closes in _periods(spec, weekday):
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
    return _Customer(arrived, service, priority, patience, channel, _name(rng) if named else "")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _service_seconds(rng: random.Random, service: int, speed: float) -> float:
    spec = SERVICES[service]
    sigma = math.sqrt(math.log(1 + spec.cv**2))
    mean = spec.minutes * 60 * speed
    return max(45.0, rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma))


def _simulate(rng: random.Random, customers: list[_Customer], desks: list[_Desk], max_wait: float) -> None:
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


def _serve(rng: random.Random, customer: _Customer, desk: _Desk, moment: float) -> None:
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


def _past_visits(
    rng: random.Random,
    organisation: _Organisation,
    index: int,
    day: dt.date,
    desks: list[_Desk],
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
            return None if seconds is None else _local(day, round(seconds)).astimezone(dt.UTC)

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


def _local(day: dt.date, seconds: float) -> dt.datetime:
    """A wall-clock moment of a branch day (all demo branches share one time zone)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(TIME_ZONE)) + dt.timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# Today


@dataclass
class _Live:
    earlier: int = 0  # visits today that were over before the live queue
    checked_in: int = 0
    waiting: int = 0
    at_counters: int = 0  # called or being served
    counters: int = 0


def _open_today(
    rng: random.Random,
    organisation: _Organisation,
    index: int,
    today: dt.date,
    anchor: dt.datetime,
    live: _Live,
) -> str:
    """Today through the services: the day so far as history, then a queue and open counters.

    Returns a line saying who is signed in where, so the person trying the demo knows whom to be.
    """
    spec, branch = BRANCHES[index], organisation.branches[index]
    local = anchor.astimezone(ZoneInfo(TIME_ZONE))
    now_seconds = local.hour * 3600 + local.minute * 60 + local.second
    window_start = max(0, now_seconds - int(LIVE_WINDOW.total_seconds()))
    desks = _roster(rng, organisation, index, today)
    live.earlier += queue.import_past_visits(
        _past_visits(rng, organisation, index, today, desks, until=window_start)
    )
    shares = [service.share for service in SERVICES]
    arrivals = sorted(rng.uniform(window_start, now_seconds) for _ in range(rng.randint(7, 12)))
    for arrived in arrivals:
        named, phoned = rng.random() < 0.55, rng.random() < 0.4
        draw = rng.random()
        priority = PriorityReason.ACCESSIBILITY if draw < 0.06 else PriorityReason.VIP if draw < 0.09 else ""
        queue.check_in(
            branch=branch,
            service=organisation.services[rng.choices(range(len(SERVICES)), shares)[0]],
            channel=Channel.WEB if phoned else Channel.KIOSK,
            customer_name=_name(rng) if named or phoned else "",
            customer_phone=f"+34 6{rng.randrange(10**8):08d}" if phoned else "",
            priority_reason=priority,
            language="es" if rng.random() < 0.75 else "en",
            arrived_at=_local(today, math.floor(arrived)).astimezone(dt.UTC),
        )
    live.checked_in += len(arrivals)
    # On a day the branch is closed, its next working day's clerks are the ones at the counters.
    desks = desks or _roster(rng, organisation, index, _next_open(index, today))
    open_desks = desks[: 3 if len(desks) >= 4 else 2]
    for desk in open_desks:
        queue.open_counter(staff_member=desk.staff, service_point=desk.point)
    doing = {desk.staff.username: "free" for desk in open_desks}
    # The last open counter stays free, so whoever signs in as that clerk can press "call next".
    for position, desk in enumerate(open_desks[:-1]):
        try:
            visit = queue.call_next(staff_member=desk.staff, service_point=desk.point)
        except QueueEmpty:
            continue
        doing[desk.staff.username] = f"calling {visit.ticket_code}"
        if position == 0 or rng.random() < 0.6:
            queue.start_service(staff_member=desk.staff, visit=visit)
            doing[desk.staff.username] = f"serving {visit.ticket_code}"
    at_counters = sum(1 for state in doing.values() if state != "free")
    live.counters += len(open_desks)
    live.at_counters += at_counters
    live.waiting += len(arrivals) - at_counters
    signed_in = ", ".join(
        f"{desk.staff.username} at {desk.point.name} ({doing[desk.staff.username]})" for desk in open_desks
    )
    return f"{spec.name} now: {len(arrivals) - at_counters} waiting; {signed_in}"


def _next_open(index: int, day: dt.date) -> dt.date:
    """The branch's next working day (whose clerks open the counters on a closed day's demo)."""
    following = day + dt.timedelta(days=1)
    while not _periods(BRANCHES[index], following.weekday()):
        following += dt.timedelta(days=1)
    return following
