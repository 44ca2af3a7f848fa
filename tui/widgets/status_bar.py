"""One line at the bottom: server, connection, session, model, token usage and cost, turn state and elapsed time."""

from __future__ import annotations

import time
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from textual.content import Content
from textual.widgets import Static

CONNECTION_STYLES = {
    "connected": ("● connected", "$text-success"),
    "connecting": ("◌ connecting", "$text-muted"),
    "starting": ("◌ starting server…", "$text-muted"),
    "reconnecting": ("◌ reconnecting", "$text-warning"),
    "rate_limited": ("◌ rate limited, waiting", "$text-warning"),
    "offline": ("○ offline", "$text-error"),
}

TURN_STYLES = {
    "idle": ("idle", "$text-muted"),
    "streaming": ("streaming", "$text-accent"),
    "waiting_permission": ("waiting for permission", "bold $text-warning"),
    "waiting_answer": ("waiting for your answer", "bold $text-warning"),  # the agent asked a question
    "cancelled": ("cancelled", "$text-warning"),
    "error": ("error", "$text-error"),
    "rate_limited": ("rate limited", "$text-error"),
    "complete": ("done", "$text-success"),
}


def safe_url(url: str) -> str:
    """The URL without credentials or query (a token must never reach the screen)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def compact_count(n: int) -> str:
    """950 -> "950", 1234 -> "1.2k", 12345 -> "12.3k", 123456 -> "123k", 999_999 -> "1.0M"."""
    n = max(0, int(n))
    if n < 1000:
        return str(n)
    for limit, suffix in ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "G")):
        value = n / limit
        text = f"{value:.1f}"
        if float(text) >= 100:
            text = f"{value:.0f}"
        if float(text) < 1000 or suffix == "G":  # rounded up to 1000: the next suffix says it better
            return f"{text}{suffix}"
    return str(n)  # not reached


def format_cost(cost: float) -> str:
    """USD with the digits that matter: $12.34, $0.042, <$0.001 (a cent's tenth is the smallest step shown)."""
    if cost >= 100:
        return f"${cost:.0f}"
    if cost >= 1:
        return f"${cost:.2f}"
    if cost >= 0.001:
        return f"${cost:.3f}"
    return "<$0.001"


def format_usage(prompt_tokens: int, completion_tokens: int, cost: float) -> str:
    """"12.3k→1.1k tok · $0.042": the last request's tokens in and out, the session's cost so far.
    Empty when all are zero (the offline agent, MixerLead conversations)."""
    parts = []
    if prompt_tokens > 0 or completion_tokens > 0:
        parts.append(f"{compact_count(prompt_tokens)}→{compact_count(completion_tokens)} tok")
    if cost > 0:
        parts.append(format_cost(cost))
    return " · ".join(parts)


class StatusBar(Static):
    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.server = ""
        self.connection = "connecting"
        self.session = ""
        self.model = ""
        self.usage = ""  # format_usage(...) of the open session; set_usage() fills it
        self.turn_state = "idle"
        self.turn_started: float | None = None
        self.turn_ended: float | None = None
        self.plan_mode = False
        self._last: Content | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._draw)
        self._draw()

    def set(self, **fields: object) -> None:
        """Update some fields (server, connection, session, model, usage, turn_state, turn_started, turn_ended, plan_mode)."""
        for name, value in fields.items():
            if name == "server":
                value = safe_url(str(value))
            setattr(self, name, value)
        self._draw()

    def set_usage(self, prompt_tokens: int = 0, completion_tokens: int = 0, cost: float = 0.0) -> None:
        """The open session's usage (all zero: nothing shown)."""
        self.set(usage=format_usage(prompt_tokens, completion_tokens, cost))

    @property
    def elapsed(self) -> float | None:
        if self.turn_started is None:
            return None
        end = self.turn_ended if self.turn_ended is not None else self.clock()
        return max(0.0, end - self.turn_started)

    def _draw(self) -> None:
        conn_text, conn_style = CONNECTION_STYLES.get(self.connection, (self.connection, ""))
        turn_text, turn_style = TURN_STYLES.get(self.turn_state, (self.turn_state, ""))
        elapsed = self.elapsed
        if elapsed is not None and self.turn_state != "idle":
            turn_text += f" {elapsed:.0f}s"
        sep = (" │ ", "$text-muted")
        # Most useful first: what the connection and the turn are doing, then which session, model, server.
        parts: list = [(conn_text, conn_style), sep, (turn_text, turn_style)]
        if self.plan_mode:
            parts += [sep, ("⏸ plan mode", "bold $text-warning")]
        if self.session:
            title = self.session if len(self.session) <= 32 else self.session[:31] + "…"
            parts += [sep, (title, "bold")]
        if self.model:
            parts += [sep, (self.model, "$text-secondary")]
        if self.usage:
            parts += [sep, (self.usage, "$text-muted")]
        if self.server:
            parts += [sep, (self.server, "$text-muted")]
        content = Content.assemble(*parts)
        if content != self._last:
            self._last = content
            # One line, as wide as the screen (app.tcss): its size never follows its text, so no
            # layout of the screen (a full one, each second while a turn runs, the elapsed time).
            self.update(content, layout=False)

    @property
    def text(self) -> str:
        return self._last.plain if self._last is not None else ""
