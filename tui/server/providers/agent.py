"""A Mix turn run by a real model: stream its thinking and text, run its tool calls, feed results back.

The tools, permission prompts, session-folder confinement and plan-mode refusals are the offline
agent's own (`tui.server.agent.tools.execute_tool`). Events follow the seed-era order of
PROTOCOL §5.6: per tool call `tool` running → `tool` completed (input "") while the model writes
it, then after the message `tool_execution_start` → (`permission`) → `tool_execution_complete` →
`tool` completed with the full input; one `complete` at the end carrying the last message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from tui.server.agent.base import TurnContext, complete_event
from tui.server.agent.tools import TOOL_SPECS, ToolSpec, execute_tool, tool_input_json
from tui.server.providers.base import (
    ChatMessage, Provider, ProviderError, ProviderRateLimited, Stop, TextDelta, ThinkingDelta, ThinkingDone,
    ToolCall, ToolCallEnd, ToolCallStart, ToolOutcome, Usage,
)
from tui.server.providers.pricing import cost_of

log = logging.getLogger("tui.server.providers")

MAX_STEPS = 25
MAX_ATTEMPTS = 4  # per model request, for 429 / overloaded answers
RETRY_CAP = 20.0  # seconds: a longer retry-after ends the turn with rate_limit_error instead of waiting
DEFAULT_RATE_LIMIT_WAIT = 60  # what Mix reports when the provider gave no retry-after

SYSTEM_PROMPT = """You are the coding agent of mix-tui, working for the user in one session folder on their machine.

- All paths are relative to the session folder; the tools cannot reach outside it.
- Use the tools to look before you answer questions about files: ls, glob, grep, read.
- write, edit and bash change things: each call asks the user for permission first. If the user denies one, do not retry it; say what you would have done and ask how to go on.
- Keep answers short and concrete, in Markdown. Show code in fenced blocks.
- For multi-step work, keep a todo list with todo_write."""

PLAN_MODE_PROMPT = """
Plan mode is ON: you may only read (ls, glob, grep, read, todo_write). Do not call write, edit or bash; they will be refused. Investigate, then present a step-by-step plan with exit_plan_mode and wait for the user's approval."""


@dataclass
class _Step:
    """What one model request produced."""

    text: str = ""
    reasoning: str = ""
    reasoning_started: float | None = None
    reasoning_duration: float | None = None
    thinking: list = field(default_factory=list)
    calls: list[ToolCallEnd] = field(default_factory=list)
    started_calls: dict[str, str] = field(default_factory=dict)  # id -> name, streamed so far
    stop: str = ""
    streamed: bool = False  # anything reached the client (no silent retry after that)

    def end_reasoning(self) -> None:
        if self.reasoning_started is not None and self.reasoning_duration is None:
            self.reasoning_duration = time.monotonic() - self.reasoning_started


def history_messages(history: list[dict]) -> list[ChatMessage]:
    """The stored session (user / assistant / tool rows) as a conversation a provider accepts.

    Every tool call gets a result (a call without one, e.g. from a crash, gets a note) and results
    without their call are dropped: providers reject both.
    """
    out: list[ChatMessage] = []
    for row in history:
        role = row.get("role")
        text = row.get("text") or ""
        calls = row.get("tool_calls") or []
        if role == "user":
            if text.strip():
                out.append(ChatMessage("user", text))
        elif role == "assistant":
            parsed = []
            for call in calls:
                raw = call.get("input") or "{}"
                try:
                    value = json.loads(raw) if isinstance(raw, str) else raw
                except ValueError:
                    value = {}
                parsed.append(ToolCall(str(call.get("id", "")), str(call.get("name", "")),
                                       value if isinstance(value, dict) else {}))
            if text.strip() or parsed:
                out.append(ChatMessage("assistant", text, tool_calls=parsed))
        elif role == "tool":
            results = [ToolOutcome(str(c.get("id", "")), str(c.get("name", "")), str(c.get("result") or ""),
                                   bool(c.get("isError", c.get("is_error", False)))) for c in calls]
            out.append(ChatMessage("tool", results=results))
    return _pair_tool_calls(out)


def _pair_tool_calls(messages: list[ChatMessage]) -> list[ChatMessage]:
    fixed: list[ChatMessage] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.role == "tool":
            i += 1  # a result whose call message was not right before it
            continue
        fixed.append(m)
        if m.role == "assistant" and m.tool_calls:
            given = messages[i + 1].results if i + 1 < len(messages) and messages[i + 1].role == "tool" else []
            by_id = {r.call_id: r for r in given}
            results = [by_id.get(c.id) or ToolOutcome(c.id, c.name, "(no result was recorded for this call)", True)
                       for c in m.tool_calls]
            fixed.append(ChatMessage("tool", results=results))
            if given:
                i += 1
        i += 1
    return fixed


