"""The arithmetic behind ``frontdesk erlang``: one plain dict, no printing, no Django.

Keeping the command a thin wrapper means the numbers a branch manager sees on the command line are
exactly the ones the tests check.
"""

import math

from frontdesk.science.erlang import agents_needed, erlang_a, erlang_c

__all__ = ["DEFAULT_SERVICE_LEVEL", "run_erlang"]

DEFAULT_SERVICE_LEVEL = 0.8


def _finite_or_none(value: float) -> float | None:
    """JSON has no infinity: an unbounded wait is reported as None (with ``stable`` False)."""
    return value if math.isfinite(value) else None


def run_erlang(
    arrivals_per_hour: float,
    service_minutes: float,
    agents: int | None = None,
    target_seconds: float = 600.0,
    patience_minutes: float | None = None,
    service_level: float | None = None,
) -> dict[str, object]:
    """Erlang C (or Erlang A with ``patience_minutes``) for the command line.

    With ``agents`` None the fewest agents meeting ``service_level`` (default 0.8) within
    ``target_seconds`` are chosen; with ``agents`` given they are evaluated and ``meets_service_level``
    says whether they reach the target. Invalid input raises ValueError with a message fit for the user.
    The returned dict is JSON-serialisable; times are in seconds.
    """
    if isinstance(service_minutes, bool) or not isinstance(service_minutes, int | float):
        raise ValueError(f"service_minutes must be a number, got {service_minutes!r}")
    if not math.isfinite(service_minutes) or service_minutes <= 0:
        raise ValueError(f"service_minutes must be a finite number > 0, got {service_minutes!r}")
    service_seconds = float(service_minutes) * 60.0
    patience_seconds: float | None = None
    if patience_minutes is not None:
        if isinstance(patience_minutes, bool) or not isinstance(patience_minutes, int | float):
            raise ValueError(f"patience_minutes must be a number, got {patience_minutes!r}")
        if not math.isfinite(patience_minutes) or patience_minutes <= 0:
            raise ValueError(f"patience_minutes must be a finite number > 0, got {patience_minutes!r}")
        patience_seconds = float(patience_minutes) * 60.0
    level = DEFAULT_SERVICE_LEVEL if service_level is None else service_level
    chosen = agents
    if chosen is None:
        chosen = agents_needed(
            arrivals_per_hour=arrivals_per_hour,
            service_seconds=service_seconds,
            target_seconds=target_seconds,
            service_level=level,
            patience_seconds=patience_seconds,
        )
    output: dict[str, object] = {
        "model": "erlang_c" if patience_seconds is None else "erlang_a",
        "arrivals_per_hour": float(arrivals_per_hour),
        "service_minutes": float(service_minutes),
        "target_seconds": float(target_seconds),
        "patience_minutes": None if patience_minutes is None else float(patience_minutes),
        "service_level_target": level,
    }
    if patience_seconds is None:
        c = erlang_c(
            arrivals_per_hour=arrivals_per_hour,
            service_seconds=service_seconds,
            agents=chosen,
            target_seconds=target_seconds,
        )
        output.update(
            traffic_erlangs=c.traffic_erlangs,
            agents=c.agents,
            stable=c.stable,
            probability_waiting=c.probability_waiting,
            service_level=c.service_level,
            average_wait_seconds=_finite_or_none(c.average_wait_seconds),
            occupancy=c.occupancy,
            abandonment_probability=0.0,
        )
    else:
        a = erlang_a(
            arrivals_per_hour=arrivals_per_hour,
            service_seconds=service_seconds,
            agents=chosen,
            target_seconds=target_seconds,
            patience_seconds=patience_seconds,
        )
        output.update(
            traffic_erlangs=a.traffic_erlangs,
            agents=a.agents,
            stable=True,
            probability_waiting=a.probability_waiting,
            service_level=a.service_level,
            average_wait_seconds=a.average_wait_seconds,
            occupancy=a.occupancy,
            abandonment_probability=a.probability_abandoning,
        )
    achieved = output["service_level"]
    output["meets_service_level"] = isinstance(achieved, float) and achieved >= level
    return output
