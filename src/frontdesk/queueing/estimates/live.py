"""Estimates for waiting tickets: the latest stored fit (cached a minute) applied to the live snapshot."""

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from django.db.models import F, Q

from frontdesk.science.estimator import Estimate, EstimatorModel, WaitingTimeEstimator

from ..models import Visit, VisitStatus, WaitEstimatorModel
from .event_log import pool_of, queue_name
from .snapshot import live_snapshot

logger = logging.getLogger(__name__)

#: How long a loaded model is reused before the database is asked again for the latest fit.
MODEL_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class LoadedModel:
    """A stored fit, parsed and ready: the estimator and where it came from."""

    record_id: int
    branch_id: int | None  # None: fitted on every branch
    estimator: WaitingTimeEstimator

    def knows(self, queue: str) -> bool:
        """Whether the fit saw this queue's customers served after waiting (else it would only guess)."""
        model = self.estimator.model
        return pool_of(queue) in model.service_by_pool and queue in model.mean_wait


_cache: dict[int, tuple[float, LoadedModel | None]] = {}
_cache_lock = threading.Lock()


def clear_model_cache() -> None:
    """Forget the models loaded by this process (after a new fit; between tests)."""
    with _cache_lock:
        _cache.clear()


def model_for_branch(branch_id: int) -> LoadedModel | None:
    """The latest fit for the branch, else the latest network-wide one; reused for a minute."""
    moment = time.time()  # the wall clock, so tests can travel
    with _cache_lock:
        cached = _cache.get(branch_id)
    if cached is not None and moment - cached[0] < MODEL_CACHE_SECONDS:
        return cached[1]
    record = (
        WaitEstimatorModel.objects.filter(Q(branch_id=branch_id) | Q(branch__isnull=True))
        .order_by(F("branch_id").asc(nulls_last=True), "-fitted_at", "-id")
        .only("pk", "branch_id", "parameters")
        .first()
    )
    loaded = None
    if record is not None:
        try:
            loaded = LoadedModel(
                record.pk, record.branch_id, WaitingTimeEstimator(EstimatorModel.from_dict(record.parameters))
            )
        except (KeyError, TypeError, ValueError):
            logger.exception("wait estimator model %s cannot be read; using the simple estimate", record.pk)
    with _cache_lock:
        _cache[branch_id] = (moment, loaded)
    return loaded


def estimate_for(visit: Visit, *, now: dt.datetime | None = None) -> Estimate | None:
    """The estimator's remaining wait for a waiting visit, or None when it cannot make one.

    None when the visit is not waiting, when no model was fitted yet (the estimator cannot run without a
    fit: it needs at least 50 past waits) or when the fit never saw the visit's service served after a
    wait. The caller then falls back to the simple estimate (position × mean service time ÷ counters open).
    """
    if visit.status != VisitStatus.WAITING:
        return None
    loaded = model_for_branch(visit.branch_id)
    if loaded is None or not loaded.knows(queue_name(visit.service_id)):
        return None
    return loaded.estimator.estimate(live_snapshot(visit, now))
