"""The one rule for who is called next.

Priority tickets (an appointment due, accessibility needs, VIP) go before regular ones, and
within a group the earlier arrival goes first. So that nobody starves behind a stream of
priority tickets, a regular ticket that has waited ``max_wait`` or longer joins the priority
group at its original arrival time: it then goes before every priority ticket that arrived
after it. Ties are broken by the ticket's id, so the order is total and the same for every
counter.

Expressed three times, and the tests hold each to an independent statement of the rule: as ORM
ordering (queues shown to people), as an SQL ``ORDER BY`` (a ticket's position), and as two index
probes for ``call next`` (:func:`first_in_calling_order_sql`), which must not sort the whole queue
on every call.
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


def first_in_calling_order_sql(
    *, table: str, alias: str, eligible: str, cutoff: str, lock: str
) -> tuple[str, str]:
    """CTEs that find the first visit in calling order by two ``LIMIT 1`` probes in arrival order.

    Returns ``(ctes, pick)``: ``ctes`` to put after ``WITH``; ``pick``, a scalar subquery giving the
    chosen id (NULL when none). ``table`` is the visits' table; ``eligible`` the ``WHERE`` condition
    on ``alias`` for the waiting visits the caller may take; ``lock`` is appended to each probe
    (``FOR UPDATE … SKIP LOCKED``).

    Why two probes give the rule's first: let ``first`` be the earliest eligible visit by (arrival,
    id). If it goes first itself (priority, or waited past ``cutoff``), nothing precedes it. If it
    does not, every eligible visit arrived after the cutoff too, so the group that goes first is
    exactly the priority visits, and the earliest of them (``first_priority``) is next; without
    one, ``first`` is. Both probes walk the partial waiting indexes in arrival order and stop at
    the first row they can lock, instead of reading and sorting the whole queue.
    """
    ctes = (
        f"first_waiting AS (SELECT {alias}.id, {alias}.arrived_at, {alias}.priority_reason"
        f" FROM {table} {alias} WHERE {eligible}"
        f" ORDER BY {alias}.arrived_at, {alias}.id LIMIT 1{lock}),"
        f" first_priority AS (SELECT {alias}.id FROM {table} {alias}"
        f" WHERE {eligible} AND {alias}.priority_reason > ''"
        f" ORDER BY {alias}.arrived_at, {alias}.id LIMIT 1{lock})"
    )
    pick = (
        "(SELECT CASE WHEN f.priority_reason > '' OR f.arrived_at <= "
        f"{cutoff} OR p.id IS NULL THEN f.id ELSE p.id END"
        " FROM first_waiting f LEFT JOIN first_priority p ON 1 = 1)"
    )
    return ctes, pick
