"""Run many clients at once, each in its own process, and collect what each did.

The clients run in ``_worker.py``: one Python process outside pytest that forks a child per job,
so they race between processes with their own database connections, exactly as server workers
or kiosks do, and release together from a barrier.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


class SwarmError(AssertionError):
    pass


def run_swarm(task: str, jobs: list[dict[str, Any]], *, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Run ``task`` once per job, each in its own process, all starting together; their results in order.

    The workers connect to the database this test runs on (pytest-django's test database), so
    the test must use ``transaction=True`` for them to see its rows and for it to see theirs.
    """
    spec = {
        "task": task,
        "database_name": str(connection.settings_dict["NAME"]),
        "jobs": jobs,
        "timeout": timeout,
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "frontdesk.config.settings.test", "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.concurrency._worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,  # its own process group: it and its children can be ended together
        )
        finished = False
        try:
            out, _ = process.communicate(json.dumps(spec) + "\n", timeout=timeout + 30)
            finished = process.returncode == 0
        finally:
            if not finished:
                # A timeout, a failure or an interrupt: end the workers too, not only the parent.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        lines = [line for line in out.splitlines() if line.strip()]
        answer = json.loads(lines[-1]) if lines else {"ok": False, "error": "no answer"}
        if not answer["ok"] or process.returncode != 0:
            log.seek(0)
            stderr = "\n".join(log.read().splitlines()[-30:])
            raise SwarmError(
                f"{task} workers failed (exit {process.returncode}):\n{answer['error']}\n{stderr}"
            )
    # Shown with ``pytest -s``: how long the clients took to get ready, and the race itself.
    print(
        f"[swarm {task}] {len(jobs)} processes ready in {answer['ready_seconds']:.1f}s, "
        f"raced {answer['race_seconds']:.1f}s, using {answer['cpu_seconds']:.1f}s of CPU"
    )
    return list(answer["results"])
