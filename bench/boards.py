"""Benchmark 3: display boards, commit-to-frame latency across two ASGI processes.

Two uvicorn processes (``frontdesk serve``) share Redis (``REDIS_URL``, Channels'
``RedisPubSubChannelLayer``). Boards (websocket clients, all in one asyncio process using the
``websockets`` library, ``bench.boards_client``) connect to process B; calls and no-shows are
made over HTTP through process A. Each frame carries ``published_at`` (``time.time()`` taken in
process A right after the commit); the client subtracts it from the frame's arrival time (same
machine, same clock). Beside it, in the same run: raw Redis publish -> subscriber latency with
redis-py pub/sub.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from typing import Any

from . import common
from .common import ms, num, say, summarise, table
from .http import Server

PORT_A, PORT_B = 8400, 8401
SERVER_ENV: dict[str, str] = {}  # the shipped settings
COUNTED = {"visit.call", "visit.no_show"}


class Client:
    """The board-client process; talks over stdin/stdout lines."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [common.PYTHON, "-m", "bench.boards_client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=common.bench_env(),
            cwd=common.REPO,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"board client did not start: {line!r}")

    def finish(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("STOP\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return result


async def _drive(branches: list[dict[str, Any]], *, cycles: int, rate: float) -> Counter[str]:
    """Call next then no-show through process A at ``rate`` cycles per second; count events per branch."""
    import httpx

    events: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    order = [
        (b, c)
        for c in range(max(len(b["counters"]) for b in branches))
        for b in branches
        if c < len(b["counters"])
    ]
    busy: set[int] = set()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{PORT_A}", timeout=10, limits=httpx.Limits(max_connections=32)
    ) as client:

        async def cycle(n: int) -> None:
            for k in range(len(order)):
                branch, c = order[(n + k) % len(order)]
                counter_id, token = branch["counters"][c]
                if counter_id not in busy:
                    break
            else:
                errors["no idle counter"] += 1
                return
            busy.add(counter_id)
            headers = {"Authorization": f"Bearer {token}"}
            try:
                called = await client.post(f"/api/queueing/counters/{counter_id}/call-next", headers=headers)
                if called.status_code != 200:
                    errors[f"call-next {called.status_code}"] += 1
                    return
                events[branch["slug"]] += 1
                visit_id = called.json()["id"]
                freed = await client.post(f"/api/queueing/visits/{visit_id}/no-show", headers=headers)
                if freed.status_code == 200:
                    events[branch["slug"]] += 1
                else:
                    errors[f"no-show {freed.status_code}"] += 1
            except httpx.HTTPError as error:
                errors[type(error).__name__] += 1
            finally:
                busy.discard(counter_id)

        start = time.perf_counter()
        tasks = []
        for n in range(cycles):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(cycle(n)))
        await asyncio.wait(tasks, timeout=60)
    if errors:
        say(f"boards: driver errors {dict(errors)}")
    events["_errors"] = sum(errors.values())
    return events


def _prefill(branches: list[dict[str, Any]], per_branch: int, service_ids: list[int]) -> None:
    from frontdesk.branches.models import Branch, Service
    from frontdesk.queueing import services

    service_list = list(Service.objects.filter(pk__in=service_ids).order_by("pk"))
    for b in branches:
        branch = Branch.objects.get(slug=b["slug"])
        for i in range(per_branch):
            services.check_in(branch=branch, service=service_list[i % len(service_list)])


