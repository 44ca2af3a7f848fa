"""Scripted agents for the embedded server: a provider's rate limit, as the Go server reports it; the
offline agent held between two updates of its todo list."""

from __future__ import annotations

import asyncio
import threading
import time

from tui.server.agent.base import stream_text
from tui.server.agent.offline import OfflineAgent

HOLD_AT_MOST = 10.0  # seconds a held agent waits for the test before going on by itself


class RateLimitAgent:
    """Starts answering, then ends the turn with `rate_limit_error` (retryAfter 20 s, attempt 2 of 8)."""

    async def run_turn(self, ctx, text: str) -> None:
        await stream_text(ctx, "content", "Reading the repository")
        await ctx.emit("rate_limit_error", {
            "type": "rate_limit_error",
            "error": "anthropic: 429 Too Many Requests: rate_limit_error",
            "retryAfter": 20, "attempt": 2, "maxAttempts": 8,
        })


class HeldTodoAgent(OfflineAgent):
    """The offline agent, stopping before its second todo_write until the test calls `release()`: the
    list's first state stays on screen however slowly the app draws (the server runs in another thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.todo_writes = 0
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    async def _todo(self, turn, steps, statuses) -> None:
        self.todo_writes += 1
        if self.todo_writes == 2:
            deadline = time.monotonic() + HOLD_AT_MOST
            while not self._released.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        await super()._todo(turn, steps, statuses)
