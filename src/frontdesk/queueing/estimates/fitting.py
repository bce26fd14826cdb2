"""Fitting: learn the estimator from the recent event log and store it; the nightly refit of every branch."""

import datetime as dt
import logging
import statistics
from dataclasses import dataclass
from typing import Any

from frontdesk.branches.models import Branch
from frontdesk.core import clock
from frontdesk.core.errors import DomainError
from frontdesk.science.estimator import fit

from ..models import WaitEstimatorModel
from .event_log import WEEK, head_start, network_events, pool_of, visit_events
from .live import clear_model_cache

logger = logging.getLogger(__name__)

#: History a nightly fit learns from.
DEFAULT_WEEKS = 4


def fit_and_store_wait_estimator(
    *, branch: Branch | None, weeks: int = DEFAULT_WEEKS, now: dt.datetime | None = None
) -> WaitEstimatorModel:
    """Fit the estimator on the last ``weeks`` of visits and store it as the branch's latest model.

    ``branch=None`` fits one network-wide model on every active branch's history, used by branches
    without a fit of their own. Raises :class:`DomainError` when there is too little history (the
    estimator needs at least 50 customers served after waiting).
    """
    if weeks < 1:
        raise DomainError("Fit on at least one week of history.", field="weeks")
    until = now or clock.now()
    since = until - weeks * WEEK
    if branch is None:
        branches = list(Branch.objects.filter(is_active=True).order_by("pk"))
        events = network_events(branches, since, until)
        credit = statistics.median_low([b.max_wait_minutes for b in branches]) * 60.0 if branches else 0.0
        starts = {0: 0.0, 1: credit}
        where = "every branch"
    else:
        events = visit_events(branch, since, until)
        starts = head_start(branch)
        where = branch.name
    try:
        model = fit(events, pool_of=pool_of, head_start=starts)
    except ValueError as error:
        raise DomainError(f"Cannot fit the waiting-time estimator for {where}: {error}.") from error
    record = WaitEstimatorModel.objects.create(
        branch=branch,
        fitted_at=until,
        parameters=model.to_dict(),
        n_waits=model.trained_on,
        notes=(
            f"{where}: {weeks} week(s) of visits from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, "
            f"{len(events)} events, {model.trained_on} waits, shrinkage {model.shrinkage:g}"
        ),
    )
    clear_model_cache()
    return record


@dataclass(frozen=True)
class RefitResult:
    """One branch's (or the network's) nightly fit: the stored model, or why there is none."""

    branch: str  # slug, or "" for the network-wide model
    model: WaitEstimatorModel | None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a task's return value, ``--json``)."""
        return {
            "branch": self.branch or None,
            "model_id": self.model.pk if self.model else None,
            "n_waits": self.model.n_waits if self.model else 0,
            "error": self.error,
        }


def refit_wait_estimators(*, weeks: int = DEFAULT_WEEKS) -> list[RefitResult]:
    """Fit every active branch, then the network-wide fallback; a branch with too little history is skipped.

    Run nightly by the task ``queueing.tasks.refit_wait_estimators`` (and ``frontdesk fit_wait_estimator``).
    """
    now = clock.now()
    results = []
    for branch in [*Branch.objects.filter(is_active=True).order_by("slug"), None]:
        slug = "" if branch is None else branch.slug
        try:
            results.append(
                RefitResult(slug, fit_and_store_wait_estimator(branch=branch, weeks=weeks, now=now))
            )
        except DomainError as error:
            logger.info("wait estimator not refitted: %s", error.message)
            results.append(RefitResult(slug, None, error.message))
    return results
