"""Durations on the Mix wire, read in whichever unit the server used (docs/protocol.md, "Units").

Both specs say integer milliseconds (`reasoningDuration`, `retryAfter`); the Go server sends seconds
(a float such as 0.358, which its encoder writes as `2` when whole, and a whole 60 for retryAfter).
The value itself tells them apart: a fraction is seconds; a whole reasoning duration under 100 is
seconds (no model reasons for less than 100 ms) and milliseconds from 100 on; a whole retryAfter
under 1000 is seconds (no server asks for a retry within a second).
"""

from __future__ import annotations

from typing import Any

SECONDS_BELOW = 100  # a whole reasoningDuration under this is Go's seconds, from it on the spec's ms


def number(value: Any) -> float | None:
    """A JSON number (or a numeric string) as a float; None for anything else, booleans included."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def duration_seconds(value: Any) -> float | None:
    """`reasoningDuration` in seconds: integer ms (spec) or fractional seconds (Go)."""
    n = number(value)
    if n is None:
        return None
    return n / 1000 if n.is_integer() and n >= SECONDS_BELOW else n


def retry_after_seconds(value: Any) -> float | None:
    """`retryAfter` in seconds: ms (spec) or seconds (Go)."""
    n = number(value)
    if n is None:
        return None
    return n / 1000 if n >= 1000 else n
