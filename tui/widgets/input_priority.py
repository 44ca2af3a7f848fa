"""Typing goes first: for a moment after each key, live redraws of a streaming answer wait.

A frame that also lays out the growing answer costs 10-30 ms; a frame with only the composer's new
character costs 1-2 ms. Holding the answer's next redraw back briefly lets the key's frame go out
alone, and the answer catches up right after (never later than MAX_DEFER since its last redraw).
"""

from __future__ import annotations

import time

KEY_PRIORITY = 0.05  # seconds after a key during which live redraws wait
MAX_DEFER = 0.15  # the longest a live redraw waits for typing, counted from its previous redraw

_last_key = 0.0
_last_redraw = 0.0


def key_pressed() -> None:
    global _last_key
    _last_key = time.perf_counter()


def redraw_waits(last_redraw: float, now: float | None = None) -> bool:
    """Whether a live redraw due now should wait for the user's typing to be painted first."""
    now = time.perf_counter() if now is None else now
    return now - _last_key < KEY_PRIORITY and now - last_redraw < MAX_DEFER


def seconds_since_key(now: float | None = None) -> float:
    """How long ago the composer last saw a key (a request arriving meanwhile must not take the focus)."""
    return (time.perf_counter() if now is None else now) - _last_key


def redrawn() -> None:
    """A live answer was redrawn (a streaming step): the app is not quiet."""
    global _last_redraw
    _last_redraw = time.perf_counter()


def quiet_for(now: float | None = None) -> float:
    """How long neither a key nor a live redraw happened (when slow housekeeping may run)."""
    return (time.perf_counter() if now is None else now) - max(_last_key, _last_redraw)
