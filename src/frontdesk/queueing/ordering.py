"""The one rule for who is called next.

Priority tickets (an appointment due, accessibility needs, VIP) go before regular ones, and
within a group the earlier arrival goes first. So that nobody starves behind a stream of
priority tickets, a regular ticket that has waited ``max_wait`` or longer joins the priority
group at its original arrival time: it then goes before every priority ticket that arrived
after it. Ties are broken by the ticket's id, so the order is total and the same for every
counter.

Expressed as database ordering so that ``call next`` can pick and lock the first row in one
statement (``SELECT … ORDER BY … LIMIT 1 FOR UPDATE SKIP LOCKED``).
"""

import datetime as dt

from django.db.models import Case, F, OrderBy, Q, Value, When
from django.db.models.fields import IntegerField


def calling_order(*, now: dt.datetime, max_wait: dt.timedelta) -> list[OrderBy]:
    """``ORDER BY`` terms for waiting visits, first to be called first."""
    goes_first = Q(priority_reason__gt="") | Q(arrived_at__lte=now - max_wait)
    group = Case(When(goes_first, then=Value(0)), default=Value(1), output_field=IntegerField())
    return [group.asc(), F("arrived_at").asc(), F("id").asc()]
