"""The rate-limit banner: docked above the transcript while a provider's rate limit holds.

A `rate_limit_error` ends the turn (PROTOCOL §5.4): nothing retries by itself. The banner says
so, counts down to `retryAfter` and shows which attempt it was. The transcript's RateLimitCard is
the turn's record: the same words (`rate_limit_content`), the wait stated instead of counted.
"""

from __future__ import annotations

import time
from typing import Callable

from textual.content import Content
from textual.widgets import Static

from tui.api import events as ev

TICK = 0.5  # seconds between countdown redraws


def attempt_text(error: ev.Error | ev.RateLimitError) -> str:
    if error.attempt is not None and error.max_attempts is not None:
        return f"attempt {error.attempt} of {error.max_attempts}"
    if error.attempt is not None:
        return f"attempt {error.attempt}"
    return ""


def countdown_text(error: ev.Error | ev.RateLimitError, seconds_left: float) -> str:
    if error.retry_after is None:
        return "wait a moment before sending again"
    if seconds_left > 0:
        return f"you can send again in {seconds_left:.0f} s"
    return "you can send again now"


def rate_limit_content(error: ev.Error | ev.RateLimitError, seconds_left: float | None, *, detail: bool = True) -> Content:
    """`⏳ Rate limited · attempt 2 of 8 · the turn stopped; you can send again in 27 s` (+ the server's words).
    With `seconds_left` None (the transcript's record of the turn) the wait is stated, not counted down."""
    parts: list[tuple[str, str] | str] = [("⏳ Rate limited", "bold $text-warning")]
    attempt = attempt_text(error)
    if attempt:
        parts.append((f" · {attempt}", "bold"))
    if seconds_left is None:
        wait = f"; the provider asked to wait {error.retry_after:.0f} s" if error.retry_after is not None else ""
        parts.append((f" · the turn stopped{wait}", ""))
    else:
        parts.append((f" · the turn stopped; {countdown_text(error, seconds_left)}", ""))
    if detail and error.error:
        parts += ["\n", (error.error, "$text-muted")]
    return Content.assemble(*parts)


class RateLimitBanner(Static):
    """Shown for the open session while its last turn ended on a rate limit; hidden otherwise."""

    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("", id=id, classes="rate-limit-banner", markup=False)
        self.clock = clock
        self.error: ev.Error | ev.RateLimitError | None = None
        self.since = 0.0
        self._last: Content | None = None
        self._timer = None

    def on_mount(self) -> None:
        self.display = self.error is not None
        self._draw()
        if self.error is not None and self.error.retry_after and self._timer is None:
            self._timer = self.set_interval(TICK, self._draw)

    def show_error(self, error: ev.Error | ev.RateLimitError, *, since: float | None = None) -> None:
        """Show this rate limit; the countdown runs from `since` (the clock's time it arrived)."""
        self.error = error
        self.since = self.clock() if since is None else since
        self.display = True
        self._draw()
        if self.is_mounted and self._timer is None and error.retry_after:
            self._timer = self.set_interval(TICK, self._draw)

    def hide(self) -> None:
        self.error = None
        self.display = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def seconds_left(self) -> float:
        error = self.error
        if error is None or error.retry_after is None:
            return 0.0
        return max(0.0, error.retry_after - (self.clock() - self.since))

    @property
    def text(self) -> str:
        return self._last.plain if self._last is not None and self.display else ""

    def _draw(self) -> None:
        error = self.error
        if error is None or not self.is_mounted:
            return
        left = self.seconds_left()
        content = rate_limit_content(error, left)
        if content != self._last:
            self._last = content
            self.update(content)
        if left <= 0 and self._timer is not None:
            self._timer.stop()
            self._timer = None
