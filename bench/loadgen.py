"""A small HTTP/1.1 load generator on asyncio (and uvloop when present), in its own process.

It shares the 2 cores with the server, so it is kept cheap: keep-alive connections, requests
written as bytes, responses parsed just enough (status, Content-Length or chunked body).
``python -m bench.loadgen`` reads one JSON job on stdin and writes one JSON result to the file
named by the job's ``out``;
``bench.http`` drives it. Every loop is bounded in count and time; only 127.0.0.1 is dialled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from collections import defaultdict
from typing import Any

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0
_UUID = re.compile(rb"/t/([0-9a-f-]{36})/")
_ID = re.compile(rb'"id":\s*(\d+)')
# The called visit of an end-and-call-next answer, or null: read without parsing the whole answer
# (the generator shares the machine's 2 cores with the server it measures).
_CALLED_ID = re.compile(rb'"called":\s*(?:null|\{"id":\s*(\d+))')


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, token, body), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError, ValueError):
            self.close()
            raise

    async def _request(
        self, method: str, path: str, token: str | None, body: bytes | None
    ) -> tuple[int, bytes]:
        if self.reader is not None and self.reader.at_eof():
            # The server closed this keep-alive connection while it sat idle (granian does after
            # 30 s without a request), as HTTP allows; a client opens a new one, as browsers do.
            self.close()
        if self.writer is None:
            await self._open()
        assert self.reader is not None
        assert self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method == "POST":
            head += "Content-Length: 0\r\n"
        self.writer.write((head + "\r\n").encode() + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        headers = raw.lower()
        length_at = headers.find(b"\r\ncontent-length:")
        if length_at >= 0:
            end = headers.index(b"\r\n", length_at + 2)
            payload = await self.reader.readexactly(int(headers[length_at + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in headers:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(parts)
        else:
            raise HttpError("response without length")
        if b"\r\nconnection: close" in headers:
            self.close()
        return status, payload


class Recorder:
    """Latencies and outcomes per request kind."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.other: dict[str, int] = defaultdict(int)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append(seconds)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {detail}")

    def as_json(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "other": self.other,
        }


async def timed(
    rec: Recorder,
    conn: Connection,
    kind: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    since: float | None = None,
    ok: tuple[int, ...] = (200, 201),
) -> tuple[int, bytes] | None:
    """One request; latency from ``since`` (a scheduled send time) or from now."""
    t0 = time.perf_counter() if since is None else since
    try:
        status, payload = await conn.request(method, path, token, body)
    except Exception as error:
        rec.error(kind, repr(error)[:200])
        return None
    elapsed = time.perf_counter() - t0
    if status in ok:
        rec.ok(kind, elapsed)
    elif status == 409 and b"queue_empty" in payload:
        rec.other[f"{kind} queue empty"] += 1
    else:
        rec.error(kind, f"HTTP {status} {payload[:160]!r}")
    return status, payload


# ---------------------------------------------------------------------------------------------
# Closed loop: N connections, each sending as soon as the previous answer arrives


async def closed_loop(job: dict[str, Any]) -> dict[str, Any]:
    port, path, concurrency, seconds = job["port"], job["path"], job["concurrency"], job["seconds"]
    rec = Recorder()
    deadline = time.perf_counter() + seconds
    warm_until = time.perf_counter() + job.get("warmup", 1.0)

    async def worker() -> None:
        conn = Connection(port)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                status, _ = await conn.request("GET", path)
            except Exception as error:
                if t0 >= warm_until:
                    rec.error("request", repr(error)[:200])
                await asyncio.sleep(0.01)
                continue
            if t0 < warm_until:
                continue
            if status == 200:
                rec.ok("request", time.perf_counter() - t0)
            else:
                rec.error("request", f"HTTP {status}")
        conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    out = rec.as_json()
    out["seconds"] = seconds - job.get("warmup", 1.0)
    return out


# ---------------------------------------------------------------------------------------------
# Kiosks checking in flat out, alone


