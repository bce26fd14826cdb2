"""The waiting-time estimator shown to customers: one estimator for the live queue and for the backtest.

The estimator turns a :class:`QueueSnapshot` (what is known about a queue at one moment: who is ahead of
the ticket, which counters are open and busy, what recently happened) into an :class:`Estimate`: the
expected remaining wait and a range meant to hold about 80% of real waits.

Its parameters, an :class:`EstimatorModel`, are learned from history by :func:`fit` (a periodic task on
the live side) and stored as a JSON-ready dict (:meth:`EstimatorModel.to_dict`). They are

* the service-time distribution (mean, coefficient of variation, count) per queue and hour, and per pool
  and hour (a *pool* is the group of queues that share counters);
* the abandonment rate of each pool (abandonments per second of waiting, the exponential-patience MLE);
* a ridge least-squares model of the wait on about twenty hand-made features of the snapshot (the
  queue-length predictor ``(n+1)·m/s`` with and without abandonment, the people ahead per queue and
  priority class, counters recently active and skilled, recent waits, head-of-line wait …);
* a calibration of the residuals per band of the prediction: the 10th and 90th percentiles give the
  range; the centre of the densest two-minute window pulls the announced figure half-way towards the
  most likely wait, trading a little squared error for many more estimates within ±60 s.

Hourly service means are shrunk towards the pool's mean as far as their sampling noise warrants. The
least-squares coefficients are shrunk towards "the queue-length predictor as it is", and the history
chooses how far: the first three quarters are fitted with several strengths, the last quarter picks the
strongest one that predicts it (almost) as well as the best. The same held-out quarter calibrates the
range, so it is measured out of sample; the final coefficients are then refitted on everything.

Events sharing a timestamp are ordered arrivals first (:class:`EventKind`), so the snapshot of an arrival
holds only what happened strictly before it.

Population: the model is fitted on customers who queued and were served after waiting. Whether a
customer is served is decided by the future (impatient customers leave), so this population is chosen
by an outcome unknown at the moment of the estimate; the backtest evaluates the same population.

Time: event times are seconds on the branch's wall clock (local time written as seconds since
1970-01-01, as ``calendar.timegm`` would give for the local date and time). Only differences, the hour of
the day and the weekday are used.

Pure Python, standard library only, no Django. The package's modules, each importable on its own:

``events``   the log: :class:`EventKind`, :class:`QueueEvent`, pools, wall-clock hour and weekday
``tracker``  :class:`QueueSnapshot` and the :class:`QueueStateTracker` that builds it from a log
``model``    :class:`EstimatorModel` (its JSON form), :func:`features` and :class:`WaitingTimeEstimator`
``fitting``  :func:`fit` and :func:`collect_training_rows`
"""

from .events import DAY, DEFAULT_HEAD_START, EventKind, QueueEvent, hour_and_weekday, pool_per_queue
from .fitting import TrainingRows, collect_training_rows, fit
from .model import (
    FEATURE_NAMES,
    MODEL_VERSION,
    Estimate,
    EstimatorModel,
    ServiceStats,
    WaitingTimeEstimator,
    features,
    queue_length_estimate,
)
from .tracker import FORGET_AFTER, RECENT_WAITS, RECENT_WINDOW, QueueSnapshot, QueueStateTracker

__all__ = [
    "DAY",
    "DEFAULT_HEAD_START",
    "FEATURE_NAMES",
    "FORGET_AFTER",
    "MODEL_VERSION",
    "RECENT_WAITS",
    "RECENT_WINDOW",
    "Estimate",
    "EstimatorModel",
    "EventKind",
    "QueueEvent",
    "QueueSnapshot",
    "QueueStateTracker",
    "ServiceStats",
    "TrainingRows",
    "WaitingTimeEstimator",
    "collect_training_rows",
    "features",
    "fit",
    "hour_and_weekday",
    "pool_per_queue",
    "queue_length_estimate",
]
