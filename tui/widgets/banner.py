"""The reconnect banner: shown while the event stream is down, or a rate limit is waited out, with the time of the next try."""

from __future__ import annotations

import time
from typing import Callable

from textual.content import Content
from textual.widgets import Static


class ReconnectBanner(Static):
    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.state = "connected"
        self.attempt = 0
        self.retry_at: float | None = None
        self.reason = ""

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(0.5, self._draw)

    def show_state(self, state: str, *, attempt: int = 0, delay: float = 0.0, reason: str = "") -> None:
        """state: "connected" hides the banner; "reconnecting"/"rate_limited"/"offline" show it."""
        self.state = state
        self.attempt = attempt
        self.retry_at = self.clock() + delay if state in ("reconnecting", "rate_limited") else None
        self.reason = reason
        self.display = state != "connected"
        self._draw()

    @property
    def text(self) -> str:
        return self._content().plain

    def _content(self) -> Content:
        reason = f" ({self.reason})" if self.reason else ""
        if self.state == "offline":
            return Content.assemble(("⚠ Server unreachable", "bold"), reason, " · your text and the conversation are kept")
        if self.state == "refused":  # it answered, with an error: "unreachable" would send the user the wrong way
            return Content.assemble(("⚠ The server answered with an error", "bold"), reason,
                                    " · is it a Mix server? · retrying · your text is kept")
        left = max(0.0, (self.retry_at or 0.0) - self.clock())
        attempt = f" · attempt {self.attempt}" if self.attempt else ""
        if self.state == "rate_limited":  # the server is there and asked us to wait: not a lost connection
            when = f"retrying in {left:.0f} s" if left >= 0.5 else "retrying now…"
            return Content.assemble(("⏳ Rate limited", "bold"), reason, f" · {when}{attempt} · your text is kept")
        when = f"next try in {left:.0f} s" if left >= 0.5 else "trying now…"
        return Content.assemble(("⚠ Connection lost", "bold"), reason, f" · reconnecting, {when}{attempt}")

    def _draw(self) -> None:
        if self.display:
            self.update(self._content())
