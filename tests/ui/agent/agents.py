"""A scripted agent for the embedded server: a provider's rate limit, as the Go server reports it."""

from __future__ import annotations

from tui.server.agent.base import stream_text


class RateLimitAgent:
    """Starts answering, then ends the turn with `rate_limit_error` (retryAfter 20 s, attempt 2 of 8)."""

    async def run_turn(self, ctx, text: str) -> None:
        await stream_text(ctx, "content", "Reading the repository")
        await ctx.emit("rate_limit_error", {
            "type": "rate_limit_error",
            "error": "anthropic: 429 Too Many Requests: rate_limit_error",
            "retryAfter": 20, "attempt": 2, "maxAttempts": 8,
        })
