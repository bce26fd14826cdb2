"""Arrival forecasts per queue and half hour, against the same-weekday average, on demo-like and real logs.

The real log is the "Anonymous Bank" call-centre data (Service Enterprise Engineering lab, Technion:
Ilan Guedj and Avi Mandelbaum), kept beside the repository.
"""

import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from frontdesk.science import anonymous_bank
from frontdesk.science.estimator import DAY, EventKind, QueueEvent
from frontdesk.science.forecast import (
    ArrivalHistory,
    ForecastModel,
    evaluate_forecast,
    fit_forecast,
    forecast,
    forecast_error,
    history_from_events,
    rolling_evaluation,
    same_weekday_baseline,
)

DATA = Path(__file__).parents[2].parent / "shared" / "data" / "anonymous_bank_1999"
EPOCH = date(1970, 1, 1)
START = date(2025, 1, 6)  # a Monday
HOLIDAY = date(2025, 3, 19)


def _wall_clock(day: date, seconds: float) -> float:
    return float((day - EPOCH).days * DAY + seconds)


QUEUES = {"accounts": 14.0, "repairs": 6.0}
WEEKDAY_FACTOR = [1.3, 1.0, 1.0, 1.05, 1.1, 0.8, 0.0]


def hourly_rate(queue: str, day: date, hour: int) -> float:
    """Expected arrivals per hour of the demo-like branch."""
    closing = 13 if day.weekday() == 5 else 18
    if not 9 <= hour < closing:
        return 0.0
    shape = 1.4 if hour in (10, 12) else 0.7 if hour == 15 else 1.0
    weeks = (day - START).days / 7
    rate: float = QUEUES[queue] * WEEKDAY_FACTOR[day.weekday()] * shape * 1.01**weeks
    return rate * 0.1 if day == HOLIDAY else rate


def demo_like_events(weeks: int, *, seed: int = 5) -> list[QueueEvent]:
    """A branch like the demo's: open 9–18 (Saturday 9–13, Sunday closed), a morning and a lunchtime
    peak, busy Mondays, 1% more customers each week and a holiday with a tenth of the usual crowd."""
    rng = random.Random(seed)
    events = []
    number = 0
    for offset in range(weeks * 7):
        day = START + timedelta(days=offset)
        for queue in QUEUES:
            for hour in range(24):
                rate = hourly_rate(queue, day, hour)
                if rate <= 0:
                    continue
                moment = hour * 3600.0
                while True:
                    moment += rng.expovariate(rate / 3600)
                    if moment >= (hour + 1) * 3600:
                        break
                    number += 1
                    events.append(QueueEvent(_wall_clock(day, moment), EventKind.ARRIVE, str(number), queue))
    events.sort(key=lambda e: e.time)
    return events


@pytest.fixture(scope="module")
def demo_history():
    return history_from_events(demo_like_events(16))


def test_counts_each_visit_once_per_interval():
    day = date(2025, 1, 6)
    events = [
        QueueEvent(_wall_clock(day, 9 * 3600 + 10), EventKind.ARRIVE, "a", "A"),
        QueueEvent(_wall_clock(day, 9 * 3600 + 100), EventKind.START, "a", "A", 0, "c"),
        QueueEvent(_wall_clock(day, 9 * 3600 + 1900), EventKind.START, "walk-in", "A", 0, "c"),
        QueueEvent(_wall_clock(day, 9 * 3600 + 1950), EventKind.END, "walk-in", "A", 0, "c"),
        QueueEvent(_wall_clock(day, 23 * 3600 + 1799), EventKind.ARRIVE, "late", "B"),
    ]

    history = history_from_events(events)

    assert history.days == {day}
    assert history.slots == 48
    assert history.row("A", day)[18] == 1
    assert history.row("A", day)[19] == 1
    assert history.total("A", day) == 2
    assert history.row("B", day)[46] == 1
    with pytest.raises(ValueError, match="divide"):
        history_from_events(events, slot_minutes=7)


