"""What every benchmark shares: the bench database, fixtures, percentiles and plain-text tables.

The benchmarks use their own PostgreSQL database (``frontdesk_bench`` by default) and their own
Redis database number, both on loopback, so they never touch a developer's data. Fixtures
(branches, services, counters, staff, API tokens) are written directly with the ORM: that is
setup, not measurement. Everything measured goes through the services or through HTTP.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

PG_SERVER_URL = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_DB = os.environ.get("BENCH_PG_DB", "frontdesk_bench")
DATABASE_URL = f"{PG_SERVER_URL}/{PG_DB}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")

BRANCH_ID_START = 7_300_001

# Tables the benchmarks fill; emptied before each benchmark (our own database only).
BENCH_TABLES = [
    "queueing_visittransition",
    "queueing_visit",
    "queueing_ticketsequence",
    "queueing_countersession",
    "accounts_apitoken",
    "accounts_staffmember_branches",
    "accounts_staffmember_services",
    "accounts_staffmember",
    "branches_servicepoint_services",
    "branches_servicepoint",
    "branches_openinghours",
    "branches_branch_services",
    "branches_branch",
    "branches_service",
    "django_tasks_database_dbtaskresult",
    "django_session",
]


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for every process the benchmarks start (servers, workers, clients)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="frontdesk.config.settings.base",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        LOG_LEVEL="ERROR",
        FRONTDESK_LOG_LEVEL="ERROR",
        PYTHONPATH=os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH", "")] if p),
    )
    env.update(extra)
    return env


def setup_django(**extra: str) -> None:
    """Point this process at the bench database and Redis, then set Django up."""
    keys = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "FRONTDESK_LOG_LEVEL", *extra}
    for key, value in bench_env(**extra).items():
        if key in keys:
            os.environ[key] = value
    import django

    django.setup()


def prepare_database() -> None:
    """Create the bench database when missing and migrate it (fast when already up to date)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    subprocess.run([PYTHON, "-m", "frontdesk", "migrate", "-v0"], env=bench_env(), check=True, cwd=REPO)


