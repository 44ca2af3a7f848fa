"""When the MixerLead client retries, and how long it waits.

From the reference: only 429 is retried automatically for calls that create something or cost
credits (chat, knowledge adds, crawls, skill runs), plus a connection that failed before the
request could be answered; idempotent calls (GET, PATCH, DELETE) also retry 5xx and timeouts.
`Retry-After` is honoured exactly (delta-seconds or an HTTP date); without it the wait is
`2**attempt` seconds, as in the docs' own helper, which gives up after 4 retries. A single
automatic wait is capped at `max_auto_wait` (about a minute): a longer one, or a 429 that names a
daily quota without saying when to come back, is handed to the user (with a countdown) instead.
Jitter only ever adds to the wait, never makes it shorter than the server asked.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

IDEMPOTENT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CREATE_RETRY_STATUSES = frozenset({429})


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller before each automatic wait, so the UI can show a countdown."""

    attempt: int  # 1 for the first retry
    max_attempts: int  # total tries, the first included
    wait: float  # seconds about to be waited
    status: int  # 429, a 5xx, or 0 for a connection failure
    reason: str  # a sentence for people: what went wrong
    method: str = ""
    path: str = ""


RetryCallback = Callable[[RetryNotice], Any]


@dataclass
class RetryPolicy:
    max_retries: int = 4  # the docs' helper: up to 4 retries
    base_delay: float = 1.0  # without Retry-After: base_delay * 2**attempt (1, 2, 4, 8 s)
    max_auto_wait: float = 60.0  # longer waits are not done automatically
    jitter: float = 0.1  # up to this fraction is added at random
    max_jitter: float = 1.0  # seconds
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def delay(self, retry_number: int, server_wait: float | None) -> float:
        """Seconds before retry `retry_number` (1-based), jitter included."""
        if server_wait is not None:
            wait = max(server_wait, 0.0)
        else:
            wait = self.base_delay * (2 ** (retry_number - 1))
        return wait + min(wait * self.jitter * self.rng.random(), self.max_jitter)

    def retry_statuses(self, idempotent: bool) -> frozenset[int]:
        return IDEMPOTENT_RETRY_STATUSES if idempotent else CREATE_RETRY_STATUSES