def test_forecast_beats_the_same_weekday_average_on_demo_like_weeks(demo_history):
    origin = START + timedelta(weeks=12)

    errors = evaluate_forecast(demo_history, origin, 28, special_days={HOLIDAY: "holiday"})

    days = [origin + timedelta(days=i) for i in range(28)]
    truth = {q: {d: [hourly_rate(q, d, k // 2) / 2 for k in range(48)] for d in days} for q in QUEUES}
    floor = forecast_error(demo_history, truth, days)  # the Poisson noise no forecast can remove

    ours, baseline = errors["frontdesk"], errors["same_weekday"]
    print(f"demo-like: ours {ours.as_dict()}, baseline {baseline.as_dict()}, floor {floor.as_dict()}")
    assert ours.days == 24  # Sundays are closed, so never observed
    assert ours.wape < baseline.wape
    assert ours.daily_wape < baseline.daily_wape
    assert ours.wape < 1.1 * floor.wape


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_two_weeks_of_history_the_forecast_beats_the_same_weekday_average(seed):
    """The demo's situation: two weeks to learn from, so each weekday's own shape rests on two days;
    the shape all weekdays share carries the profile until a weekday has shown its own."""
    history = history_from_events(demo_like_events(4, seed=seed))

    errors = evaluate_forecast(history, START + timedelta(weeks=2), 14)

    assert errors["frontdesk"].wape < 0.95 * errors["same_weekday"].wape


def test_a_weekday_with_a_shape_of_its_own_keeps_it_once_the_history_shows_it():
    """Mondays here peak at 15:00, when the other weekdays are quiet; twelve weeks make that plain."""
    rng = random.Random(11)
    events = []
    for offset in range(12 * 7):
        day = START + timedelta(days=offset)
        if day.weekday() > 4:
            continue
        for hour in range(9, 18):
            rate = (30.0 if hour == 15 else 4.0) if day.weekday() == 0 else (2.0 if hour == 15 else 10.0)
            for number in range(_poisson(rng, rate)):
                moment = _wall_clock(day, hour * 3600 + rng.uniform(0, 3600))
                events.append(QueueEvent(moment, EventKind.ARRIVE, f"{offset}-{hour}-{number}", "accounts"))
    model = fit_forecast(history_from_events(events))

    monday, tuesday = model.queues["accounts"].profile[0], model.queues["accounts"].profile[1]
    assert sum(monday[30:32]) == pytest.approx(30 / 62, abs=0.03)  # 15:00–16:00, its own share
    assert sum(tuesday[30:32]) == pytest.approx(2 / 82, abs=0.01)


def _poisson(rng: random.Random, mean: float) -> int:
    count, product, limit = 0, rng.random(), math.exp(-mean)
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def test_special_days_are_learned_from_the_history(demo_history):
    model = fit_forecast(demo_history, special_days={HOLIDAY: "holiday"})
    accounts = model.queues["accounts"]

    assert accounts.special_factor["holiday"] == pytest.approx(0.1, abs=0.06)
    assert accounts.weekday_factor[0] > accounts.weekday_factor[1]
    assert accounts.weekday_factor[6] == 0
    monday = date(2025, 5, 5)
    plain = forecast(model, [monday])["accounts"][monday]
    unseen = forecast(model, [monday], special_days={monday: "strike"})["accounts"][monday]
    assert sum(unseen) == pytest.approx(0.3 * sum(plain))
    assert max(range(48), key=plain.__getitem__) in (20, 21, 24, 25)  # the 10:00 or 12:00 peak


def test_forecast_model_round_trips_through_json(demo_history):
    model = fit_forecast(demo_history)
    restored = ForecastModel.from_dict(json.loads(json.dumps(model.to_dict())))
    day = date(2025, 5, 6)

    assert forecast(restored, [day]) == forecast(model, [day])


def test_baseline_averages_the_same_weekday():
    history = ArrivalHistory(30)
    mondays = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(3)]
    for count, day in enumerate(mondays, start=1):
        history.days.add(day)
        history.counts.setdefault("A", {})[day] = [float(count)] * 48
    target = date(2025, 1, 27)

    baseline = same_weekday_baseline(history, [target], weeks=2)

    assert baseline["A"][target] == [2.5] * 48
    error = forecast_error(history, {"A": {mondays[2]: [2.0] * 48}}, [mondays[2]])
    assert error.wape == pytest.approx(1 / 3)
    assert error.bias == pytest.approx(-1)
    with pytest.raises(ValueError, match="nothing to compare"):
        forecast_error(history, {}, [target])


@pytest.fixture(scope="module")
def bank_history():
    events = anonymous_bank.load_events(DATA, range(1, 7))
    return history_from_events(events)


def test_forecast_beats_the_baseline_on_the_real_log(bank_history):
    """History January–April, forecast of May and June per call type and half hour."""
    errors = evaluate_forecast(
        bank_history, date(1999, 5, 1), 61, special_days=anonymous_bank.SPECIAL_DAYS_1999
    )

    ours, baseline = errors["frontdesk"], errors["same_weekday"]
    print(json.dumps({name: e.as_dict() for name, e in errors.items()}))
    assert ours.days >= 59
    assert ours.wape < 0.9 * baseline.wape
    assert ours.daily_wape < baseline.daily_wape
    assert ours.rmse < baseline.rmse


def test_weekly_reforecasts_beat_the_baseline_on_the_real_log(bank_history):
    origins = [date(1999, 5, 1) + timedelta(weeks=i) for i in range(9)]

    errors = rolling_evaluation(bank_history, origins, 7, special_days=anonymous_bank.SPECIAL_DAYS_1999)

    assert errors["frontdesk"].wape < errors["same_weekday"].wape
    assert math.isfinite(errors["frontdesk"].rmse)