def reset_tables() -> None:
    """Empty every table the benchmarks fill, and vacuum-analyse the queue tables."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(BENCH_TABLES)} RESTART IDENTITY CASCADE")
        # Redis pub/sub channels are shared by every database number of a Redis server, and the
        # realtime group is named after the branch id: start our branch ids far from anyone
        # else's (tests, a demo) on the same Redis, so our boards hear only our events.
        conn.execute(f"ALTER SEQUENCE branches_branch_id_seq RESTART WITH {BRANCH_ID_START}")
        for table in ("queueing_visit", "queueing_visittransition", "queueing_ticketsequence"):
            conn.execute(f"VACUUM ANALYZE {table}")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def analyze() -> None:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("ANALYZE")


HISTORY_DAYS = 28
HISTORY_PER_DAY = 300


def load_history(
    branch_ids: Sequence[int], *, days: int = HISTORY_DAYS, per_day: int = HISTORY_PER_DAY
) -> int:
    """Give each branch ``days`` past days of ended visits, then analyse: setup, never measured.

    A production visit table holds months of ended visits beside the few that wait, and its
    statistics say so. A table emptied just before a run has the opposite statistics (every row
    waiting), and PostgreSQL then plans the calling query as a sequential scan that grows with
    every call of the run. Seeded history keeps the bench to the production shape.
    """
    import psycopg

    sql = """
    INSERT INTO queueing_visit (public_id, branch_id, service_id, business_date, ticket_number,
        ticket_code, status, channel, priority_reason, customer_name, customer_phone, language,
        arrived_at, queued_at, called_at, service_started_at, finished_at, service_point_id,
        recall_count, outcome, note)
    SELECT gen_random_uuid(), b.id, s.service_id, d.day::date, n, 'H-' || n,
           CASE WHEN n %% 12 = 0 THEN 'no_show' ELSE 'finished' END, 'kiosk', '', '', '', 'en',
           at, at, at + interval '9 minutes',
           CASE WHEN n %% 12 = 0 THEN NULL ELSE at + interval '10 minutes' END,
           at + interval '20 minutes', p.id, 0,
           CASE WHEN n %% 12 = 0 THEN '' ELSE 'resolved' END, ''
      FROM branches_branch b
      CROSS JOIN generate_series(1, %(days)s) AS d0(k)
      CROSS JOIN LATERAL (SELECT (now() - d0.k * interval '1 day')::date AS day) d
      CROSS JOIN generate_series(1, %(per_day)s) AS n
      CROSS JOIN LATERAL (SELECT d.day + time '09:00' + n * (interval '10 hours' / %(per_day)s) AS at) t
      CROSS JOIN LATERAL (SELECT bs.service_id FROM branches_branch_services bs
                           WHERE bs.branch_id = b.id ORDER BY bs.service_id
                          OFFSET n %% (SELECT count(*) FROM branches_branch_services x
                                       WHERE x.branch_id = b.id) LIMIT 1) s
      CROSS JOIN LATERAL (SELECT sp.id FROM branches_servicepoint sp WHERE sp.branch_id = b.id
                           ORDER BY sp.id LIMIT 1) p
     WHERE b.id = ANY(%(branches)s)
    """
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        cur = conn.execute(sql, {"days": days, "per_day": per_day, "branches": list(branch_ids)})
        rows = cur.rowcount
        conn.execute("VACUUM ANALYZE queueing_visit")
    return rows


# ---------------------------------------------------------------------------------------------
# Fixtures (setup only: written with the ORM, never measured)


@dataclass
class Fixture:
    service_ids: list[int]
    branches: list[dict[str, Any]] = field(default_factory=list)
    # per branch: {"id", "slug", "counters": [(service_point_id, staff_id)], "reception_staff_id"}


SERVICE_LETTERS = ["A", "B", "C", "D"]


def make_fixture(
    *,
    branches: int,
    counters_per_branch: int,
    prefix: str = "bench",
    services: int = 4,
    open_counters: bool = True,
) -> Fixture:
    """Branches offering ``services`` services, each counter serving all of them, one clerk per counter.

    Counters are opened through :func:`services.open_counter` (the real path), which is setup here.
    """
    from frontdesk.accounts.models import StaffMember
    from frontdesk.branches.models import Branch, Service, ServicePoint
    from frontdesk.queueing import services as queue_services

    service_objs = []
    for i, letter in enumerate(SERVICE_LETTERS[:services]):
        service, _ = Service.objects.get_or_create(
            ticket_letter=letter, defaults={"name": f"Bench service {letter}", "display_order": i}
        )
        service_objs.append(service)
    fixture = Fixture(service_ids=[s.pk for s in service_objs])
    password = "!"  # unusable password: API tokens are how the bench signs in  # noqa: S105
    for b in range(branches):
        branch = Branch.objects.create(name=f"{prefix.title()} {b}", slug=f"{prefix}-{b}", time_zone="UTC")
        branch.services.set(service_objs)
        reception = StaffMember.objects.create(
            username=f"{prefix}-{b}-reception", password=password, role=StaffMember.Role.CLERK
        )
        reception.branches.set([branch])
        counters: list[tuple[int, int]] = []
        for c in range(counters_per_branch):
            point = ServicePoint.objects.create(branch=branch, name=f"Counter {c + 1}", display_order=c)
            point.services.set(service_objs)
            clerk = StaffMember.objects.create(
                username=f"{prefix}-{b}-clerk-{c + 1}", password=password, role=StaffMember.Role.CLERK
            )
            clerk.branches.set([branch])
            if open_counters:
                queue_services.open_counter(staff_member=clerk, service_point=point)
            counters.append((point.pk, clerk.pk))
        fixture.branches.append(
            {"id": branch.pk, "slug": branch.slug, "counters": counters, "reception_staff_id": reception.pk}
        )
    return fixture


def make_tokens(staff_ids: Iterable[int]) -> dict[int, str]:
    from frontdesk.accounts.models import StaffMember
    from frontdesk.accounts.services import create_api_token

    tokens = {}
    for staff in StaffMember.objects.filter(pk__in=list(staff_ids)):
        _token, raw = create_api_token(staff_member=staff, name="bench", scopes=["queue:read", "queue:write"])
        tokens[staff.pk] = raw
    return tokens


# ---------------------------------------------------------------------------------------------
# Statistics and tables


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def summarise(values_seconds: Iterable[float]) -> Summary:
    values = sorted(values_seconds)
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        count=len(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        max=values[-1],
        mean=sum(values) / len(values),
    )


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def num(value: float, digits: int = 0) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()
) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            row[0].ljust(widths[0]),
            *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [title, "=" * len(title), line(cells[0]), rule, *(line(r) for r in cells[1:])]
    out.extend(notes)
    return "\n".join(out)


def say(message: str) -> None:
    """Progress on stderr, so stdout carries only the tables."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Machine load: the machine may be shared, so every table says how busy it was


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all cores from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def busy_percent(before: tuple[float, float], after: tuple[float, float]) -> float:
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return 100.0 * busy / total if total else float("nan")


def background_load(seconds: float = 2.0) -> str:
    """How busy the machine is before a benchmark starts (other people's work shows up here)."""
    before = cpu_times()
    time.sleep(seconds)
    load1 = os.getloadavg()[0]
    busy = busy_percent(before, cpu_times())
    return f"machine busy before start: {busy:.0f}% of 2 cores (load avg {load1:.1f})"
