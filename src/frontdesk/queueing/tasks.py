"""Background entry points of the walk-in queue: thin callers of ``estimates`` and ``services``."""

from typing import Any

from django.tasks import task

from . import estimates


@task
def refit_wait_estimators(weeks: int = estimates.DEFAULT_WEEKS) -> list[dict[str, Any]]:
    """Refit the waiting-time estimator of every active branch, then the network-wide fallback.

    Runs once a night on the last ``weeks`` of visits, in the task worker (``frontdesk worker``), which
    enqueues it at 02:30 (the ``PERIODIC_JOBS`` setting, ``frontdesk.core.schedule``); the demo runs it
    once after loading its history. A branch with too little history keeps its previous fit (else the
    network-wide one, else the simple estimate). Returns one JSON-ready line per fit.
    """
    return [result.as_dict() for result in estimates.refit_wait_estimators(weeks=weeks)]
