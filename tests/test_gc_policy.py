"""The collection policy: older generations only in quiet moments, or when long overdue."""

from __future__ import annotations

import gc

from tui import gc_policy
from tui.gc_policy import IdleCollector


def make(quiet: float, pending: int) -> tuple[IdleCollector, list[int], list[int]]:
    collected: list[int] = []
    state = [pending]

    def collect(generation: int) -> None:
        collected.append(generation)
        state[0] = 0

    return IdleCollector(lambda: quiet, collect, lambda: state[0]), collected, state


def test_nothing_is_collected_while_the_user_types_or_an_answer_is_drawn() -> None:
    collector, collected, _ = make(quiet=0.2, pending=gc_policy.OLDER_AFTER + 10)
    assert collector.tick() is None and collected == []


def test_a_quiet_moment_collects_the_older_generations_and_every_tenth_time_all_of_them() -> None:
    collector, collected, state = make(quiet=gc_policy.QUIET + 0.1, pending=0)
    assert collector.tick() is None  # nothing worth collecting yet
    for _ in range(gc_policy.FULL_EVERY):
        state[0] = gc_policy.OLDER_AFTER
        collector.tick()
    assert collected == [1] * (gc_policy.FULL_EVERY - 1) + [2]


def test_long_overdue_collections_happen_even_if_it_is_never_quiet() -> None:
    collector, collected, _ = make(quiet=0.0, pending=gc_policy.OVERDUE)
    assert collector.tick() == 1 and collected == [1]


def test_installed_only_young_collections_happen_on_their_own() -> None:
    before = gc.get_threshold()
    try:
        IdleCollector.install()
        young, older, oldest = gc.get_threshold()
        assert young == gc_policy.YOUNG_THRESHOLD and older >= 10**9 and oldest >= 10**9
        gc.collect()
        for _ in range(3):
            [[] for _ in range(gc_policy.YOUNG_THRESHOLD * 2)]  # noqa: B018  (allocations that survive a moment)
        assert gc.get_count()[1] >= 1  # young collections ran and counted towards an older one
        collector = IdleCollector(lambda: gc_policy.QUIET + 1, young_collections=lambda: gc_policy.OLDER_AFTER)
        assert collector.tick() == 1
        assert gc.get_count()[1] == 0  # the older generation was really collected
    finally:
        gc.set_threshold(*before)
