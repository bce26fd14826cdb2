"""Ending a helper process when the process that started it is gone, however that one ended.

``frontdesk demo`` starts the task worker beside the server. When the demo is stopped with a
signal, the server's signal handling ends the process without running its clean-up, and the
worker would carry on alone. The worker therefore watches its parent: once it has been handed to
another parent (its own has died), it sends itself SIGTERM and stops as it would on Ctrl-C.
"""

import os
import signal
import threading


def exit_when_orphaned(interval: float = 1.0) -> threading.Thread:
    """Start a daemon thread that sends this process SIGTERM once its parent process is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="frontdesk-parent-watch", daemon=True)
    thread.start()
    return thread
