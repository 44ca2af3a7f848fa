"""Profiling only the measured window of a case (not its start-up), when the child runs with --profile.

A case brackets what it measures with `start()` / `stop()`; they do nothing unless child.py
armed a profiler (one profiler only: Python has one profile hook per thread).
"""

from __future__ import annotations

import cProfile

PROFILER: cProfile.Profile | None = None
used = False


def arm() -> cProfile.Profile:
    global PROFILER
    PROFILER = cProfile.Profile()
    return PROFILER


def start() -> None:
    global used
    if PROFILER is not None:
        used = True
        PROFILER.enable()


def stop() -> None:
    if PROFILER is not None:
        PROFILER.disable()
