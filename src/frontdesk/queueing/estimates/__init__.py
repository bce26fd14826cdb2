"""Waiting-time estimates for live tickets, made by THE estimator of ``frontdesk.science.estimator``.

The live queue and the backtest use one estimator: the history in the database is turned into the
science event log (:func:`visit_events`), a model is fitted on it and stored
(:func:`fit_and_store_wait_estimator`, nightly), and a waiting ticket's estimate is that model applied to
a snapshot of the queue built from the current rows (:func:`live_snapshot`, :func:`estimate_for`).

How the database maps onto the event log (one queue per service, one pool per branch: see :func:`pool_of`):

* **arrive**: the check-in, at ``arrived_at``, in the service's queue. A visit that re-enters a queue
  (put back, or transferred) arrives again at that moment (its ``queued_at``) under a new key
  (``"<id>.2"``, ``"<id>.3"`` …), so each stay in a queue is one wait. The live queue keeps such a
  visit's original place (calling order by ``arrived_at``); the replay orders it by its re-entry, which only
  matters for the rare re-entered customer's own training row.
* **start**: the *call* (``call``, ``call out of order``; a recall changes nothing). The wait a customer is
  told about ends when their number is called, and from the call the counter is taken: the live snapshot
  counts a called visit as at a counter, not as waiting, and the replay must see the same. A visit with
  no recorded call (imported history) starts when its service started.
* **end**: finish, no-show, leaving after being called, or being put back/transferred away from a counter:
  the counter is free again. The server is the counter (``counter-<id>``; the staff member when the
  counter is unknown).
* **abandon**: leaving the queue while waiting. A transfer *while waiting* is logged as leaving the old
  queue and arriving in the new one; it counts as an abandonment in the fitted abandonment rate (rare).
* **priority**: 1 when the visit has a priority reason, else 0. The replay credits priority tickets with
  the branch's ``max_wait_minutes`` of waiting (``head_start``), which is the calling rule's "priority
  first, unless a regular ticket has waited that long" seen from the moment of arrival.

Times are seconds on the branch's wall clock, as the estimator expects (only differences, the hour and
the weekday are used; the night of a daylight-saving change is off by an hour, and branches are closed).

The estimate is the **remaining** wait from now: the snapshot is the queue as it is now, with the
ticket being estimated in its current place and the people still ahead of it, which is how the
estimator's tracker builds a snapshot for a ticket already waiting. The model was fitted on snapshots
taken at arrivals, so a ticket that has already waited is estimated as if it had just arrived with that
many people ahead: an approximation that ignores what its own wait so far says.

The package: ``event_log`` (the database as the event log), ``snapshot`` (the live queue as a
snapshot), ``live`` (stored fits applied to waiting tickets) and ``fitting`` (the nightly refit).
"""

from .event_log import (
    BRANCH_POOL,
    CALL_ACTIONS,
    COUNTER_ACTIVITY_ACTIONS,
    ENTRY_ACTIONS,
    WEEK,
    export_visit_log,
    head_start,
    pool_of,
    queue_name,
    visit_events,
    wall_clock_seconds,
)
from .fitting import DEFAULT_WEEKS, RefitResult, fit_and_store_wait_estimator, refit_wait_estimators
from .live import MODEL_CACHE_SECONDS, LoadedModel, clear_model_cache, estimate_for, model_for_branch
from .snapshot import RECENT_COUNTER_WINDOW, live_snapshot

__all__ = [
    "BRANCH_POOL",
    "CALL_ACTIONS",
    "COUNTER_ACTIVITY_ACTIONS",
    "DEFAULT_WEEKS",
    "ENTRY_ACTIONS",
    "MODEL_CACHE_SECONDS",
    "RECENT_COUNTER_WINDOW",
    "WEEK",
    "LoadedModel",
    "RefitResult",
    "clear_model_cache",
    "estimate_for",
    "export_visit_log",
    "fit_and_store_wait_estimator",
    "head_start",
    "live_snapshot",
    "model_for_branch",
    "pool_of",
    "queue_name",
    "refit_wait_estimators",
    "visit_events",
    "wall_clock_seconds",
]