def scenario(
    label: str,
    branches: list[dict[str, Any]],
    boards_per_branch: int,
    *,
    cycles: int,
    rate: float,
    service_ids: list[int],
) -> dict[str, Any]:
    _prefill(branches, -(-cycles // len(branches)) + 4, service_ids)
    # Warm-up, not measured: two cycles through A before any board connects, so A's first
    # publish (which opens its Redis connection) is not timed.
    asyncio.run(_drive(branches[:1], cycles=2, rate=10))
    time.sleep(1.0)  # let the prefill's and warm-up's events drain before boards connect
    say(f"boards: {label}: connecting {boards_per_branch * len(branches)} boards to process B")
    client = Client(
        {
            "mode": "boards",
            "port": PORT_B,
            "max_seconds": cycles / rate + 120,
            "count_types": sorted(COUNTED),
            "boards": [[b["slug"], boards_per_branch] for b in branches],
        }
    )
    time.sleep(1.0)
    say(f"boards: {label}: {cycles} call + no-show cycles at {rate}/s through process A")
    events = asyncio.run(_drive(branches, cycles=cycles, rate=rate))
    time.sleep(3.0)  # frames still in flight
    result = client.finish()
    expected = sum(events[b["slug"]] * boards_per_branch for b in branches)
    delivered = sum(frames for _slug, frames in result["per_board"])
    return {
        "label": label,
        "boards": boards_per_branch * len(branches),
        "events": sum(events[b["slug"]] for b in branches),
        "expected": expected,
        "delivered": delivered,
        "result": result,
        "driver_errors": events["_errors"],
    }


def redis_reference(messages: int, rate: float) -> dict[str, Any]:
    import redis

    channel = "frontdesk-bench-reference"
    client = Client(
        {"mode": "redis", "url": common.REDIS_URL, "channel": channel, "max_seconds": messages / rate + 60}
    )
    r = redis.Redis.from_url(common.REDIS_URL)
    start = time.perf_counter()
    for n in range(messages):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        r.publish(channel, json.dumps({"n": n, "published_at": time.time()}))
    time.sleep(1.0)
    result = client.finish()
    return {
        "label": "reference: redis-py publish -> 1 subscriber",
        "boards": 1,
        "events": messages,
        "expected": messages,
        "delivered": len(result["latencies"]),
        "result": result,
        "driver_errors": 0,
    }


def run(quick: bool = False) -> str:
    common.prepare_database()
    common.reset_tables()
    common.flush_redis()
    common.setup_django()
    say("boards: fixtures")
    one = common.make_fixture(branches=1, counters_per_branch=10, prefix="board")
    many = common.make_fixture(branches=50, counters_per_branch=10, prefix="boards")
    staff = [clerk for b in [*one.branches, *many.branches] for _p, clerk in b["counters"]]
    tokens = common.make_tokens(staff)

    def with_tokens(branch: dict[str, Any]) -> dict[str, Any]:
        return {"slug": branch["slug"], "counters": [[p, tokens[c]] for p, c in branch["counters"]]}

    single = [with_tokens(b) for b in one.branches]
    fifty = [with_tokens(b) for b in many.branches]
    common.analyze()
    background = common.background_load()
    seconds = 10 if quick else 20
    server_a = Server("asgi", PORT_A, SERVER_ENV)
    server_b = Server("asgi", PORT_B, SERVER_ENV)
    rows_data = []
    try:
        server_a.wait_ready()
        server_b.wait_ready()
        rows_data.append(redis_reference(messages=seconds * 100, rate=100))
        rows_data.append(
            scenario(
                "100 boards, 1 branch", single, 100, cycles=seconds * 5, rate=5, service_ids=one.service_ids
            )
        )
        rows_data.append(
            scenario(
                "500 boards, 50 branches (10 each)",
                fifty,
                10,
                cycles=seconds * 10,
                rate=10,
                service_ids=one.service_ids,
            )
        )
    finally:
        server_a.stop()
        server_b.stop()
    return report(rows_data, background, server_a)


def report(rows_data: list[dict[str, Any]], background: str, server: Server) -> str:
    rows = []
    for d in rows_data:
        s = summarise(d["result"]["latencies"])
        ratio = d["delivered"] / d["expected"] if d["expected"] else float("nan")
        rows.append(
            [
                d["label"],
                num(d["boards"]),
                num(d["events"]),
                num(d["expected"]),
                num(d["delivered"]),
                f"{ratio:.3f}",
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max),
            ]
        )
    notes = [
        "servers: 2 processes, each: python -m frontdesk serve --workers 1 (uvicorn, "
        "ASGI), REDIS_URL set (RedisPubSubChannelLayer); boards connect to B, calls go through A over HTTP",
        "all websocket clients run in ONE asyncio process (websockets library) on the same 2 cores; "
        "latency = frame arrival time.time() - payload published_at (taken in A right after commit)",
        "counted frames: visit.call and visit.no_show events caused by the measured calls; events = such "
        "events committed; expected = events x boards of that branch; 2 unmeasured warm-up cycles "
        "through A before the boards connect",
    ]
    for d in rows_data[1:]:
        r = d["result"]
        notes.append(
            f"  {d['label']}: connect failures {r['failure_count']} {r['failures'][:2]}, closed early "
            f"{r['closed_early']}, duplicate frames {r['duplicates']}, frames by type {dict(r['types'])}, "
            f"driver errors {d['driver_errors']}, board-client CPU "
            f"{r['client_cpu_seconds']:.1f} s"
        )
    notes.append(background)
    out = table(
        "Display boards: commit -> websocket frame (ms)",
        [
            "scenario",
            "boards",
            "events",
            "expected",
            "delivered",
            "deliv/exp",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
        ],
        rows,
        notes,
    )
    hundred = summarise(rows_data[1]["result"]["latencies"])
    five = summarise(rows_data[2]["result"]["latencies"])
    r100 = rows_data[1]["delivered"] / max(1, rows_data[1]["expected"])
    r500 = rows_data[2]["delivered"] / max(1, rows_data[2]["expected"])
    verdict = [
        "Goals",
        f"  100 boards: p95 {ms(hundred.p95)} ms (<= 50), p99 {ms(hundred.p99)} ms (<= 100), delivered "
        f"{r100:.3f} -> "
        + ("MET" if hundred.p95 <= 0.05 and hundred.p99 <= 0.1 and r100 == 1 else "NOT MET"),
        f"  500 boards / 50 branches: p99 {ms(five.p99)} ms (<= 250), delivered {r500:.3f} -> "
        + ("MET" if five.p99 <= 0.25 and r500 == 1 else "NOT MET"),
    ]
    del server
    return out + "\n\n" + "\n".join(verdict)
