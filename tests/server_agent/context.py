"""A real, in-memory TurnContext for driving agents in tests: records every event, answers
permission requests the way the test says, keeps stored messages in a list."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable


@dataclass
class RecordingContext:
    session_dir: Path
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    plan_mode: bool = False
    chunk_delay: float = 0.0
    history: list[dict] = field(default_factory=list)
    # "grant", "deny", "timeout" (no answer within permission_timeout), or a coroutine function deciding
    permission_answer: str | Callable[[dict], Awaitable[bool]] = "grant"
    permission_timeout: float = 0.05
    events: list[tuple[str, dict]] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    on_event: Callable[[str, dict], None] | None = None

    async def emit(self, event: str, data: dict) -> None:
        self.events.append((event, data))
        if self.on_event is not None:
            self.on_event(event, data)

    async def request_permission(self, *, tool_name: str, description: str, action: str, path: str,
                                 params: dict) -> bool:
        request = {"type": "permission", "id": str(uuid.uuid4()), "sessionId": self.session_id,
                   "toolName": tool_name, "description": description, "action": action, "path": path,
                   "params": params}
        await self.emit("permission", request)
        answer = self.permission_answer
        if callable(answer):
            return await answer(request)
        if answer == "timeout":
            # Nobody answers: the server's timer runs out and that counts as a denial.
            waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            try:
                return await asyncio.wait_for(waiter, self.permission_timeout)
            except asyncio.TimeoutError:
                return False
        return answer == "grant"

    def store_message(self, role: str, text: str, *, tool_calls: list[dict] | None = None, reasoning: str = "",
                      reasoning_duration: float | None = None, finish_reason: str = "", model: str = "") -> str:
        message_id = str(uuid.uuid4())
        self.messages.append({"id": message_id, "role": role, "text": text, "tool_calls": tool_calls or [],
                              "reasoning": reasoning, "reasoning_duration": reasoning_duration,
                              "finish_reason": finish_reason, "model": model})
        return message_id

    # ------------------------------------------------------------------ reading helpers

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict]:
        return [data for event, data in self.events if event == name]

    def text(self, kind: str = "content") -> str:
        return "".join(d["content"] for d in self.of(kind))

    def next_turn_history(self) -> list[dict]:
        """What the server would hand the next turn as `history`."""
        return [{"role": m["role"], "text": m["text"], "tool_calls": m["tool_calls"], "reasoning": m["reasoning"]}
                for m in self.messages]
