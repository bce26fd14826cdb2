"""How good the forecast is: fitted before the last two weeks, scored on them beside a naive baseline."""

import datetime as dt

from frontdesk.science.forecast import (
    ArrivalHistory,
    fit_forecast,
    forecast,
    forecast_error,
    same_weekday_baseline,
)

from .plan import ForecastAccuracy

HELD_OUT_DAYS = 14


def _branch_total(counts: dict[str, dict[dt.date, list[float]]]) -> dict[str, dict[dt.date, list[float]]]:
    """All services' arrivals summed into one queue per day and half hour."""
    total: dict[dt.date, list[float]] = {}
    for rows in counts.values():
        for day, row in rows.items():
            current = total.setdefault(day, [0.0] * len(row))
            for k, value in enumerate(row):
                current[k] += value
    return {"branch": total}


def forecast_accuracy(history: ArrivalHistory, today: dt.date, notes: list[str]) -> ForecastAccuracy | None:
    """Fit on the history before the last ``HELD_OUT_DAYS`` days, score those days."""
    origin = today - dt.timedelta(days=HELD_OUT_DAYS)
    past = history.before(origin)
    if len(past.days) < 7 or not past.counts:
        notes.append(
            f"Forecast accuracy needs at least {HELD_OUT_DAYS // 7 + 1} weeks of history; "
            "it is shown once the branch has them."
        )
        return None
    days = [origin + dt.timedelta(days=n) for n in range(HELD_OUT_DAYS)]
    try:
        ours = forecast(fit_forecast(past), days)
        baseline = same_weekday_baseline(past, days)
        totals = ArrivalHistory(history.slot_minutes, _branch_total(history.counts), history.days)
        return ForecastAccuracy(
            held_out_from=origin,
            held_out_days=HELD_OUT_DAYS,
            frontdesk=forecast_error(history, ours, days),
            same_weekday=forecast_error(history, baseline, days),
            frontdesk_total=forecast_error(totals, _branch_total(ours), days),
            same_weekday_total=forecast_error(totals, _branch_total(baseline), days),
        )
    except ValueError as error:
        notes.append(f"Forecast accuracy could not be measured: {error}.")
        return None
