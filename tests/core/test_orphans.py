"""A helper process started with ``exit_when_orphaned`` ends when its parent dies, however it dies."""

import os
import subprocess
import sys
import textwrap
import time

CHILD = textwrap.dedent(
    """
    import time
    from frontdesk.core.orphans import exit_when_orphaned
    exit_when_orphaned(0.05)
    print("ready", flush=True)
    time.sleep(60)
    """
)

PARENT = textwrap.dedent(
    """
    import os, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    print(child.pid, flush=True)
    os._exit(0)  # no clean-up: as when a signal ends the demo
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that already exited but was not reaped by its new parent yet is a zombie: gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_child_stops_when_its_parent_is_killed_without_clean_up():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, CHILD], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    child_pid = int(parent.stdout.strip())
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "the child outlived its parent"


def test_the_child_keeps_running_while_its_parent_lives():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
