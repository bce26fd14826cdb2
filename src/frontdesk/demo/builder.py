"""The demo organisation: three Spanish branches of a telecom retailer, reproducible from one seed.

Set-up rows (branches, opening hours, services, counters, staff) are written with the ORM, as head
office would in the admin (see ``organisation``). Every visit goes through ``queueing.services``: weeks
of history through ``import_past_visits``, today's live queue through ``check_in``, ``open_counter``,
``call_next`` and ``start_service``. The history is simulated rather than scattered at random (see
``history``), so that what the insights and the staffing planner read back is consistent.
"""

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from frontdesk.accounts.services import create_api_token
from frontdesk.branches.models import Branch
from frontdesk.core import clock
from frontdesk.core.errors import QueueEmpty
from frontdesk.queueing import services as queue
from frontdesk.queueing.models import Channel, PriorityReason

from . import history
from .organisation import (
    BRANCHES,
    DEMO_PASSWORD,
    LIVE_WINDOW,
    SERVICES,
    STAFF,
    TIME_ZONE,
    Organisation,
    Role,
    StaffSpec,
    create_organisation,
)

DEFAULT_SEED = 20260316


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
    anchor = now if now.astimezone(zone).date() == today else history.local(today, 12 * 3600)
    with transaction.atomic():
        organisation = create_organisation(rng)
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
                for record in history.past_visits(
                    rng, organisation, index, day, history.roster(rng, organisation, index, day)
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


def _clerk_label(person: StaffSpec) -> str:
    notes = [f"only {person.letters}"] if person.letters else []
    notes += ["two branches"] if len(person.branches) > 1 else []
    return f"{person.username} ({', '.join(notes)})" if notes else person.username


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
    organisation: Organisation,
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
    desks = history.roster(rng, organisation, index, today)
    live.earlier += queue.import_past_visits(
        history.past_visits(rng, organisation, index, today, desks, until=window_start)
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
            customer_name=history.name(rng) if named or phoned else "",
            customer_phone=f"+34 6{rng.randrange(10**8):08d}" if phoned else "",
            priority_reason=priority,
            language="es" if rng.random() < 0.75 else "en",
            arrived_at=history.local(today, math.floor(arrived)).astimezone(dt.UTC),
        )
    live.checked_in += len(arrivals)
    # On a day the branch is closed, its next working day's clerks are the ones at the counters.
    desks = desks or history.roster(rng, organisation, index, _next_open(index, today))
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
    while not history.periods(BRANCHES[index], following.weekday()):
        following += dt.timedelta(days=1)
    return following