async def kiosks(job: dict[str, Any]) -> dict[str, Any]:
    """``concurrency`` kiosk connections checking in at one branch, each as soon as answered."""
    port, slug, service_ids = job["port"], job["branch_slug"], job["service_ids"]
    rec = Recorder()
    warmup = job.get("warmup", 1.0)
    warm_until = time.perf_counter() + warmup
    deadline = time.perf_counter() + job["seconds"]

    async def kiosk(index: int) -> None:
        conn = Connection(port)
        n = index
        while time.perf_counter() < deadline:
            body = json.dumps({"service_id": service_ids[n % len(service_ids)]}).encode()
            n += 1
            kind = "check-in" if time.perf_counter() >= warm_until else "warm-up"
            await timed(
                rec,
                conn,
                kind,
                "POST",
                f"/api/queueing/branches/{slug}/check-ins",
                token=job["kiosk_token"],
                body=body,
                ok=(201,),
            )
        conn.close()

    await asyncio.gather(*(kiosk(i) for i in range(job["concurrency"])))
    rec.latencies.pop("warm-up", None)
    out = rec.as_json()
    out["seconds"] = job["seconds"] - warmup
    return out


# ---------------------------------------------------------------------------------------------
# Counters calling flat out


async def _feed_queue(job: dict[str, Any], state: dict[str, int], stop_at: list[float]) -> None:
    """Keep ``low_water``..``low_water + batch`` tickets waiting with plain SQL inserts.

    Setup, not measured: it isolates the counters' requests from check-ins, whose own throughput
    the kiosk phase measures. One multi-row INSERT per batch.
    """
    import datetime as dt

    import psycopg

    feed = job["feeder"]
    low, batch = feed["low_water"], feed["batch"]
    sql = (
        "INSERT INTO queueing_visit (public_id, branch_id, service_id, business_date, ticket_number,"
        " ticket_code, status, channel, priority_reason, customer_name, customer_phone, language,"
        " arrived_at, queued_at, recall_count, outcome, note)"
        " SELECT gen_random_uuid(), %(branch)s, (%(services)s::bigint[])[1 + (%(start)s + g) %% %(n)s],"
        " %(day)s, %(start)s + g, 'F-' || (%(start)s + g), 'waiting', 'kiosk', '', '', '', 'en',"
        " %(now)s, %(now)s, 0, '', '' FROM generate_series(1, %(batch)s) g"
    )
    async with await psycopg.AsyncConnection.connect(feed["database_url"], autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT coalesce(max(ticket_number), 0) FROM queueing_visit"
            " WHERE branch_id = %s AND business_date = %s",
            [feed["branch_id"], dt.datetime.now(dt.UTC).date()],
        )
        row = await cur.fetchone()
        number = int(row[0]) if row else 0
        bound = time.perf_counter() + job["seconds"] + 120
        while time.perf_counter() < min(stop_at[0], bound):
            if state["issued"] - state["called"] < low:
                now = dt.datetime.now(dt.UTC)
                await conn.execute(
                    sql,
                    {
                        "branch": feed["branch_id"],
                        "services": job["service_ids"],
                        "n": len(job["service_ids"]),
                        "start": number,
                        "day": now.date(),
                        "now": now,
                        "batch": batch,
                    },
                )
                number += batch
                state["issued"] += batch
            await asyncio.sleep(0.01)


