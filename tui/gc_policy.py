"""Garbage collection that never lands on a key: small young collections, the rest when idle.

Python's automatic collections scan whole generations. With Textual's and Rich's many small,
long-lived objects (strips, segments, their caches), a middle-generation collection took 20-30 ms
and a full one up to 125 ms, at whatever moment the allocation count tipped over: often mid-stream,
while a key waited. Here only the young generation is collected automatically, often and cheaply
(a few thousand objects, well under a millisecond). Older generations are collected by `tick()`,
called from a timer: when the user has not typed for a while and no answer is being drawn, or in
any case once they are long overdue (an answer that streams for minutes while the user types).
Nothing is leaked: cyclic garbage waits for the next quiet moment instead of the next threshold.
"""

from __future__ import annotations

import gc
from typing import Callable

YOUNG_THRESHOLD = 2_000  # allocations between young collections (Python's default: 700)
NEVER = 1_000_000_000  # as a threshold: older generations are never collected automatically
QUIET = 1.0  # seconds without a key and without a live redraw that count as a quiet moment
OLDER_AFTER = 50  # young collections after which the older generations are worth collecting
OVERDUE = 2_000  # young collections after which they are collected even if it is never quiet
FULL_EVERY = 10  # every how many older collections a full one is made


class IdleCollector:
    """Decides when the older generations are collected; `quiet_for()` says how long the app has
    been quiet (no key, nothing redrawn), `collect(generation)` collects (gc.collect by default)."""

    def __init__(self, quiet_for: Callable[[], float], collect: Callable[[int], object] = gc.collect,
                 young_collections: Callable[[], int] = lambda: gc.get_count()[1]) -> None:
        self._quiet_for = quiet_for
        self._collect = collect
        self._young_collections = young_collections
        self._older_collections = 0

    @staticmethod
    def install() -> None:
        gc.set_threshold(YOUNG_THRESHOLD, NEVER, NEVER)

    @staticmethod
    def uninstall() -> None:
        gc.set_threshold(700, 10, 10)  # Python's defaults

    def tick(self) -> int | None:
        """Collect the older generations if it is time; returns the generation collected, if any."""
        pending = self._young_collections()  # young collections since the last older one
        if pending < OLDER_AFTER or (pending < OVERDUE and self._quiet_for() < QUIET):
            return None
        self._older_collections += 1
        generation = 2 if self._older_collections % FULL_EVERY == 0 else 1
        self._collect(generation)
        return generation
