"""The display-board side of ``bench.boards``: one asyncio process holding every websocket client.

``python -m bench.boards_client`` reads a JSON job on stdin's first line:

* ``{"mode": "boards", "port": P, "boards": [[slug, count], ...], "count_types": [...], "max_seconds": S}``
  connects
  ``count`` websocket clients (the ``websockets`` library) to ``/ws/branches/<slug>/`` on
  127.0.0.1:P, prints ``READY`` when all are connected, records every frame's arrival time minus
  its ``published_at`` (frames of the counted types, each event once per board; repeats are
  counted as duplicates) until a ``STOP`` line arrives (or S seconds pass), then prints one JSON
  line with the latencies and counts.
* ``{"mode": "redis", "url": ..., "channel": ..., "max_seconds": S}``: the reference, one
  redis-py pub/sub subscriber doing the same with raw Redis messages.

It shares the 2 cores with the servers, so its own CPU time is reported too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from typing import Any


async def _stdin_line() -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, sys.stdin.readline)


def _emit(data: Any) -> None:
    sys.stdout.write((data if isinstance(data, str) else json.dumps(data)) + "\n")
    sys.stdout.flush()


async def boards(job: dict[str, Any]) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    port = job["port"]
    latencies: list[float] = []
    per_board: list[list[Any]] = []  # [slug, frames] per board
    hello = 0
    failures: list[str] = []
    closed_early = 0
    duplicates = 0
    types: Counter[str] = Counter()
    counted = set(job["count_types"])
    stop = asyncio.Event()
    connected = 0
    all_connected = asyncio.Event()
    total = sum(count for _slug, count in job["boards"])
    gate = asyncio.Semaphore(50)  # connect 50 at a time, as boards come up over time

    async def board(slug: str, index: int) -> None:
        nonlocal hello, connected, closed_early, duplicates
        frames = 0
        seen: set[tuple[str, Any]] = set()
        url = f"ws://127.0.0.1:{port}/ws/branches/{slug}/"
        try:
            async with gate:
                ws = await asyncio.wait_for(
                    connect(
                        url,
                        origin=Origin(f"http://127.0.0.1:{port}"),
                        max_queue=None,
                        compression=None,
                        ping_interval=None,
                    ),
                    30,
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if first.get("type") == "hello":
                    hello += 1
        except Exception as error:
            failures.append(f"{slug}: {error!r}"[:200])
            connected += 1
            if connected == total:
                all_connected.set()
            per_board.append([slug, 0])
            return
        connected += 1
        if connected == total:
            all_connected.set()
        index_of = len(per_board)
        per_board.append([slug, 0])
        try:
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now = time.time()
                payload = json.loads(raw)
                kind = payload.get("type", "?")
                types[kind] += 1
                published = payload.get("published_at")
                if published is None or kind not in counted:
                    continue
                key = (kind, payload.get("visit_id"))
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                latencies.append(now - published)
                frames += 1
                per_board[index_of][1] = frames
        except Exception:
            closed_early += 1
        finally:
            await ws.close()
        del index

    tasks = [asyncio.create_task(board(slug, i)) for slug, count in job["boards"] for i in range(count)]
    try:
        await asyncio.wait_for(all_connected.wait(), job["max_seconds"])
    except TimeoutError:
        failures.append("not every board connected in time")
    _emit("READY")
    cpu0 = time.process_time()
    try:
        await asyncio.wait_for(_stdin_line(), job["max_seconds"])
    except TimeoutError:
        failures.append("no STOP within the time bound")
    stop.set()
    cpu = time.process_time() - cpu0
    await asyncio.wait(tasks, timeout=10)
    return {
        "latencies": latencies,
        "per_board": per_board,
        "hello": hello,
        "failures": failures[:10],
        "failure_count": len(failures),
        "closed_early": closed_early,
        "client_cpu_seconds": cpu,
        "duplicates": duplicates,
        "types": types,
    }


async def redis_reference(job: dict[str, Any]) -> dict[str, Any]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(job["url"])
    pubsub = client.pubsub()
    await pubsub.subscribe(job["channel"])
    await pubsub.get_message(timeout=5)  # the subscribe confirmation
    latencies: list[float] = []
    stop = asyncio.Event()

    async def listen() -> None:
        while not stop.is_set():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is None:
                continue
            now = time.time()
            latencies.append(now - json.loads(message["data"])["published_at"])

    task = asyncio.create_task(listen())
    _emit("READY")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_stdin_line(), job["max_seconds"])
    stop.set()
    await asyncio.wait([task], timeout=5)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await client.aclose()
    return {"latencies": latencies}


def main() -> None:
    job = json.loads(sys.stdin.readline())
    runner = boards if job["mode"] == "boards" else redis_reference
    result = asyncio.run(runner(job))
    os.set_blocking(sys.stdout.fileno(), True)  # a large line must not be cut short
    _emit(result)


if __name__ == "__main__":
    main()
