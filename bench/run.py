"""``python -m bench.run``: run the benchmarks and print their tables, each beside its reference.

    python -m bench.run                        # everything (about 11 minutes on a quiet 2-core machine)
    python -m bench.run --only callnext        # one benchmark: callnext, http, boards or planning
    python -m bench.run --only http --quick    # a shorter run of it

Progress goes to stderr; the tables go to stdout. Needs PostgreSQL and Redis on loopback
(``BENCH_PG_SERVER``, ``BENCH_PG_DB``, ``BENCH_REDIS_URL`` override the defaults).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from . import common

BENCHMARKS = ("callnext", "http", "boards", "planning")


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run only this benchmark (may be repeated)"
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer operations")
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    print(_machine())
    print(f"mode: {'quick' if args.quick else 'full'}; started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(flush=True)
    started = time.monotonic()
    for name in chosen:
        began = time.monotonic()
        common.say(f"{name}: starting")
        if name == "callnext":
            from . import callnext

            output = callnext.run(quick=args.quick)
        elif name == "http":
            from . import http

            output = http.run(quick=args.quick)
        elif name == "boards":
            from . import boards

            output = boards.run(quick=args.quick)
        else:
            from . import planning

            output = planning.run(quick=args.quick)
        print(output)
        print(f"({name} took {time.monotonic() - began:.0f} s)")
        print(flush=True)
    print(f"total: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
