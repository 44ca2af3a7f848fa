"""An agent that streams exactly the chunks it was given: for benchmarks and UI tests."""

from __future__ import annotations

import asyncio
import time

from tui.server.agent.base import TurnContext, complete_event


class ScriptedAgent:
    def __init__(self, thinking_chunks: list[str], answer_chunks: list[str], *, delay: float = 0.0,
                 model: str = "scripted") -> None:
        self.thinking_chunks = list(thinking_chunks)
        self.answer_chunks = list(answer_chunks)
        self.delay = delay
        self.model = model
        self._answer = "".join(self.answer_chunks)
        self._reasoning = "".join(self.thinking_chunks)

    async def run_turn(self, ctx: TurnContext, text: str) -> None:
        emit = ctx.emit
        delay = self.delay
        sleep = asyncio.sleep
        started = time.monotonic()
        # Lean on purpose: one dict and one await per chunk, nothing else (benchmarks stream ~2,800).
        for chunk in self.thinking_chunks:
            await emit("thinking", {"type": "thinking", "content": chunk})
            if delay:
                await sleep(delay)
        thought = time.monotonic() - started if self.thinking_chunks else None
        sent = 0
        try:
            for chunk in self.answer_chunks:
                await emit("content", {"type": "content", "content": chunk})
                sent += 1
                if delay:
                    await sleep(delay)
        except asyncio.CancelledError:
            ctx.store_message("assistant", "".join(self.answer_chunks[:sent]), reasoning=self._reasoning,
                              reasoning_duration=thought, finish_reason="canceled", model=self.model)
            raise
        message_id = ctx.store_message("assistant", self._answer, reasoning=self._reasoning,
                                       reasoning_duration=thought, finish_reason="end_turn", model=self.model)
        await emit("complete", complete_event(self._answer, message_id, self._reasoning, thought))
