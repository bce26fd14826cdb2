"""The demo organisation's specification, and the set-up rows written from it.

Three Spanish branches of a telecom retailer: their services, counters, opening hours and staff, and
the arrival profiles the history is simulated from. Set-up rows (branches, opening hours, services,
counters, staff) are written with the ORM, as head office would in the admin.
"""

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, OpeningHours, Service, ServicePoint

DEMO_PASSWORD = "frontdesk-demo"  # noqa: S105  (printed for everyone to use: it is a demo)
TIME_ZONE = "Europe/Madrid"

Role = StaffMember.Role

# ---------------------------------------------------------------------------------------------
# The organisation


@dataclass(frozen=True)
class ServiceSpec:
    letter: str
    name_en: str
    name_es: str
    description_en: str
    description_es: str
    minutes: int  # expected (mean) service time
    cv: float  # coefficient of variation of the service time
    share: float  # of the arrivals


SERVICES = (
    ServiceSpec(
        "A",
        "New contracts & sales",
        "Altas y ventas",
        "New lines, fibre, mobile plans and phones.",
        "Nuevas líneas, fibra, tarifas móviles y teléfonos.",
        12,
        0.7,
        0.30,
    ),
    ServiceSpec(
        "B",
        "Billing & payments",
        "Facturas y pagos",
        "Questions about a bill, payments and direct debits.",
        "Dudas sobre una factura, pagos y domiciliaciones.",
        8,
        0.8,
        0.30,
    ),
    ServiceSpec(
        "C",
        "Technical support & repairs",
        "Soporte técnico y reparaciones",
        "Phone or connection problems, repairs under warranty.",
        "Problemas con el teléfono o la conexión, reparaciones en garantía.",
        20,
        0.9,
        0.21,
    ),
    ServiceSpec(
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
class CounterSpec:
    name: str
    letters: str  # the services it serves
    peak_only: bool = False  # on weekdays staffed only at the busy hours


@dataclass(frozen=True)
class BranchSpec:
    slug: str
    name: str
    address: str
    hourly_visits: float  # arrivals in a weekday hour of profile weight 1
    hours: Mapping[int, tuple[tuple[str, str], ...]]  # weekday → opening periods, local time
    counters: tuple[CounterSpec, ...]


def _week(
    weekdays: tuple[tuple[str, str], ...], saturday: tuple[tuple[str, str], ...] = ()
) -> dict[int, tuple[tuple[str, str], ...]]:
    return {**dict.fromkeys(range(5), weekdays), **({5: saturday} if saturday else {})}


BRANCHES = (
    BranchSpec(
        "madrid-gran-via",
        "Madrid – Gran Vía",
        "Gran Vía 32, 28013 Madrid",
        12.5,
        _week((("09:00", "20:00"),), (("10:00", "14:00"),)),
        (
            CounterSpec("Counter 1", "ABD"),
            CounterSpec("Counter 2", "ABD"),
            CounterSpec("Counter 3", "AC"),
            CounterSpec("Counter 4", "BCD", peak_only=True),
        ),
    ),
    BranchSpec(
        "barcelona-passeig-de-gracia",
        "Barcelona – Passeig de Gràcia",
        "Passeig de Gràcia 45, 08007 Barcelona",
        11.5,
        _week((("09:30", "20:30"),), (("10:00", "14:00"),)),
        (
            CounterSpec("Counter 1", "ABD"),
            CounterSpec("Counter 2", "AB"),
            CounterSpec("Counter 3", "CD"),
            CounterSpec("Counter 4", "ABCD", peak_only=True),
        ),
    ),
    BranchSpec(
        "valencia-colon",
        "Valencia – Colón",
        "Carrer de Colón 18, 46004 València",
        9.5,
        _week((("09:00", "14:00"), ("16:30", "20:00"))),  # split day, closed on Saturday
        (
            CounterSpec("Counter 1", "ABD"),
            CounterSpec("Counter 2", "ABCD"),
            CounterSpec("Counter 3", "C"),
        ),
    ),
)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: StaffMember.Role
    branches: tuple[str, ...] = ()  # slugs; a clerk of two works the first on even weekdays
    letters: str = ""  # the only services they serve; empty for all of their counter's


MADRID, BARCELONA, VALENCIA = (spec.slug for spec in BRANCHES)
STAFF = (
    StaffSpec("admin", "Elena", "Navarro", Role.HEAD_OFFICE),
    StaffSpec("marta", "Marta", "Gil", Role.BRANCH_MANAGER, (MADRID,)),
    StaffSpec("montse", "Montse", "Puig", Role.BRANCH_MANAGER, (BARCELONA,)),
    StaffSpec("amparo", "Amparo", "Ferrer", Role.BRANCH_MANAGER, (VALENCIA,)),
    StaffSpec("clara", "Clara", "Ruiz", Role.CLERK, (MADRID,)),
    StaffSpec("diego", "Diego", "Soto", Role.CLERK, (MADRID,)),
    StaffSpec("sofia", "Sofía", "Martín", Role.CLERK, (MADRID,), "C"),
    StaffSpec("pablo", "Pablo", "Herrera", Role.CLERK, (MADRID,), "ABD"),
    StaffSpec("lucia", "Lucía", "Romero", Role.CLERK, (MADRID,)),
    StaffSpec("jordi", "Jordi", "Vidal", Role.CLERK, (BARCELONA,)),
    StaffSpec("laia", "Laia", "Serra", Role.CLERK, (BARCELONA,)),
    StaffSpec("marc", "Marc", "Font", Role.CLERK, (BARCELONA,), "C"),
    StaffSpec("nuria", "Núria", "Roca", Role.CLERK, (BARCELONA,), "BD"),
    StaffSpec("pau", "Pau", "Riera", Role.CLERK, (BARCELONA,)),
    StaffSpec("vicent", "Vicent", "Llorens", Role.CLERK, (VALENCIA,)),
    StaffSpec("carmen", "Carmen", "Soler", Role.CLERK, (VALENCIA,), "ABD"),
    StaffSpec("rafa", "Rafael", "Mora", Role.CLERK, (VALENCIA,)),
    StaffSpec("ines", "Inés", "Castro", Role.CLERK, (VALENCIA, MADRID)),
    StaffSpec("alex", "Àlex", "Camps", Role.CLERK, (BARCELONA, VALENCIA)),
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
# Set-up rows


@dataclass
class Organisation:
    services: list[Service]  # in SERVICES order
    branches: list[Branch]  # in BRANCHES order
    points: list[list[ServicePoint]]  # per branch, in counter order
    staff: dict[str, StaffMember]
    speed: dict[str, float]  # each clerk's service time relative to the average


def create_organisation(rng: random.Random) -> Organisation:
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
    return Organisation(services, branches, points, staff, speed)


def _password_hash() -> str:
    """One hash for every demo account.

    Django's default PBKDF2 rounds take a second or two per hash, which buys nothing for a password
    printed on the screen; Django raises the rounds to its default at the first sign-in.
    """
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(DEMO_PASSWORD, hasher.salt(), iterations=50_000)
    return hasher.encode(DEMO_PASSWORD, hasher.salt())
