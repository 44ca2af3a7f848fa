"""Scripted agents for the embedded server (they stand in for an LLM provider, as the offline agent does).

They talk to the server only through the TurnContext, exactly like the offline agent, so the app
sees the same SSE stream a real model would produce.
"""

from __future__ import annotations

import asyncio

from tui.server.agent.base import stream_text

THINKING = "The user wants a summary of the build. I should list the steps, then show the command."
PARTIAL_ANSWER = (
    "## Build steps\n\n"
    "1. Create the virtual environment\n"
    "2. Install the project with its dev extra\n"
    "3. Run the tests:\n\n"
    "```sh\nmake test\n```\n\n"
    "While the tests run, the"
)


class HoldingAgent:
    """Streams thinking and a partial answer, then keeps the turn open until it is cancelled."""

    async def run_turn(self, ctx, text: str) -> None:
        await stream_text(ctx, "thinking", THINKING)
        await stream_text(ctx, "content", PARTIAL_ANSWER)
        await asyncio.Event().wait()  # mid-stream for as long as the test needs


class RateLimitedAgent:
    """Starts answering, then ends the turn the way a provider's 429 does."""

    async def run_turn(self, ctx, text: str) -> None:
        await stream_text(ctx, "content", "Looking at the repository layout")
        await ctx.emit("rate_limit_error", {
            "type": "rate_limit_error",
            "error": "anthropic: 429 Too Many Requests: rate limit exceeded for this organization",
            "retryAfter": 30,
        })