async def counters(job: dict[str, Any]) -> dict[str, Any]:
    """32 counters calling flat out, the queue kept filled by the SQL feeder (``_feed_queue``).

    ``mode`` "two-requests": call-next, then no-show of that visit (two requests per customer);
    "one-press": end-and-call-next with ``end_as: no_show`` (one request per customer).
    """
    port, seconds = job["port"], job["seconds"]
    one_press = job.get("mode", "two-requests") == "one-press"
    rec = Recorder()
    state = {"issued": 0, "called": 0}
    prefill = job.get("prefill", 200)
    measuring = asyncio.Event()
    stop_at = [float("inf")]

    async def call(conn: Connection, counter_id: int, token: str) -> int | None:
        kind = "call-next" if not one_press else "first call-next"
        result = await timed(
            rec, conn, kind, "POST", f"/api/queueing/counters/{counter_id}/call-next", token=token
        )
        if result is None or result[0] != 200:
            return None
        state["called"] += 1
        return int(_ID.search(result[1]).group(1))  # type: ignore[union-attr]

    async def counter(counter_id: int, token: str) -> None:
        conn = Connection(port)
        await measuring.wait()
        visit_id: int | None = None
        path = f"/api/queueing/counters/{counter_id}/end-and-call-next"
        while time.perf_counter() < stop_at[0]:
            if visit_id is None:
                visit_id = await call(conn, counter_id, token)
                if visit_id is None:
                    await asyncio.sleep(0.01)
                continue
            if not one_press:
                await timed(
                    rec, conn, "no-show", "POST", f"/api/queueing/visits/{visit_id}/no-show", token=token
                )
                visit_id = None
                continue
            body = b'{"visit_id": %d, "end_as": "no_show"}' % visit_id
            result = await timed(rec, conn, "end-and-call-next", "POST", path, token=token, body=body)
            visit_id = None
            if result is None or result[0] != 200:
                await asyncio.sleep(0.01)
                continue
            called = _CALLED_ID.search(result[1])
            if called is None:
                rec.errors["end-and-call-next answer"] += 1
                await asyncio.sleep(0.01)
                continue
            if called.group(1) is None:
                rec.other["end-and-call-next queue empty"] += 1
                await asyncio.sleep(0.01)
                continue
            state["called"] += 1
            visit_id = int(called.group(1))
        if visit_id is not None:  # free the counter for the next phase (not measured)
            with contextlib.suppress(Exception):
                await conn.request("POST", f"/api/queueing/visits/{visit_id}/no-show", token, None)
        conn.close()

    tasks = [asyncio.create_task(_feed_queue(job, state, stop_at))]
    tasks += [asyncio.create_task(counter(cid, tok)) for cid, tok in job["counters"]]
    fill_deadline = time.perf_counter() + 120
    while state["issued"] < prefill and time.perf_counter() < fill_deadline:
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    stop_at[0] = started + seconds
    measuring.set()
    await asyncio.gather(*tasks)
    rec.latencies.pop("first call-next", None)
    out = rec.as_json()
    out["seconds"] = seconds
    out["other"]["backlog at end"] = state["issued"] - state["called"]
    return out


# ---------------------------------------------------------------------------------------------
# Open loop: check-ins and calls at fixed rates over many branches, each followed by ticket GETs


class Pool:
    """Idle keep-alive connections; a new one is opened when none is idle (up to ``limit``)."""

    def __init__(self, port: int, limit: int) -> None:
        self.port, self.limit = port, limit
        self.idle: list[Connection] = []
        self.count = 0
        self.available = asyncio.Condition()
        self.peak = 0

    async def get(self) -> Connection:
        async with self.available:
            while not self.idle and self.count >= self.limit:
                await self.available.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
            self.peak = max(self.peak, self.count)
            return Connection(self.port)

    async def put(self, conn: Connection) -> None:
        async with self.available:
            self.idle.append(conn)
            self.available.notify()


