"""The one rule for who is called next.

Priority tickets (an appointment due, accessibility needs, VIP) go before regular ones, and
within a group the earlier arrival goes first. So that nobody starves behind a stream of
priority tickets, a regular ticket that has waited ``max_wait`` or longer joins the priority
group at its original arrival time: it then goes before every priority ticket that arrived
after it. Ties are broken by the ticket's id, so the order is total and the same for every
counter.

Expressed as database ordering so that ``call next`` can pick and lock the first row in one
statement (``SELECT … ORDER BY … LIMIT 1 FOR UPDATE SKIP LOCKED``): once for the ORM (queues shown
to people) and once as SQL (the call itself, ``statements.call_first_waiting``). The two spell the
same three keys in the same order; the tests hold both to an independent statement of the rule.
"""

import datetime as dt

from django.db.models import Case, F, OrderBy, Q, Value, When
from django.db.models.fields import IntegerField


def calling_order(*, now: dt.datetime, max_wait: dt.timedelta) -> list[OrderBy]:
    """``ORDER BY`` terms for waiting visits, first to be called first."""
    goes_first = Q(priority_reason__gt="") | Q(arrived_at__lte=now - max_wait)
    group = Case(When(goes_first, then=Value(0)), default=Value(1), output_field=IntegerField())
    return [group.asc(), F("arrived_at").asc(), F("id").asc()]


def calling_order_sql(alias: str, *, cutoff: str) -> str:
    """The same order as an SQL ``ORDER BY`` list for visits aliased ``alias``.

    ``cutoff`` is the placeholder of ``now - max_wait`` (for example ``%(cutoff)s``).
    """
    return (
        f"CASE WHEN ({alias}.priority_reason > '' OR {alias}.arrived_at <= {cutoff}) THEN 0 ELSE 1 END,"
        f" {alias}.arrived_at, {alias}.id"
    )
