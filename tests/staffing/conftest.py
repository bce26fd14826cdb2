"""A frozen Wednesday and three weeks of regular history at Gran Vía, built through import_past_visits.

The history is deterministic: the same customers per half hour every week, Mondays twice as busy,
a late-morning peak, two thirds for general enquiries (8 minutes of service) and a third for business
customers (12 minutes). Each customer is called a minute after arriving and reaches the counter a
minute later, so a counter is held 9 and 13 minutes. So a good forecast reproduces it almost exactly.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from frontdesk.queueing.models import VisitStatus
from frontdesk.queueing.services import PastVisit, import_past_visits

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 2, 18, 11, 0, tzinfo=dt.UTC)  # Wednesday 12:00 in Madrid, far from a DST change
TODAY = NOW.astimezone(MADRID).date()
NEXT_MONDAY = dt.date(2026, 2, 23)

# Customers per half hour on a normal day (the factory's branch opens 09:00–18:00, Monday to Saturday).
PROFILE = {
    dt.time(9, 0): 1,
    dt.time(9, 30): 1,
    dt.time(10, 0): 2,
    dt.time(10, 30): 3,
    dt.time(11, 0): 5,
    dt.time(11, 30): 4,
    dt.time(12, 0): 3,
    dt.time(12, 30): 2,
    dt.time(13, 0): 2,
    dt.time(13, 30): 1,
    dt.time(14, 0): 1,
    dt.time(14, 30): 1,
    dt.time(15, 0): 1,
    dt.time(15, 30): 1,
    dt.time(16, 0): 1,
    dt.time(16, 30): 2,
    dt.time(17, 0): 1,
    dt.time(17, 30): 1,
}
DAY_FACTOR = {0: 2, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
GENERAL_MINUTES, BUSINESS_MINUTES = 8, 12


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def build_history(setup, *, weeks: int = 3, factor: int = 1, walk_minutes: float = 1) -> int:
    """Import the history; ``walk_minutes`` is the time from the call to the start of service."""
    records = []
    for back in range(weeks * 7, 0, -1):
        day = TODAY - dt.timedelta(days=back)
        if day.weekday() not in DAY_FACTOR:
            continue
        for start, count in PROFILE.items():
            customers = count * DAY_FACTOR[day.weekday()] * factor
            for n in range(customers):
                arrived = dt.datetime.combine(day, start, tzinfo=MADRID) + dt.timedelta(
                    minutes=30 * n / customers
                )
                general = n % 3 != 2
                service = setup.general if general else setup.business
                counter = setup.counter_1 if n % 2 == 0 else setup.counter_2 if general else setup.counter_3
                called = arrived + dt.timedelta(minutes=1)
                started = called + dt.timedelta(minutes=walk_minutes)
                minutes = GENERAL_MINUTES if general else BUSINESS_MINUTES
                records.append(
                    PastVisit(
                        branch=setup.branch,
                        service=service,
                        arrived_at=arrived,
                        status=VisitStatus.DONE,
                        called_at=called,
                        service_started_at=started,
                        finished_at=started + dt.timedelta(minutes=minutes),
                        service_point=counter,
                    )
                )
    return import_past_visits(records)


@pytest.fixture
def history(setup, frozen_now) -> int:
    return build_history(setup)
