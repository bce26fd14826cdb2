"""Which counters the plan's simulation opens when a half hour has N counters."""

from frontdesk.staffing.selectors import CounterSkills
from frontdesk.staffing.services.simulation import choose_counters

A, B, C, D = 1, 2, 3, 4
# Barcelona's counters in the demo, in display order.
COUNTERS = [
    CounterSkills(11, "Counter 1", frozenset({A, B, D})),
    CounterSkills(12, "Counter 2", frozenset({A, B})),
    CounterSkills(13, "Counter 3", frozenset({C, D})),
    CounterSkills(14, "Counter 4", frozenset({A, B, C, D})),
]
LOADS = {A: 3.0, B: 3.0, C: 2.0, D: 2.0}  # Erlangs per service in the half hour


def names(chosen: list[CounterSkills]) -> list[str]:
    return [counter.name for counter in chosen]


def test_the_first_counter_takes_the_most_load_and_the_next_go_where_it_is_shared_least():
    # Counter 4 serves everything; then every service has one counter, so the counter for A, B
    # and D (3/2 + 3/2 + 2/2) beats the one for C and D (2/2 + 2/2). Then A, B and D have two:
    # Counter 2 (3/3 + 3/3) beats Counter 3 (2/2 + 2/3).
    assert names(choose_counters(COUNTERS, LOADS, 2)) == ["Counter 4", "Counter 1"]
    assert names(choose_counters(COUNTERS, LOADS, 3)) == ["Counter 4", "Counter 1", "Counter 2"]
    # The choice for N is the choice for N - 1 plus one.
    for count in range(1, 8):
        assert choose_counters(COUNTERS, LOADS, count)[:-1] == choose_counters(COUNTERS, LOADS, count - 1)


def test_a_service_without_load_does_not_draw_counters_and_ties_go_to_display_order():
    assert names(choose_counters(COUNTERS, {C: 1.0}, 2)) == ["Counter 3", "Counter 4"]
    assert names(choose_counters(COUNTERS, {}, 2)) == ["Counter 1", "Counter 2"]


def test_past_the_branch_counters_copies_of_them_are_opened():
    chosen = choose_counters(COUNTERS, LOADS, 6)
    assert names(chosen[:4]) == ["Counter 4", "Counter 1", "Counter 2", "Counter 3"]
    assert names(chosen[4:]) == ["Counter 4 (spare 1)", "Counter 1 (spare 1)"]
    assert chosen[4].service_ids == COUNTERS[3].service_ids


def test_a_branch_without_counters_gets_counters_that_serve_everything():
    chosen = choose_counters([], LOADS, 2)
    assert names(chosen) == ["Counter", "Counter (spare 1)"]
    assert all(counter.service_ids == frozenset(LOADS) for counter in chosen)
