"""When and how long to wait before retrying a Mixpeek call.

The policy copies the official SDK's: only 429 and 503 are retried, never when the body says
`retryable: false`. The wait is `Retry-After` when numeric (or an HTTP date), else
`details.retry_after_seconds`, else 2 s doubling; each wait is capped at 30 s, and we give up once
the total wait would pass 180 s. We add a little jitter on top (never below what the server asked)
so many clients do not come back in the same instant.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable

RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryNotice:
    """Told to the UI before each wait, so it can say "rate limited, retrying in 4 s"."""

    attempt: int  # 1 for the first retry
    wait: float  # seconds about to be slept
    status: int
    reason: str  # the human sentence of the error that caused the wait
    method: str = ""
    path: str = ""


RetryCallback = Callable[[RetryNotice], Any]


@dataclass
class RetryPolicy:
    max_attempts: int = 6  # total tries including the first
    base_delay: float = 2.0
    max_delay: float = 30.0  # cap for one wait
    max_total_wait: float = 180.0  # give up once the sum of waits would pass this
    jitter: float = 0.25  # up to this fraction of the wait is added at random
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, retry_number: int, server_wait: float | None) -> float:
        """Seconds to wait before retry number `retry_number` (1-based)."""
        if server_wait is not None:
            wait = min(max(server_wait, 0.0), self.max_delay)
        else:
            wait = min(self.base_delay * (2 ** (retry_number - 1)), self.max_delay)
        # Jitter only adds: never sooner than the server asked, never past the cap.
        return min(wait + wait * self.jitter * self.rng.random(), self.max_delay)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date (the SDK tolerates both)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0)
