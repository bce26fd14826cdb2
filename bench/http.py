"""Benchmark 2: the queue through HTTP, with the server as a real process.

Two setups, each with 2 worker processes and REDIS_URL set (so calls publish to Redis as in
production):

(a) ASGI: ``python -m frontdesk serve --workers 2`` (uvicorn, ``frontdesk.config.asgi``);
(b) WSGI: ``granian --interface wsgi --workers 2 frontdesk.config.wsgi:application`` (websockets
    would stay on an ASGI process group beside it).

Against each, one load-generator process (``bench.loadgen``, asyncio) measures in turn: the
trivial endpoint (``/api/health``) and the one-read endpoint (``/api/health/database``) as the
reference; 32 kiosks checking in; 32 counters calling, each customer a no-show, once with one
request per customer (end-and-call-next) and once with two (call-next, then no-show), the queue
kept filled by plain SQL inserts; and a sustained open-loop mix equal to the peak of 1,000
branches x 10 counters (60 check-ins/s, 60 calls/s each followed by a no-show, one ticket-page GET
per check-in and per call) spread over 50 branches x 10 counters. The one-read and one-press
phases then run again, alternately (``RATIO_ROUNDS`` rounds in all), for the rate ratio.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import common
from .common import ms, num, say, summarise, table

HOT_COUNTERS = 32
MIX_BRANCHES = 50
MIX_COUNTERS = 10
# key -> (name, kind, extra environment): the shipped settings and entry points (PostgreSQL through
# Django's connection pool; the WSGI entry point serves static files with servestatic's WSGI
# wrapper instead of its async-only middleware). BENCH_HTTP_SETUPS (comma-separated keys) picks.
ALL_SETUPS: dict[str, tuple[str, str, dict[str, str]]] = {
    "asgi": ("ASGI uvicorn x2", "asgi", {}),
    "wsgi": ("WSGI granian x2", "wsgi", {}),
}
SETUPS = [key.strip() for key in os.environ.get("BENCH_HTTP_SETUPS", "asgi,wsgi").split(",")]
# Per worker; granian's default (256 for WSGI) opens more connections than PostgreSQL's default
# max_connections=100 allows.
GRANIAN_BLOCKING_THREADS = int(os.environ.get("BENCH_GRANIAN_THREADS", "4"))
GRANIAN_WORKERS = int(os.environ.get("BENCH_GRANIAN_WORKERS", "2"))
# The one-read and one-press phases are run this many times, alternately, for the rate ratio: this
# machine's speed drifts by 10-20 % within minutes (BENCHMARKS.md), and one phase after the other
# measured that drift as much as the code.
RATIO_ROUNDS = int(os.environ.get("BENCH_HTTP_RATIO_ROUNDS", "3"))


def _fixtures() -> dict[str, Any]:
    common.setup_django()
    hot = common.make_fixture(branches=1, counters_per_branch=HOT_COUNTERS, prefix="hot")
    many = common.make_fixture(branches=MIX_BRANCHES, counters_per_branch=MIX_COUNTERS, prefix="mix")
    staff = [
        s
        for b in [*hot.branches, *many.branches]
        for s in [b["reception_staff_id"], *(clerk for _point, clerk in b["counters"])]
    ]
    tokens = common.make_tokens(staff)

    def with_tokens(branch: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": branch["id"],
            "slug": branch["slug"],
            "kiosk_token": tokens[branch["reception_staff_id"]],
            "counters": [[point, tokens[clerk]] for point, clerk in branch["counters"]],
        }

    return {
        "branch_ids": [b["id"] for b in [*hot.branches, *many.branches]],
        "service_ids": hot.service_ids,
        "hot": with_tokens(hot.branches[0]),
        "mix": [with_tokens(b) for b in many.branches],
    }


def _clear_visits(branch_ids: list[int]) -> None:
    """Today's queue empty, the branches' past weeks in place (``common.load_history``)."""
    import psycopg

    with psycopg.connect(common.DATABASE_URL, autocommit=True) as conn:
        conn.execute("TRUNCATE queueing_visittransition, queueing_visit, queueing_ticketsequence")
    common.load_history(branch_ids)


class Server:
    """A server process group we started; stopped by its own process-group id."""

    def __init__(self, kind: str, port: int, env: dict[str, str]) -> None:
        self.kind, self.port = kind, port
        if kind == "asgi":
            argv = [common.PYTHON, "-m", "frontdesk", "serve", "--workers", "2", "--port", str(port)]
        else:
            granian = str(Path(common.PYTHON).with_name("granian"))
            argv = [
                granian,
                "--interface",
                "wsgi",
                "--workers",
                str(GRANIAN_WORKERS),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--blocking-threads",
                str(GRANIAN_BLOCKING_THREADS),
                "--log-level",
                "error",
                "--no-access-log",
                "frontdesk.config.wsgi:application",
            ]
        self.log = open(f"/tmp/frontdesk-bench-{kind}-{port}.log", "w")  # noqa: S108, SIM115
        self.proc = subprocess.Popen(
            argv,
            env=common.bench_env(**env),
            cwd=common.REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.argv = argv
        self.env = env

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log.name}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/api/health/database", timeout=2
                ) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()


class ConnectionWatch:
    """Samples how many PostgreSQL connections the bench database has (server side)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(common.DATABASE_URL, autocommit=True) as conn:
            while not self._stop.wait(1.0):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [common.PG_DB]
                ).fetchone()
                self.peak = max(self.peak, (row[0] if row else 0) - 1)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _loadgen(job: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(prefix="frontdesk-loadgen-", suffix=".json", delete=False) as handle:
        out_path = Path(handle.name)
    job = {**job, "out": str(out_path)}
    proc = subprocess.run(
        [common.PYTHON, "-m", "bench.loadgen"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=common.bench_env(),
        cwd=common.REPO,
        timeout=job.get("seconds", 10) + 240,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed: {proc.stderr[-2000:]}")
    try:
        result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
        return result
    finally:
        out_path.unlink(missing_ok=True)


def _rate(result: dict[str, Any], kind: str) -> float:
    return len(result["latencies"].get(kind, [])) / float(result["seconds"])


def ratio_rounds(result: dict[str, Any]) -> tuple[list[tuple[float, float]], float]:
    """Each round's one-read and one-press rates, and the median of the rounds' press/read ratios.

    The first round is the table's own phases (the kiosks run between them), each later round a
    one-read phase and the one-press phase right after it. The goal is held to the median.
    """
    rates = [(_rate(read, "request"), _rate(press, "end-and-call-next")) for read, press in result["rounds"]]
    ratios = sorted(press / read if read else 0.0 for read, press in rates)
    return rates, statistics.median(ratios)


def _rows(label: str, result: dict[str, Any], kinds: list[str]) -> list[list[str]]:
    rows = []
    for kind in kinds:
        values = result["latencies"].get(kind, [])
        s = summarise(values)
        rows.append(
            [
                f"{label}: {kind}" if label else kind,
                num(s.count),
                num(s.count / result["seconds"]),
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max),
                str(result["errors"].get(kind, 0)),
            ]
        )
    return rows


def run_setup(
    name: str, kind: str, env: dict[str, str], port: int, fixtures: dict[str, Any], quick: bool
) -> dict[str, Any]:
    _clear_visits(fixtures["branch_ids"])
    server = Server(kind, port, env)
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(server.argv))
    out: dict[str, Any] = {
        "name": name,
        "command": " ".join([*(f"{k}={v}" for k, v in env.items()), command]),
    }
    try:
        server.wait_ready()
        short = 6 if quick else 8
        one_read = {
            "kind": "closed",
            "port": port,
            "path": "/api/health/database",
            "concurrency": HOT_COUNTERS,
            "seconds": short,
            "warmup": 2,
        }

        def counters(mode: str) -> dict[str, Any]:
            return {
                "kind": "counters",
                "mode": mode,
                "port": port,
                "seconds": short,
                "service_ids": fixtures["service_ids"],
                "counters": fixtures["hot"]["counters"],
                "feeder": {
                    "database_url": common.DATABASE_URL,
                    "branch_id": fixtures["hot"]["id"],
                    "low_water": 200,
                    "batch": 100,
                },
                "prefill": 200,
            }

        with ConnectionWatch() as watch:
            say(f"http {name}: /api/health")
            out["health"] = _loadgen(
                {
                    "kind": "closed",
                    "port": port,
                    "path": "/api/health",
                    "concurrency": HOT_COUNTERS,
                    "seconds": short,
                    "warmup": 2,
                }
            )
            say(f"http {name}: /api/health/database")
            out["database"] = _loadgen(one_read)
            say(f"http {name}: 32 kiosks checking in")
            kiosk_branch = fixtures["mix"][0]  # its queue is emptied before the mix
            out["kiosks"] = _loadgen(
                {
                    "kind": "kiosks",
                    "port": port,
                    "concurrency": HOT_COUNTERS,
                    "seconds": short,
                    "warmup": 2,
                    "branch_slug": kiosk_branch["slug"],
                    "service_ids": fixtures["service_ids"],
                    "kiosk_token": kiosk_branch["kiosk_token"],
                }
            )
            for mode in ("one-press", "two-requests"):
                say(f"http {name}: 32 counters calling ({mode})")
                out[mode] = _loadgen(counters(mode))
            # The rate ratio again, in rounds that alternate the two phases (see ratio_rounds).
            out["rounds"] = [(out["database"], out["one-press"])]
            for round_number in range(2, RATIO_ROUNDS + 1):
                say(f"http {name}: ratio round {round_number} of {RATIO_ROUNDS}")
                read = _loadgen(one_read)
                out["rounds"].append((read, _loadgen(counters("one-press"))))
            out["connections_closed"] = watch.peak
        _clear_visits(fixtures["branch_ids"])
        with ConnectionWatch() as watch:
            say(f"http {name}: sustained open-loop mix")
            out["mix"] = _loadgen(
                {
                    "kind": "mix",
                    "port": port,
                    "seconds": 30 if quick else 60,
                    "branches": fixtures["mix"],
                    "service_ids": fixtures["service_ids"],
                    "check_ins_per_second": 60,
                    "calls_per_second": 60,
                    "prefill_per_branch": 6,
                    "max_connections": 256,
                }
            )
            out["connections_mix"] = watch.peak
        if server.proc.poll() is not None:
            out["server_note"] = "server exited during the run"
    finally:
        server.stop()
    return out


def run(quick: bool = False) -> str:
    common.prepare_database()
    common.reset_tables()
    common.flush_redis()
    say("http: fixtures")
    fixtures = _fixtures()
    from django.db import connections

    connections.close_all()
    common.analyze()
    background = common.background_load()
    results = []
    for i, key in enumerate(SETUPS):
        name, kind, env = ALL_SETUPS[key]
        results.append(run_setup(name, kind, env, 8300 + i, fixtures, quick))
    return report(results, background)


def report(results: list[dict[str, Any]], background: str) -> str:
    headers = ["endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"]
    sections = []
    verdicts = [
        "Goals (calls >= 1/4 of the one-read rate, call-next and check-in p99 < 150 ms; sustained mix "
        "p99 < 150 ms, 0 errors)"
    ]
    for r in results:
        rows = _rows("", r["health"], ["request"])
        rows[0][0] = "GET /api/health (trivial)"
        db = _rows("", r["database"], ["request"])
        db[0][0] = "GET /api/health/database (one read)"
        rows += db
        rows += _rows("32 kiosks", r["kiosks"], ["check-in"])
        one, two = r["one-press"], r["two-requests"]
        rows += _rows("32 counters, one press", one, ["end-and-call-next"])
        rows += _rows("32 counters, two requests", two, ["call-next", "no-show"])
        notes = [
            f"server: {r['command']}",
            "closed loop, 32 connections per phase, each phase alone; counters: the queue is kept at "
            "200-300 waiting tickets by SQL inserts (setup, not measured); one press = "
            "end-and-call-next (no-show the current visit, call the next); two requests = call-next, "
            "then no-show",
            f"queue-empty answers: one press {one['other'].get('end-and-call-next queue empty', 0)}, "
            f"two requests {two['other'].get('call-next queue empty', 0)}; "
            f"peak PostgreSQL connections {r['connections_closed']}",
        ]
        sections.append(table(f"HTTP, {r['name']}: closed loop", headers, rows, notes))
        mix = r["mix"]
        mix_kinds = ["check-in", "call-next", "no-show", "ticket page"]
        mix_rows = _rows("", mix, mix_kinds)
        everything = [v for k in mix_kinds for v in mix["latencies"].get(k, [])]
        s = summarise(everything)
        errors = sum(v for k, v in mix["errors"].items() if k != "prefill")
        errors += mix["other"].get("no idle counter", 0)  # a scheduled call that could not be made
        mix_rows.append(
            [
                "all requests",
                num(s.count),
                num(s.count / mix["seconds"]),
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max),
                str(errors),
            ]
        )
        mo = mix["other"]
        mix_notes = [
            f"open loop for {mix['seconds']} s: 60 check-ins/s + 60 calls/s over {MIX_BRANCHES} branches x "
            f"{MIX_COUNTERS} counters; latency of the first request of each chain counts from its scheduled "
            "time",
            f"queue-empty answers {mo.get('call-next queue empty', 0)}; "
            f"calls dropped, every counter still busy (counted as errors) {mo.get('no idle counter', 0)}; "
            f"peak client connections {mo.get('peak connections')}; generator lag p99 "
            f"{mo.get('scheduler lag p99 ms')} ms; peak PostgreSQL connections {r['connections_mix']}",
        ]
        samples = [
            *r["health"]["error_samples"],
            *r["database"]["error_samples"],
            *r["kiosks"]["error_samples"],
            *one["error_samples"],
            *two["error_samples"],
            *(e for pair in r["rounds"][1:] for x in pair for e in x["error_samples"]),
            *mix["error_samples"],
        ]
        mix_notes += [f"  error sample: {e}" for e in samples[:5]]
        if r.get("server_note"):
            mix_notes.append(r["server_note"])
        sections.append(
            table(
                f"HTTP, {r['name']}: sustained mix (peak of 1,000 branches x 10 counters)",
                headers,
                mix_rows,
                mix_notes,
            )
        )
        one_read = _rate(r["database"], "request")
        closed_errors = sum(sum(x["errors"].values()) for x in (r["kiosks"], one, two))
        closed_errors += sum(sum(x["errors"].values()) for pair in r["rounds"][1:] for x in pair)
        rates, median_ratio = ratio_rounds(r)
        press_p99 = summarise(one["latencies"].get("end-and-call-next", [])).p99
        two_calls = two["latencies"].get("call-next", [])
        two_ratio = _rate(two, "call-next") / one_read if one_read else 0.0
        parts = [
            f"one press: {len(rates)} alternated rounds, calls/s / one-read/s = "
            + ", ".join(f"{press:,.0f} / {read:,.0f} = {press / read:.3f}" for read, press in rates)
            + f"; median {median_ratio:.3f} ({'met' if median_ratio >= 0.25 else 'NOT MET'}), "
            f"p99 {ms(press_p99)} ms ({'met' if press_p99 < 0.150 else 'NOT MET'})",
            f"two requests: {_rate(two, 'call-next'):,.0f} calls/s = {two_ratio:.2f} of one-read "
            f"{one_read:,.0f}/s, p99 {ms(summarise(two_calls).p99)} ms "
            f"({'met' if summarise(two_calls).p99 < 0.150 else 'NOT MET'})",
        ]
        check_in_p99 = summarise(r["kiosks"]["latencies"].get("check-in", [])).p99
        verdicts.append(
            f"  {r['name']}: " + "; ".join(parts) + f"; check-in p99 {ms(check_in_p99)} ms "
            f"({'met' if check_in_p99 < 0.150 else 'NOT MET'}); closed-loop errors {closed_errors}; "
            f"sustained mix p99 {ms(s.p99)} ms, {errors} errors -> "
            f"{'met' if s.p99 < 0.150 and errors == 0 else 'NOT MET'}"
        )
    return "\n\n".join([*sections, "\n".join([*verdicts, background])])