async def mix(job: dict[str, Any]) -> dict[str, Any]:
    port, seconds = job["port"], job["seconds"]
    branches: list[dict[str, Any]] = job["branches"]  # slug, kiosk_token, counters: [[id, token]]
    service_ids = job["service_ids"]
    rec = Recorder()
    pool = Pool(port, job.get("max_connections", 256))

    # Prefill (not measured): a few waiting tickets per branch so calls find someone.
    async def prefill_branch(branch: dict[str, Any]) -> None:
        conn = await pool.get()
        for i in range(job.get("prefill_per_branch", 6)):
            body = json.dumps({"service_id": service_ids[i % len(service_ids)]}).encode()
            await timed(
                rec,
                conn,
                "prefill",
                "POST",
                f"/api/queueing/branches/{branch['slug']}/check-ins",
                token=branch["kiosk_token"],
                body=body,
            )
        await pool.put(conn)

    for first in range(0, len(branches), 16):
        await asyncio.gather(*(prefill_branch(b) for b in branches[first : first + 16]))

    # Counters in an order that visits every branch before any branch twice.
    order = [
        (b, c)
        for c in range(max(len(b["counters"]) for b in branches))
        for b in branches
        if c < len(b["counters"])
    ]
    busy: set[int] = set()

    async def check_in(i: int, when: float) -> None:
        branch = branches[i % len(branches)]
        body = json.dumps({"service_id": service_ids[(i // len(branches)) % len(service_ids)]}).encode()
        conn = await pool.get()
        result = await timed(
            rec,
            conn,
            "check-in",
            "POST",
            f"/api/queueing/branches/{branch['slug']}/check-ins",
            token=branch["kiosk_token"],
            body=body,
            since=when,
        )
        if result and result[0] == 201:
            match = _UUID.search(result[1])
            if match:
                await timed(rec, conn, "ticket page", "GET", f"/api/public/tickets/{match.group(1).decode()}")
        await pool.put(conn)

    async def call(j: int, when: float) -> None:
        for k in range(len(order)):
            branch, c = order[(j + k) % len(order)]
            counter_id, token = branch["counters"][c]
            if counter_id not in busy:
                break
        else:
            rec.other["no idle counter"] += 1
            return
        busy.add(counter_id)
        conn = await pool.get()
        try:
            result = await timed(
                rec,
                conn,
                "call-next",
                "POST",
                f"/api/queueing/counters/{counter_id}/call-next",
                token=token,
                since=when,
            )
            if result and result[0] == 200:
                visit_id = int(_ID.search(result[1]).group(1))  # type: ignore[union-attr]
                match = _UUID.search(result[1])
                if match:
                    await timed(
                        rec, conn, "ticket page", "GET", f"/api/public/tickets/{match.group(1).decode()}"
                    )
                await timed(
                    rec, conn, "no-show", "POST", f"/api/queueing/visits/{visit_id}/no-show", token=token
                )
        finally:
            busy.discard(counter_id)
            await pool.put(conn)

    rate_in, rate_call = job["check_ins_per_second"], job["calls_per_second"]
    events: list[tuple[float, str, int]] = []
    events += [(i / rate_in, "in", i) for i in range(int(seconds * rate_in))]
    events += [((j + 0.5) / rate_call, "call", j) for j in range(int(seconds * rate_call))]
    events.sort()
    tasks: list[asyncio.Task[None]] = []
    lag: list[float] = []
    start = time.perf_counter() + 0.2
    for offset, kind, n in events:
        when = start + offset
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, time.perf_counter() - when))
        tasks.append(asyncio.create_task(check_in(n, when) if kind == "in" else call(n, when)))
    _done, pending = await asyncio.wait(tasks, timeout=15)
    for task in pending:
        task.cancel()
        rec.error("unfinished", "still running 15 s after the last scheduled event")
    out = rec.as_json()
    out["seconds"] = seconds
    out["other"]["peak connections"] = pool.peak
    lag.sort()
    out["other"]["scheduler lag p99 ms"] = round(1000 * lag[int(0.99 * (len(lag) - 1))], 1) if lag else 0
    return out


async def main_async(job: dict[str, Any]) -> dict[str, Any]:
    kind = job["kind"]
    if kind == "closed":
        return await closed_loop(job)
    if kind == "kiosks":
        return await kiosks(job)
    if kind == "counters":
        return await counters(job)
    if kind == "mix":
        return await mix(job)
    raise ValueError(kind)


def main() -> None:
    job = json.loads(sys.stdin.read())
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    result = runner(main_async(job))
    # Into a file, not stdout: the event loop may leave the stdout pipe non-blocking, and a large
    # write to a full non-blocking pipe is cut short.
    with open(job["out"], "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