class ProviderAgent:
    """Implements tui.server.agent.base.Agent on a real model provider."""

    def __init__(self, provider: Provider, model: str, *, max_tokens: int = 4096, reasoning_effort: str = "",
                 max_steps: int = MAX_STEPS, max_attempts: int = MAX_ATTEMPTS, retry_cap: float = RETRY_CAP,
                 tools: list[ToolSpec] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.provider = provider
        self.model = model
        self.max_tokens = max_tokens
        self.reasoning_effort = reasoning_effort
        self.max_steps = max_steps
        self.max_attempts = max_attempts
        self.retry_cap = retry_cap
        self.tool_specs = list(tools if tools is not None else TOOL_SPECS)
        self._sleep = sleep

    @property
    def name(self) -> str:
        return f"{self.provider.name}/{self.model}"

    def system_prompt(self, ctx: TurnContext) -> str:
        return SYSTEM_PROMPT + (PLAN_MODE_PROMPT if ctx.plan_mode else "")

    async def run_turn(self, ctx: TurnContext, text: str) -> None:
        turn = _Turn(self, ctx)
        try:
            await turn.run(text)
        except asyncio.CancelledError:
            turn.store_canceled()
            raise


class _Turn:
    def __init__(self, agent: ProviderAgent, ctx: TurnContext) -> None:
        self.agent = agent
        self.ctx = ctx
        self.step: _Step | None = None
        self.running_calls: list[dict] = []  # stored shapes of calls whose results are not in yet
        self.last_message_id: str | None = None
        self.last_text = ""
        self.last_reasoning: tuple[str, float | None] = ("", None)

    # ------------------------------------------------------------------------ the loop

    async def run(self, text: str) -> None:
        agent, ctx = self.agent, self.ctx
        conversation = history_messages(ctx.history[:-1] if _ends_with(ctx.history, text) else ctx.history)
        conversation.append(ChatMessage("user", text))
        for _ in range(agent.max_steps):
            step = await self._request(conversation)
            if step is None:
                return  # an error or rate_limit_error already ended the turn
            if not step.calls:
                self._store(step, None, step.stop or "end_turn")
                await self._complete()
                return
            results = await self._run_tools(step)
            conversation.append(ChatMessage("assistant", step.text,
                                            tool_calls=[ToolCall(c.id, c.name, c.input) for c in step.calls],
                                            thinking=step.thinking))
            conversation.append(ChatMessage("tool", results=results))
        note = (f"I stopped after {agent.max_steps} model steps without finishing, to keep the turn bounded. "
                "Say \"continue\" to let me go on.")
        await self.ctx.emit("content", {"type": "content", "content": note})
        step = _Step(text=note)
        self._store(step, None, "max_steps")
        await self._complete()

    async def _request(self, conversation: list[ChatMessage]) -> _Step | None:
        """One model request with retries for rate limits and overload; None when the turn ended in error."""
        agent = self.agent
        attempt = 0
        while True:
            attempt += 1
            step = _Step()
            self.step = step
            try:
                await self._stream(conversation, step)
                return step
            except ProviderRateLimited as exc:
                wait = exc.retry_after
                if step.streamed or attempt >= agent.max_attempts or (wait is not None and wait > agent.retry_cap):
                    await self._fail_partial(step)
                    await self.ctx.emit("rate_limit_error", {
                        "error": exc.message, "type": "rate_limit_error",
                        "retryAfter": int(round(wait)) if wait is not None else DEFAULT_RATE_LIMIT_WAIT,
                        "attempt": attempt, "maxAttempts": agent.max_attempts})
                    return None
                log.info("%s rate limited; retry %d in %.1fs", agent.provider.name, attempt, wait or 0)
                await agent._sleep(wait if wait is not None else min(agent.retry_cap, 2.0 ** attempt))
            except ProviderError as exc:
                if exc.retryable and not step.streamed and attempt < agent.max_attempts:
                    log.info("%s failed (%s); retry %d", agent.provider.name, exc.status or exc.kind, attempt)
                    await agent._sleep(min(agent.retry_cap, 0.5 * 2.0 ** attempt))
                    continue
                await self._fail_partial(step)
                data: dict = {"error": exc.message}
                if exc.kind == "authentication_error" or exc.status == 401:
                    data["type"] = "authentication_error"
                await self.ctx.emit("error", data)
                return None

    async def _stream(self, conversation: list[ChatMessage], step: _Step) -> None:
        agent, ctx = self.agent, self.ctx
        emit = ctx.emit
        events = agent.provider.stream(conversation, model=agent.model, tools=agent.tool_specs,
                                       system=agent.system_prompt(ctx), max_tokens=agent.max_tokens,
                                       reasoning_effort=agent.reasoning_effort)
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    step.end_reasoning()
                    step.text += event.text
                    step.streamed = True
                    await emit("content", {"type": "content", "content": event.text})
                elif isinstance(event, ThinkingDelta):
                    if step.reasoning_started is None:
                        step.reasoning_started = time.monotonic()
                    step.reasoning += event.text
                    step.streamed = True
                    await emit("thinking", {"type": "thinking", "content": event.text})
                elif isinstance(event, ThinkingDone):
                    step.thinking.append(event.part)
                    step.end_reasoning()
                elif isinstance(event, ToolCallStart):
                    step.end_reasoning()
                    step.streamed = True
                    step.started_calls[event.id] = event.name
                    await emit("tool", {"type": "tool", "name": event.name, "input": "", "id": event.id,
                                        "status": "running"})
                elif isinstance(event, ToolCallEnd):
                    step.calls.append(event)
                    shown = tool_input_json(event.input) if isinstance(event.input, dict) else ""
                    await emit("tool", {"type": "tool", "name": event.name, "input": "", "id": event.id,
                                        "status": "completed", "_input": shown})  # _input: see OfflineAgent
                elif isinstance(event, Usage):
                    self._record_usage(event)
                elif isinstance(event, Stop):
                    step.stop = event.reason
        step.end_reasoning()

    def _record_usage(self, usage: Usage) -> None:
        record = getattr(self.ctx, "record_usage", None)
        if record is None:
            return
        agent = self.agent
        cost, known = cost_of(agent.provider.name, agent.model, usage)
        if not known:
            log.info("no price known for %s; its cost is counted as 0", agent.model)
        prompt = usage.input_tokens + (usage.cache_read_tokens + usage.cache_write_tokens
                                       if agent.provider.name == "anthropic" else 0)
        try:
            record(prompt, usage.output_tokens, cost)
        except Exception:  # usage is bookkeeping; it must never break the turn
            log.exception("could not store token usage")

    async def _run_tools(self, step: _Step) -> list[ToolOutcome]:
        ctx = self.ctx
        stored = [{"id": c.id, "name": c.name, "input": tool_input_json(c.input), "type": "tool_use",
                   "finished": True} for c in step.calls]
        self.running_calls = stored
        outcomes: list[ToolOutcome] = []
        for call, shape in zip(step.calls, stored):
            if call.input_error:
                text, is_error = f"The call was not run: {call.input_error}. Send the call again with complete JSON.", True
            else:
                result = await execute_tool(ctx, call.id, call.name, call.input)
                text, is_error = result.text, result.is_error
            shape["result"], shape["isError"] = text, is_error
            outcomes.append(ToolOutcome(call.id, call.name, text, is_error))
            await ctx.emit("tool", {"type": "tool", "name": call.name, "input": shape["input"], "id": call.id,
                                    "status": "completed"})
        self._store(step, stored, "tool_use")
        ctx.store_message("tool", "", tool_calls=[{"id": s["id"], "name": s["name"], "result": s["result"],
                                                   "isError": s["isError"]} for s in stored],
                          model=self.agent.model)
        self.running_calls = []
        return outcomes

    # ------------------------------------------------------------------------ storing

    def _store(self, step: _Step, tool_calls: list[dict] | None, finish_reason: str) -> str:
        step.end_reasoning()
        message_id = self.ctx.store_message("assistant", step.text, tool_calls=tool_calls, reasoning=step.reasoning,
                                            reasoning_duration=step.reasoning_duration if step.reasoning else None,
                                            finish_reason=finish_reason, model=self.agent.model)
        self.last_message_id, self.last_text = message_id, step.text
        self.last_reasoning = (step.reasoning, step.reasoning_duration if step.reasoning else None)
        self.step = None
        return message_id

    async def _complete(self) -> None:
        reasoning, duration = self.last_reasoning
        await self.ctx.emit("complete", complete_event(self.last_text, self.last_message_id, reasoning, duration))

    async def _fail_partial(self, step: _Step) -> None:
        if step.text or step.reasoning:
            self._store(step, None, "error")

    def store_canceled(self) -> None:
        """Keep what the model said before the cancel, and close its calls with "cancelled" results."""
        step = self.step
        calls = None
        if self.running_calls:
            calls = [{**c, "result": c.get("result", "Tool execution cancelled"),
                      "isError": c.get("isError", True)} for c in self.running_calls]
        if step is not None and (step.text or step.reasoning or calls):
            self._store(step, calls, "canceled")
        if calls:
            self.ctx.store_message("tool", "", tool_calls=[{"id": c["id"], "name": c["name"], "result": c["result"],
                                                            "isError": c["isError"]} for c in calls],
                                   model=self.agent.model)


def _ends_with(history: list[dict], text: str) -> bool:
    """Whether the runner already stored this turn's user message in the history it handed over."""
    return bool(history) and history[-1].get("role") == "user" and history[-1].get("text") == text
