"""Erlang B, C and A: the closed-form queueing models behind staffing advice.

Why these three:

* **Erlang B** (M/M/n/n, blocked customers leave) is not a branch model itself, but its stable recurrence
  is the numerically safe building block for the other two: no factorials and no powers, so it works for
  thousands of servers and thousands of Erlangs without overflow.
* **Erlang C** (M/M/n, infinitely patient customers, first come first served) is the textbook staffing
  model. It is pessimistic when people give up, and undefined when traffic reaches the number of counters.
* **Erlang A** (M/M/n+M, exponential patience, Palm 1946; formulas after Mandelbaum and Zeltyn) adds
  abandonment. It is stable at any load, which matters for walk-in queues at opening time or during
  peaks.

Units: arrivals per hour, times in seconds. *Traffic* (offered load, in Erlangs) is
``arrivals_per_hour * service_seconds / 3600``.

Definitions (the Mandelbaum-Zeltyn conventions, also used by most call-centre tools):

* ``probability_waiting``: share of arrivals that find every counter busy and must queue.
* ``service_level``: share of *all* arrivals that are served (start service) after waiting at most
  ``target_seconds``. Customers who abandon count as failures, whenever they leave.
* ``service_level_of_served`` (Erlang A only): the same count over served customers only.
* ``average_wait_seconds`` (the ASA): mean time in queue over *all* arrivals, including those served at
  once (wait 0) and, in Erlang A, the time abandoning customers spent before leaving.
* ``occupancy``: share of counter time spent serving (carried traffic / counters).
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "agents_needed",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_probability",
    "halfin_whitt_delay_probability",
    "occupancy",
    "offered_traffic",
    "service_level",
    "square_root_staffing",
]

_SECONDS_PER_HOUR = 3600.0
_STANDARD_NORMAL = NormalDist()


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _finite_non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def _finite_positive(name: str, value: float) -> float:
    number = _finite_non_negative(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def _agent_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _probability_target(name: str, value: float) -> float:
    number = _finite_non_negative(name, value)
    if number >= 1:
        raise ValueError(f"{name} must be in [0, 1): a service level of 1 needs infinitely many agents")
    return number


def _patience(value: float | None) -> float | None:
    """``None`` and ``math.inf`` both mean infinitely patient customers (Erlang C)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"patience_seconds must be a number or None, got {value!r}")
    if value == math.inf:
        return None
    return _finite_positive("patience_seconds", value)


def offered_traffic(arrivals_per_hour: float, service_seconds: float) -> float:
    """Offered load in Erlangs: the average number of counters the demand would keep busy."""
    arrivals = _finite_non_negative("arrivals_per_hour", arrivals_per_hour)
    service = _finite_positive("service_seconds", service_seconds)
    return arrivals * service / _SECONDS_PER_HOUR


# --------------------------------------------------------------------------------------------------
# Erlang B and C
# --------------------------------------------------------------------------------------------------


def _erlang_b_unchecked(traffic: float, servers: int) -> float:
    # B(0) = 1; B(k) = A·B(k-1) / (k + A·B(k-1)). Every step is a ratio of positive numbers, so the
    # recurrence never overflows and only underflows (correctly) towards 0 for tiny loads.
    blocking = 1.0
    for k in range(1, servers + 1):
        carried = traffic * blocking
        blocking = carried / (k + carried)
    return blocking


def erlang_b(traffic: float, servers: int) -> float:
    """Blocking probability of M/M/n/n; used as the stable base of Erlang C and A."""
    load = _finite_non_negative("traffic", traffic)
    n = _agent_count("servers", servers)
    if load == 0:
        return 1.0 if n == 0 else 0.0
    return _erlang_b_unchecked(load, n)


def _erlang_c_from_b(traffic: float, servers: int, blocking: float) -> float:
    # C = B / (1 - rho(1 - B)), rho = A/n < 1: no factorials, no cancellation.
    rho = traffic / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


def erlang_c_probability(traffic: float, servers: int) -> float:
    """Probability that an arrival has to queue in M/M/n (1.0 when the queue is unstable)."""
    load = _finite_non_negative("traffic", traffic)
    n = _agent_count("servers", servers)
    if load == 0:
        return 0.0
    if n <= load:
        return 1.0
    return _erlang_c_from_b(load, n, _erlang_b_unchecked(load, n))


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """Steady-state performance of an M/M/n queue (infinitely patient customers).

    When ``agents <= traffic_erlangs`` the queue grows without bound: ``stable`` is False, everybody
    waits, nobody is served within any target and the mean wait is ``math.inf``.
    """

    arrivals_per_hour: float
    service_seconds: float
    agents: int
    target_seconds: float
    traffic_erlangs: float
    stable: bool
    probability_waiting: float
    service_level: float
    average_wait_seconds: float
    average_wait_if_waiting_seconds: float
    average_queue_length: float
    occupancy: float


