"""The contract between an agent and the server's turn runner, plus small helpers every agent uses.

The server implements `TurnContext`; an agent only talks to the world through it: events go out
with `emit`, approvals come back from `request_permission`, messages are kept with `store_message`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import string
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class TurnContext(Protocol):
    session_id: str
    session_dir: Path  # the session's folder, exists; tools never reach outside it
    plan_mode: bool
    chunk_delay: float  # seconds between streamed chunks (0 in tests)
    history: list[dict]  # earlier messages of this session as stored: {"role","text","tool_calls","reasoning"}

    async def emit(self, event: str, data: dict) -> None:
        """One SSE event to every connection of this session, in order."""

    async def request_permission(
        self, *, tool_name: str, description: str, action: str, path: str, params: dict
    ) -> bool:
        """Emit `permission` and wait for grant/deny/timeout; True only if granted."""

    def store_message(
        self,
        role: str,
        text: str,
        *,
        tool_calls: list[dict] | None = None,
        reasoning: str = "",
        reasoning_duration: float | None = None,
        finish_reason: str = "",
        model: str = "",
    ) -> str:
        """Persist one message; returns its id."""


@runtime_checkable
class Agent(Protocol):
    async def run_turn(self, ctx: TurnContext, text: str) -> None: ...


# ---------------------------------------------------------------------------------- helpers

_ALPHABET = string.ascii_letters + string.digits


def new_tool_call_id() -> str:
    """An Anthropic-style tool call id (`toolu_01…`), what Mix clients are used to seeing."""
    return "toolu_01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def _trim(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def go_duration(seconds: float) -> str:
    """Format like Go's time.Duration.String (18.402ms, 4.211s, 1m2.5s), at microsecond precision."""
    ns = int(round(seconds * 1e9))
    if ns <= 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return _trim(ns / 1e3) + "µs"
    if ns < 1_000_000_000:
        return _trim(ns / 1e6) + "ms"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = ""
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + _trim(rest / 1e9) + "s"


_CHUNK = re.compile(r"\s*\S+|\s+")


def split_chunks(text: str) -> list[str]:
    """Word-sized pieces that concatenate back to `text` exactly (leading whitespace rides along)."""
    return _CHUNK.findall(text)


STREAMED_WORDS = 1000  # a longer text (a file's content, a command's output) sends its rest in one event


async def stream_text(ctx: TurnContext, kind: str, text: str) -> None:
    """Emit `text` as `thinking` or `content` deltas, a word at a time, `ctx.chunk_delay` apart; past
    STREAMED_WORDS words the rest goes out at once (a 10 MB file word by word took minutes)."""
    delay = ctx.chunk_delay
    emit = ctx.emit
    pieces = split_chunks(text)
    if len(pieces) > STREAMED_WORDS:
        pieces = [*pieces[:STREAMED_WORDS], "".join(pieces[STREAMED_WORDS:])]
    for piece in pieces:
        await emit(kind, {"type": kind, "content": piece})
        if delay > 0:
            await asyncio.sleep(delay)


def complete_event(content: str, message_id: str | None, reasoning: str = "",
                   reasoning_duration: float | None = None) -> dict:
    """The `complete` payload in Go field order, empty optional fields left out (Go omitempty)."""
    data: dict = {"type": "complete"}
    if content:
        data["content"] = content
    if message_id:
        data["messageId"] = message_id
    data["done"] = True
    if reasoning:
        data["reasoning"] = reasoning
        if reasoning_duration is not None:
            data["reasoningDuration"] = round(reasoning_duration, 3)
    return data
