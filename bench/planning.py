"""Planning a 300-branch network: ``science.staffing.plan_network`` beside pyworkforce, in one run.

The network: 300 branches × 5 services × 14 days × 48 half hours = 1,008,000 cells, each with a
forecast of arrivals (a seeded daily profile, zero at night) and the service's mean time; the target
is 80 % served within 10 minutes (Erlang C). Ours plans every cell. pyworkforce (an independent
Erlang C implementation) is timed on (a) a random sample of the same cells, one call per cell,
extrapolated to the whole network, and (b) every distinct (arrivals, service time) of the network,
which is what ours computes after de-duplication — so the comparison is like for like. Agreement
on the sampled cells is printed too (pyworkforce starts its search at round(A + 1), so it may ask
for one more counter where ours finds the smaller number meets the target; see the science tests).
"""

import argparse
import math
import random
import time
from collections.abc import Iterator

from pyworkforce.queuing import ErlangC

from frontdesk.science.staffing import ServiceForecast, StaffingTarget, plan_network

BRANCHES, SERVICES, DAYS, SLOTS = 300, 5, 14, 48
SERVICE_MINUTES = (12.0, 8.0, 20.0, 4.0, 15.0)
TARGET = StaffingTarget(service_level=0.8, target_seconds=600.0)


def network(seed: int = 7) -> list[ServiceForecast]:
    rng = random.Random(seed)
    profile = [0.0] * SLOTS
    for slot in range(18, 40):  # 09:00–20:00
        hour = slot / 2
        profile[slot] = 1.0 + 0.6 * math.exp(-((hour - 11) ** 2) / 2) + 0.4 * math.exp(-((hour - 13.5) ** 2))
    forecasts = []
    for branch in range(BRANCHES):
        size = rng.uniform(0.4, 3.0)
        for service in range(SERVICES):
            share = (0.35, 0.25, 0.2, 0.12, 0.08)[service]
            arrivals = [
                max(
                    0.0,
                    size
                    * share
                    * 10
                    * profile[slot]
                    * (1.25 if day % 7 == 0 else 1.0)
                    * rng.uniform(0.85, 1.15),
                )
                for day in range(DAYS)
                for slot in range(SLOTS)
            ]
            forecasts.append(
                ServiceForecast(
                    branch=f"b{branch}",
                    service=f"s{service}",
                    arrivals=arrivals,
                    service_seconds=SERVICE_MINUTES[service] * 60,
                )
            )
    return forecasts


def cells(forecasts: list[ServiceForecast]) -> Iterator[tuple[float, float]]:
    for forecast in forecasts:
        for arrivals in forecast.arrivals:
            yield arrivals, forecast.service_seconds


def pyworkforce_counters(arrivals_per_half_hour: float, service_seconds: float) -> int:
    if arrivals_per_half_hour <= 0:
        return 0
    erlang = ErlangC(
        transactions=arrivals_per_half_hour,
        aht=service_seconds / 60,
        asa=TARGET.target_seconds / 60,
        interval=30,
    )
    return int(erlang.required_positions(service_level=TARGET.service_level, max_occupancy=1.0)["positions"])


def row(label: str, seconds: float, rate: float) -> str:
    return f"{label:<52}{seconds:>10.2f}{rate:>14,.0f}"


def run(*, quick: bool = False) -> str:
    forecasts = network()
    total_cells = sum(len(forecast.arrivals) for forecast in forecasts)
    started = time.perf_counter()
    plan = plan_network(forecasts, target=TARGET, interval_minutes=30)
    ours_seconds = time.perf_counter() - started

    rng = random.Random(11)
    all_cells = list(cells(forecasts))
    sample = rng.sample(all_cells, 2_000 if quick else 20_000)
    started = time.perf_counter()
    for arrivals, service in sample:
        pyworkforce_counters(arrivals, service)
    sample_seconds = time.perf_counter() - started
    per_cell = sample_seconds / len(sample)

    # Like for like: pyworkforce on each distinct (arrivals rounded up to 0.01, service time), as ours.
    distinct = {(math.ceil(arrivals * 100 - 1e-9) / 100, service) for arrivals, service in all_cells}
    started = time.perf_counter()
    for arrivals, service in distinct:
        pyworkforce_counters(arrivals, service)
    distinct_seconds = time.perf_counter() - started

    # Agreement on the sample, ours computed per cell with the same rounding up.
    ours_sample = plan_network(
        [
            ServiceForecast(branch="sample", service=str(i), arrivals=[a], service_seconds=s)
            for i, (a, s) in enumerate(sample)
        ],
        target=TARGET,
        interval_minutes=30,
    )
    same = one_more = other = 0
    for index, (arrivals, service) in enumerate(sample):
        ours_value = ours_sample.counters[("sample", str(index))][0]
        theirs = pyworkforce_counters(math.ceil(arrivals * 100 - 1e-9) / 100, service)
        if theirs == ours_value:
            same += 1
        elif theirs == ours_value + 1:
            one_more += 1
        else:
            other += 1

    lines = [
        f"Network plan: {BRANCHES} branches × {SERVICES} services × {DAYS} days × {SLOTS} half hours "
        f"= {total_cells:,} cells, 80 % within 10 min (Erlang C)",
        "",
        f"{'implementation':<52}{'seconds':>10}{'cells/s':>14}",
        row("frontdesk plan_network (whole network)", ours_seconds, total_cells / ours_seconds),
        row("pyworkforce, one call per cell (extrapolated)", per_cell * total_cells, 1 / per_cell),
        f"{'pyworkforce, each distinct input once (no lookups)':<52}{distinct_seconds:>10.2f}{'':>14}",
        "",
        f"distinct inputs: {len(distinct):,}; ours evaluated {plan.evaluations:,} Erlang searches",
        f"pyworkforce sample: {len(sample):,} cells in {sample_seconds:.2f} s",
        f"agreement on the sample: {same:,} equal, {one_more:,} where pyworkforce asks one more "
        f"(its search starts at round(A+1)), {other:,} other",
        f"goal: whole network under 10 s — {'met' if ours_seconds < 10 else 'NOT met'}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