def _erlang_c_result(
    arrivals: float, service: float, agents: int, target: float, traffic: float, blocking: float | None
) -> ErlangCResult:
    if traffic == 0:
        return ErlangCResult(arrivals, service, agents, target, 0.0, True, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    if agents <= traffic:
        return ErlangCResult(
            arrivals,
            service,
            agents,
            target,
            traffic,
            False,
            1.0,
            0.0,
            math.inf,
            math.inf,
            math.inf,
            1.0 if agents else 0.0,
        )
    if blocking is None:
        blocking = _erlang_b_unchecked(traffic, agents)
    waiting = _erlang_c_from_b(traffic, agents, blocking)
    spare = agents - traffic
    # Given a wait, the wait is exponential with rate (n - A)/AHT.
    wait_if_waiting = service / spare
    level = 1.0 - waiting * math.exp(-target / wait_if_waiting)
    asa = waiting * wait_if_waiting
    return ErlangCResult(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        agents=agents,
        target_seconds=target,
        traffic_erlangs=traffic,
        stable=True,
        probability_waiting=waiting,
        service_level=level,
        average_wait_seconds=asa,
        average_wait_if_waiting_seconds=wait_if_waiting,
        average_queue_length=waiting * traffic / spare,
        occupancy=traffic / agents,
    )


def erlang_c(
    *, arrivals_per_hour: float, service_seconds: float, agents: int, target_seconds: float
) -> ErlangCResult:
    """Erlang C performance of ``agents`` counters; the standard staffing model without abandonment."""
    arrivals = _finite_non_negative("arrivals_per_hour", arrivals_per_hour)
    service = _finite_positive("service_seconds", service_seconds)
    n = _agent_count("agents", agents)
    target = _finite_non_negative("target_seconds", target_seconds)
    return _erlang_c_result(arrivals, service, n, target, arrivals * service / _SECONDS_PER_HOUR, None)


def service_level(
    *, arrivals_per_hour: float, service_seconds: float, agents: int, target_seconds: float
) -> float:
    """Erlang C share of arrivals served within ``target_seconds``."""
    return erlang_c(
        arrivals_per_hour=arrivals_per_hour,
        service_seconds=service_seconds,
        agents=agents,
        target_seconds=target_seconds,
    ).service_level


def average_speed_of_answer(*, arrivals_per_hour: float, service_seconds: float, agents: int) -> float:
    """Erlang C mean wait in seconds over all arrivals (``math.inf`` if unstable)."""
    return erlang_c(
        arrivals_per_hour=arrivals_per_hour, service_seconds=service_seconds, agents=agents, target_seconds=0
    ).average_wait_seconds


def occupancy(*, arrivals_per_hour: float, service_seconds: float, agents: int) -> float:
    """Share of counter time spent serving, capped at 1 when demand exceeds capacity."""
    return erlang_c(
        arrivals_per_hour=arrivals_per_hour, service_seconds=service_seconds, agents=agents, target_seconds=0
    ).occupancy


# --------------------------------------------------------------------------------------------------
# Square-root staffing (Halfin-Whitt)
# --------------------------------------------------------------------------------------------------


def halfin_whitt_delay_probability(beta: float) -> float:
    """Limit of P(wait) when n = A + β√A and A → ∞ (Halfin-Whitt); a sanity check for Erlang C."""
    if not math.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    # 1 / (1 + β Φ(β) / φ(β)); written with the cdf/pdf ratio to stay finite for large β.
    ratio = _STANDARD_NORMAL.cdf(beta) / _STANDARD_NORMAL.pdf(beta)
    return 1.0 / (1.0 + beta * ratio)


def _square_root_beta(traffic: float, service: float, target: float, level: float) -> float:
    root = math.sqrt(traffic)

    def achieved(beta: float) -> float:
        # QED approximation of the Erlang C service level with n - A = β√A spare counters.
        return 1.0 - halfin_whitt_delay_probability(beta) * math.exp(-beta * root * target / service)

    low, high = 1e-6, 1.0
    while achieved(high) < level and high < 64:
        low, high = high, high * 2
    for _ in range(40):
        middle = 0.5 * (low + high)
        if achieved(middle) >= level:
            high = middle
        else:
            low = middle
    return high


def square_root_staffing(
    *, arrivals_per_hour: float, service_seconds: float, target_seconds: float, service_level: float = 0.8
) -> int:
    """Halfin-Whitt estimate ``ceil(A + β√A)`` of the Erlang C requirement.

    Cheap and accurate to an agent or two for large loads; :func:`agents_needed` uses it as the starting
    point of its exact search and the tests use it as an independent plausibility check.
    """
    traffic = offered_traffic(arrivals_per_hour, service_seconds)
    target = _finite_non_negative("target_seconds", target_seconds)
    level = _probability_target("service_level", service_level)
    if traffic == 0:
        return 0
    beta = _square_root_beta(traffic, float(service_seconds), target, level)
    return max(1, math.ceil(traffic + beta * math.sqrt(traffic)))


# --------------------------------------------------------------------------------------------------
# Erlang A (M/M/n+M)
# --------------------------------------------------------------------------------------------------


def _log_kummer_series(a: float, z: float) -> tuple[float, float]:
    """``log M(a, z)`` and the mean index of its terms, where ``M(a, z) = Σ_j z^j / ((a+1)…(a+j))``.

    ``M(a, z) = a·e^z·z^(-a)·gamma(a, z)`` (gamma: lower incomplete gamma). With ``a = nμ/θ`` and ``z = λ/θ``
    its terms are the stationary weights of the queue lengths seen by a waiting Erlang A arrival, so the
    weighted mean index is the mean queue length found on arrival. Direct summation for ``z <= a + 1``
    (terms decrease, no overflow, no cancellation); otherwise Legendre's continued fraction for the
    upper incomplete gamma, whose complement is then far from zero.
    """
    if z == 0:
        return 0.0, 0.0
    if z <= a + 1:
        term = 1.0
        total = 1.0
        moment = 0.0
        j = 0
        while True:
            j += 1
            term *= z / (a + j)
            total += term
            moment += j * term
            ratio = z / (a + j + 1)
            if ratio < 1:
                tail = term * ratio / (1 - ratio)
                if tail <= 1e-17 * total and tail * (j + 1 / (1 - ratio)) <= 1e-17 * max(moment, 1e-300):
                    break
        return math.log(total), moment / total
    # Q(a, z) = Γ(a, z)/Γ(a) by the modified Lentz algorithm on the continued fraction
    # Γ(a, z) = e^(-z) z^a / (z + 1 - a - 1·(1 - a)/(z + 3 - a - 2·(2 - a)/(z + 5 - a - …))).
    tiny = 1e-300
    b = z + 1 - a
    c = 1 / tiny
    d = 1 / b
    fraction = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1 / d
        delta = d * c
        fraction *= delta
        if abs(delta - 1) < 1e-16:
            break
    log_gamma_a = math.lgamma(a)
    upper_share = math.exp(-z + a * math.log(z) - log_gamma_a) * fraction
    log_lower = log_gamma_a + math.log1p(-upper_share)
    log_m = math.log(a) + z - a * math.log(z) + log_lower
    # Σ j·t_j = (z - a)·M + a (from (a + j + 1)·t_(j+1) = z·t_j); both parts positive when z > a.
    mean = (z - a) + a * math.exp(-log_m)
    return log_m, mean


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state performance of an M/M/n+M queue (exponential patience, mean ``patience_seconds``).

    Always stable: impatient customers bound the queue even when ``agents <= traffic_erlangs``.
    ``service_level`` counts arrivals served within the target over *all* arrivals (abandonment is a
    failure); ``service_level_of_served`` divides by served customers instead.
    """

    arrivals_per_hour: float
    service_seconds: float
    agents: int
    target_seconds: float
    patience_seconds: float
    traffic_erlangs: float
    probability_waiting: float
    probability_abandoning: float
    probability_abandoning_if_waiting: float
    service_level: float
    service_level_of_served: float
    average_wait_seconds: float
    average_queue_length: float
    occupancy: float


def _erlang_a_result(
    arrivals: float, service: float, agents: int, target: float, patience: float, traffic: float
) -> ErlangAResult:
    if traffic == 0:
        return ErlangAResult(
            arrivals, service, agents, target, patience, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0
        )
    arrival_rate = arrivals / _SECONDS_PER_HOUR
    if agents == 0:
        # Nobody is ever served: every arrival waits its whole patience and leaves.
        return ErlangAResult(
            arrivals,
            service,
            0,
            target,
            patience,
            traffic,
            1.0,
            1.0,
            1.0,
            0.0,
            0.0,
            patience,
            arrival_rate * patience,
            0.0,
        )
    # Scaled rates: x = nμ/θ (service capacity per patience), y = λ/θ (arrivals per patience).
    x = agents * patience / service
    y = arrival_rate * patience
    log_s, mean_found = _log_kummer_series(x, y)
    blocking = _erlang_b_unchecked(traffic, agents)
    # P(W) = S·B / (1 - B + S·B), evaluated as 1 / (1 + (1 - B)/(B·S)) in logs.
    # 1 - P(W) is computed on its own so that neither probability loses digits when it is tiny.
    if blocking <= 0:
        waiting, not_waiting = 0.0, 1.0
    else:
        exponent = math.log1p(-blocking) - math.log(blocking) - log_s
        waiting = 0.0 if exponent > 700 else 1.0 / (1.0 + math.exp(exponent))
        not_waiting = 0.0 if exponent < -700 else 1.0 / (1.0 + math.exp(-exponent))
    # PASTA: a waiting arrival finds on average `mean_found` people in the queue; Little's law and
    # θ·E[queue] = λ·P(abandon) give the abandonment probability without any cancellation.
    abandon_if_waiting = min(1.0, mean_found / y)
    abandoning = waiting * abandon_if_waiting
    queue_length = waiting * mean_found
    average_wait = queue_length / arrival_rate
    # Served-within-target among waiting arrivals, from the offered-wait density of M/M/n+M:
    # P(served | W) · (1 - gamma(x+1, y e^(-θT)) / gamma(x+1, y)).
    log_m_next, _ = _log_kummer_series(x + 1, y)
    served_if_waiting = min(1.0, x / (x + 1) * math.exp(log_m_next - log_s))
    theta_t = target / patience
    if target == 0:
        within_share = 0.0
    else:
        z = y * math.exp(-theta_t)
        log_m_target, _ = _log_kummer_series(x + 1, z)
        log_ratio = -(x + 1) * theta_t - y * math.expm1(-theta_t) + log_m_target - log_m_next
        within_share = -math.expm1(min(log_ratio, 0.0))
    level = not_waiting + waiting * served_if_waiting * within_share
    served = 1.0 - abandoning
    return ErlangAResult(
        arrivals_per_hour=arrivals,
        service_seconds=service,
        agents=agents,
        target_seconds=target,
        patience_seconds=patience,
        traffic_erlangs=traffic,
        probability_waiting=waiting,
        probability_abandoning=abandoning,
        probability_abandoning_if_waiting=abandon_if_waiting,
        service_level=level,
        service_level_of_served=min(1.0, level / served) if served > 0 else 0.0,
        average_wait_seconds=average_wait,
        average_queue_length=queue_length,
        occupancy=min(1.0, traffic * served / agents),
    )


def erlang_a(
    *,
    arrivals_per_hour: float,
    service_seconds: float,
    agents: int,
    target_seconds: float,
    patience_seconds: float,
) -> ErlangAResult:
    """Erlang A performance: like Erlang C, but waiting customers leave after an exponential patience."""
    arrivals = _finite_non_negative("arrivals_per_hour", arrivals_per_hour)
    service = _finite_positive("service_seconds", service_seconds)
    n = _agent_count("agents", agents)
    target = _finite_non_negative("target_seconds", target_seconds)
    patience = _patience(patience_seconds)
    if patience is None:
        raise ValueError("patience_seconds must be finite for Erlang A; use erlang_c for patient customers")
    return _erlang_a_result(arrivals, service, n, target, patience, arrivals * service / _SECONDS_PER_HOUR)


# --------------------------------------------------------------------------------------------------
# Staffing search
# --------------------------------------------------------------------------------------------------


def _meets_c(
    result: ErlangCResult, level: float, max_occupancy: float | None, max_wait: float | None
) -> bool:
    if not result.stable or result.service_level < level:
        return False
    if max_occupancy is not None and result.occupancy > max_occupancy + 1e-12:
        return False
    return max_wait is None or result.average_wait_seconds <= max_wait


def _agents_needed_c(
    arrivals: float,
    service: float,
    target: float,
    level: float,
    max_occupancy: float | None,
    max_wait: float | None,
) -> int:
    traffic = arrivals * service / _SECONDS_PER_HOUR
    if traffic == 0:
        return 0
    floor_n = math.floor(traffic) + 1  # smallest stable count
    start = max(
        floor_n, math.ceil(traffic + _square_root_beta(traffic, service, target, level) * math.sqrt(traffic))
    )
    if max_occupancy is not None:
        start = max(start, math.ceil(traffic / max_occupancy - 1e-9))
    # Blocking probabilities B(1..start) from the forward recurrence, kept for a downward search.
    blockings = [1.0]
    blocking = 1.0
    for k in range(1, start + 1):
        carried = traffic * blocking
        blocking = carried / (k + carried)
        blockings.append(blocking)

    def meets(n: int, b: float) -> bool:
        return _meets_c(
            _erlang_c_result(arrivals, service, n, target, traffic, b), level, max_occupancy, max_wait
        )

    n = start
    if meets(n, blockings[n]):
        # Monotone in n: walk down while the smaller count still meets every constraint.
        while n - 1 >= floor_n and meets(n - 1, blockings[n - 1]):
            n -= 1
        return n
    blocking = blockings[n]
    while True:
        n += 1
        carried = traffic * blocking
        blocking = carried / (n + carried)
        if meets(n, blocking):
            return n


def _agents_needed_a(
    arrivals: float,
    service: float,
    target: float,
    level: float,
    patience: float,
    max_occupancy: float | None,
    max_wait: float | None,
    max_abandonment: float | None,
) -> int:
    traffic = arrivals * service / _SECONDS_PER_HOUR
    if traffic == 0:
        return 0

    def meets(n: int) -> bool:
        result = _erlang_a_result(arrivals, service, n, target, patience, traffic)
        if result.service_level < level:
            return False
        if max_occupancy is not None and result.occupancy > max_occupancy + 1e-12:
            return False
        if max_wait is not None and result.average_wait_seconds > max_wait:
            return False
        return max_abandonment is None or result.probability_abandoning <= max_abandonment

    # Every requirement is monotone in n. Gallop from the Erlang C estimate to bracket the answer,
    # then bisect: O(log n) Erlang A evaluations even for hundreds of agents.
    estimate = max(
        1, math.ceil(traffic + _square_root_beta(traffic, service, target, level) * math.sqrt(traffic))
    )
    if meets(estimate):
        high, step = estimate, 1
        low = high - step
        while low >= 1 and meets(low):
            high = low
            step *= 2
            low = high - step
        low = max(low, 0)  # `low` fails (or is 0, which never meets a target with traffic > 0)
    else:
        low, step = estimate, 1
        high = low + step
        while not meets(high):
            low = high
            step *= 2
            high = low + step
    while high - low > 1:
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return high


def agents_needed(
    *,
    arrivals_per_hour: float,
    service_seconds: float,
    target_seconds: float,
    service_level: float = 0.8,
    max_occupancy: float | None = None,
    max_average_wait_seconds: float | None = None,
    patience_seconds: float | None = None,
    max_abandonment: float | None = None,
) -> int:
    """Fewest counters meeting every given target (0 when there is no traffic).

    Erlang C when ``patience_seconds`` is None (or infinite), Erlang A otherwise; ``max_abandonment`` is
    only meaningful with a patience. The result is the exact minimum: the search starts at the
    square-root-staffing estimate and moves one counter at a time (Erlang C) or gallops and bisects
    (Erlang A), relying on every requirement being monotone in the number of counters.
    """
    arrivals = _finite_non_negative("arrivals_per_hour", arrivals_per_hour)
    service = _finite_positive("service_seconds", service_seconds)
    target = _finite_non_negative("target_seconds", target_seconds)
    level = _probability_target("service_level", service_level)
    occupancy_cap = None
    if max_occupancy is not None:
        occupancy_cap = _finite_positive("max_occupancy", max_occupancy)
        if occupancy_cap > 1:
            raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    wait_cap = (
        None
        if max_average_wait_seconds is None
        else _finite_positive("max_average_wait_seconds", max_average_wait_seconds)
    )
    patience = _patience(patience_seconds)
    if patience is None:
        if max_abandonment is not None:
            raise ValueError("max_abandonment needs patience_seconds: Erlang C customers never abandon")
        return _agents_needed_c(arrivals, service, target, level, occupancy_cap, wait_cap)
    abandonment_cap = None
    if max_abandonment is not None:
        abandonment_cap = _finite_positive("max_abandonment", max_abandonment)
        if abandonment_cap > 1:
            raise ValueError(f"max_abandonment must be in (0, 1], got {max_abandonment!r}")
    return _agents_needed_a(
        arrivals, service, target, level, patience, occupancy_cap, wait_cap, abandonment_cap
    )
