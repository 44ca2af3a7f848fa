"""The state of one turn, folded from events. Pure Python: the UI renders from it, tests assert on it.

A turn is a sequence of blocks in arrival order (thinking, text, tool call, text, ...), so the
view can show the agent's preamble, its tool calls and its final answer where they happened.
Deltas are appended to lists and joined lazily: feeding 3,000 deltas costs 3,000 list appends,
and the view joins at most once per frame. `version` grows on every change; a view compares it
with the last version it drew and does nothing when they are equal.
"""

from __future__ import annotations

import enum
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tui.api import events as ev

CANCEL_MESSAGES = ("request cancelled by user", "context canceled", "context cancelled")


class TurnStatus(enum.Enum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    ERROR = "error"
    RATE_LIMITED = "rate_limited"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not TurnStatus.STREAMING


class ToolStatus(enum.Enum):
    PREPARING = "preparing"  # parameters still streaming
    READY = "ready"  # parameters complete, not yet executing
    RUNNING = "running"
    WAITING_PERMISSION = "waiting_permission"
    DONE = "done"
    FAILED = "failed"


class _Text:
    """Append-only text with a cached join."""

    __slots__ = ("_parts", "_joined", "_joined_len", "length")

    def __init__(self, initial: str = "") -> None:
        self._parts: list[str] = [initial] if initial else []
        self._joined = initial
        self._joined_len = len(self._parts)
        self.length = len(initial)

    def append(self, text: str) -> None:
        self._parts.append(text)
        self.length += len(text)

    def replace(self, text: str) -> None:
        self._parts = [text]
        self._joined = text
        self._joined_len = 1
        self.length = len(text)

    @property
    def text(self) -> str:
        if self._joined_len != len(self._parts):
            self._joined = "".join(self._parts)
            self._parts = [self._joined] if self._joined else []
            self._joined_len = len(self._parts)
        return self._joined


@dataclass(eq=False)
class ThinkingBlock:
    content: _Text = field(default_factory=_Text)
    started_at: float = field(default_factory=time.monotonic)
    duration: float | None = None  # seconds, from the server's `reasoningDuration` or measured

    @property
    def text(self) -> str:
        return self.content.text


@dataclass(eq=False)
class TextBlock:
    content: _Text = field(default_factory=_Text)

    @property
    def text(self) -> str:
        return self.content.text


@dataclass(eq=False)
class PermissionState:
    request: ev.PermissionRequest
    received_at: float = field(default_factory=time.monotonic)
    timeout: float = 30.0
    answer: bool | None = None  # True granted (or a question answered), False denied, None pending
    clock: Callable[[], float] = time.monotonic  # the clock `received_at` was read from
    question: ev.Notification | None = None  # an agent's question: it waits in the same queue and countdown
    settled_by_server: bool = False  # the server decided before the user answered (its auto-deny)

    @property
    def auto_denied(self) -> bool:
        return self.settled_by_server and self.answer is False

    @property
    def deadline(self) -> float:
        return self.received_at + self.timeout

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.deadline - (self.clock() if now is None else now))


@dataclass(eq=False)
class ToolCall:
    id: str
    name: str
    input: str = ""
    status: ToolStatus = ToolStatus.PREPARING
    progress: str = ""
    success: bool | None = None
    result: str | None = None  # from message history, or read back from it once the call finished (ToolResult)
    is_error: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    permission: PermissionState | None = None
    sub_agent_text: _Text = field(default_factory=_Text)  # output of a sub-agent this call spawned
    _input_parts: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic  # the clock started_at/finished_at come from

    @property
    def params(self) -> dict[str, Any] | None:
        """The parameters as a dict once they parse; None while incomplete or not JSON."""
        if not self.input:
            return None
        try:
            value = json.loads(self.input)
        except ValueError:
            return None
        return value if isinstance(value, dict) else {"value": value}

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else self.clock()
        return end - self.started_at

    @property
    def kind(self) -> str:
        """A lower-case name without MCP prefixes, for choosing how to render: bash, write, edit, todo_write, ..."""
        return tool_kind(self.name)


_KIND_ALIASES = {"todowrite": "todo_write", "exitplanmode": "exit_plan_mode", "readtext": "read", "read_text": "read"}


def tool_kind(name: str) -> str:
    """One name for a tool however the server spells it: the latest spec's core names (`Bash`,
    `ReadText`, `TodoWrite`) and its `mix_` prefix for other tools (`mix_ls`) become bash, read,
    todo_write, ls."""
    name = name.lower()
    if name.startswith("mix_"):
        name = name[len("mix_"):]
    return _KIND_ALIASES.get(name, name)


Block = ThinkingBlock | TextBlock | ToolCall


@dataclass(eq=False)
class TurnModel:
    """Everything known about one turn. Feed events with `apply`; read the fields to render."""

    user_text: str = ""
    user_message_id: str | None = None
    blocks: list[Block] = field(default_factory=list)
    tools: dict[str, ToolCall] = field(default_factory=dict)
    status: TurnStatus = TurnStatus.STREAMING
    message_id: str | None = None
    error: ev.Error | ev.RateLimitError | None = None
    started_at: float = None  # type: ignore[assignment]  # set from `clock` when not given
    finished_at: float | None = None
    version: int = 0
    permission_timeout: float = 30.0
    clock: Callable[[], float] = time.monotonic

    # ------------------------------------------------------------------ reading

    @property
    def thinking(self) -> str:
        return "".join(b.text for b in self.blocks if isinstance(b, ThinkingBlock))

    @property
    def answer(self) -> str:
        """All answer text of the turn, preamble included, in order; the pieces a tool call or thinking
        came between are separate paragraphs ("I'll read `app.py`." then "Here is…", not run together)."""
        pieces = [b.text.strip("\n") for b in self.blocks if isinstance(b, TextBlock)]
        return "\n\n".join(p for p in pieces if p)

    @property
    def final_text(self) -> str:
        """The text after the last tool call (what `complete.content` carries)."""
        for block in reversed(self.blocks):
            if isinstance(block, TextBlock):
                return block.text
            if isinstance(block, ToolCall):
                return ""
        return ""

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [b for b in self.blocks if isinstance(b, ToolCall)]

    @property
    def pending_permissions(self) -> list[PermissionState]:
        return [t.permission for t in self.tools.values() if t.permission and t.permission.answer is None] + [
            p for p in self._orphan_permissions if p.answer is None
        ]

    @property
    def duration(self) -> float:
        return (self.finished_at if self.finished_at is not None else self.clock()) - self.started_at

    # ------------------------------------------------------------------ folding

    def __post_init__(self) -> None:
        self._orphan_permissions: list[PermissionState] = []
        if self.started_at is None:
            self.started_at = self.clock()  # the same clock as every later reading, or durations mix clocks

    def apply(self, event: ev.Event) -> bool:
        """Fold one event in. Returns True when the state changed (the view may want to redraw)."""
        if self.status.finished and type(event) is not ev.ToolResult:
            return False  # deltas can straggle in after `complete`; the turn is settled
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is None:
            return False
        changed = handler(event)
        if changed is not False:
            self.version += 1
            return True
        return False

    def _on_UserMessageCreated(self, e: ev.UserMessageCreated) -> bool:
        if e.parent_tool_call_id:
            return False
        self.user_message_id = e.message_id
        if e.content and not self.user_text:
            self.user_text = e.content
        return True

    def _last_block(self) -> Block | None:
        return self.blocks[-1] if self.blocks else None

    def _sub_agent(self, parent: str | None, text: str) -> bool | None:
        """Route a sub-agent's output to the tool call that spawned it. None: not a sub-agent event."""
        if not parent:
            return None
        tool = self.tools.get(parent)
        if tool is None:
            return False
        tool.sub_agent_text.append(text)
        return True

    def _on_ThinkingDelta(self, e: ev.ThinkingDelta) -> bool:
        routed = self._sub_agent(e.parent_tool_call_id, "")
        if routed is not None:
            return False
        last = self._last_block()
        if not isinstance(last, ThinkingBlock):
            last = ThinkingBlock(started_at=self.clock())
            self.blocks.append(last)
        last.content.append(e.content)
        return True

    def _close_thinking(self) -> None:
        last = self._last_block()
        if isinstance(last, ThinkingBlock) and last.duration is None:
            last.duration = self.clock() - last.started_at

    def _on_ContentDelta(self, e: ev.ContentDelta) -> bool:
        routed = self._sub_agent(e.parent_tool_call_id, e.content)
        if routed is not None:
            return routed
        self._close_thinking()
        last = self._last_block()
        if not isinstance(last, TextBlock):
            last = TextBlock()
            self.blocks.append(last)
        last.content.append(e.content)
        return True

    def _tool(self, tool_id: str, name: str) -> ToolCall:
        tool = self.tools.get(tool_id)
        if tool is None:
            self._close_thinking()
            tool = ToolCall(id=tool_id, name=name, clock=self.clock)
            self.tools[tool_id] = tool
            self.blocks.append(tool)
        elif name and not tool.name:
            tool.name = name
        return tool

    def _on_ToolSnapshot(self, e: ev.ToolSnapshot) -> bool:
        if e.parent_tool_call_id:
            return False
        tool = self._tool(e.id, e.name)
        if e.input:
            tool.input = e.input
        if e.status == "completed" and tool.status is ToolStatus.PREPARING:
            tool.status = ToolStatus.READY
        return True

    def _on_ToolUseStart(self, e: ev.ToolUseStart) -> bool:
        if e.parent_tool_call_id:
            return False
        self._tool(e.id, e.name)
        return True

    def _on_ToolParameterDelta(self, e: ev.ToolParameterDelta) -> bool:
        if e.parent_tool_call_id:
            return False
        tool = self._tool(e.tool_call_id, "")
        tool._input_parts.append(e.input)
        tool.input = "".join(tool._input_parts)
        return True

    def _on_ToolParametersComplete(self, e: ev.ToolParametersComplete) -> bool:
        if e.parent_tool_call_id:
            return False
        tool = self._tool(e.id, e.name)
        if e.input:
            tool.input = e.input
        if tool.status is ToolStatus.PREPARING:
            tool.status = ToolStatus.READY
        return True

    def _on_ToolExecutionStart(self, e: ev.ToolExecutionStart) -> bool:
        if e.parent_tool_call_id and e.parent_tool_call_id in self.tools and e.tool_call_id not in self.tools:
            return False
        tool = self._tool(e.tool_call_id, e.tool_name)
        tool.status = ToolStatus.RUNNING
        tool.progress = e.progress
        tool.started_at = self.clock()
        return True

    def _on_ToolExecutionComplete(self, e: ev.ToolExecutionComplete) -> bool:
        tool = self.tools.get(e.tool_call_id)
        if tool is None:
            if e.parent_tool_call_id:
                return False
            tool = self._tool(e.tool_call_id, e.tool_name)
        tool.progress = e.progress
        tool.success = e.success
        tool.status = ToolStatus.DONE if e.success else ToolStatus.FAILED
        tool.finished_at = self.clock()
        if tool.started_at is None:
            tool.started_at = tool.finished_at
        if tool.permission and tool.permission.answer is None:
            # The server settled it (granted, denied or timed out) before we heard back.
            tool.permission.answer = e.success
            tool.permission.settled_by_server = True
        return True

    def _on_ToolResult(self, e: ev.ToolResult) -> bool:
        tool = self.tools.get(e.tool_call_id)
        if tool is None or (tool.result == e.result and tool.is_error == e.is_error):
            return False
        tool.result = e.result
        tool.is_error = e.is_error
        return True

    def _on_PermissionRequest(self, e: ev.PermissionRequest) -> bool:
        state = PermissionState(request=e, received_at=self.clock(), timeout=self.permission_timeout, clock=self.clock)
        tool = self._tool_waiting_for(e.tool_name)
        if tool is None:
            self._orphan_permissions.append(state)
        else:
            tool.permission = state
            tool.status = ToolStatus.WAITING_PERMISSION
        return True

    def _on_Notification(self, e: ev.Notification) -> bool:
        """A question to the user queues with the permission requests (same prompt, same countdown)."""
        stand_in = ev.PermissionRequest(id=e.id, session_id=e.session_id, tool_name="", description=e.title,
                                        action="", path="", params={})
        timeout = e.timeout if e.timeout else self.permission_timeout
        self._orphan_permissions.append(PermissionState(request=stand_in, received_at=self.clock(), timeout=timeout,
                                                        clock=self.clock, question=e))
        return True

    def _tool_waiting_for(self, tool_name: str) -> ToolCall | None:
        """Permission events carry no tool-call id: pick the newest running call of that tool."""
        wanted = tool_name.lower()
        for block in reversed(self.blocks):
            if isinstance(block, ToolCall) and block.status is ToolStatus.RUNNING and block.permission is None:
                if not wanted or not block.name or block.name.lower() == wanted:
                    return block
        return None

    def answer_permission(self, request_id: str, granted: bool) -> bool:
        """Record the user's answer locally (the caller also tells the server)."""
        for state in [t.permission for t in self.tools.values() if t.permission] + self._orphan_permissions:
            if state.request.id == request_id and state.answer is None:
                state.answer = granted
                for tool in self.tools.values():
                    if tool.permission is state and tool.status is ToolStatus.WAITING_PERMISSION:
                        tool.status = ToolStatus.RUNNING
                self.version += 1
                return True
        return False

    def _on_Complete(self, e: ev.Complete) -> bool:
        if e.parent_tool_call_id:
            return False
        self._close_thinking()
        self.message_id = e.message_id
        if e.reasoning and not any(isinstance(b, ThinkingBlock) for b in self.blocks):
            self.blocks.insert(0, ThinkingBlock(content=_Text(e.reasoning)))
        if e.reasoning_duration is not None:
            for block in self.blocks:
                if isinstance(block, ThinkingBlock):
                    block.duration = float(e.reasoning_duration)
        # `content` is authoritative for the last assistant message: deltas may have been dropped.
        if e.content and self.final_text != e.content:
            last = self._last_block()
            if isinstance(last, TextBlock):
                last.content.replace(e.content)
            else:
                self.blocks.append(TextBlock(content=_Text(e.content)))
        self._finish(TurnStatus.COMPLETE)
        return True

    def _on_Error(self, e: ev.Error) -> bool:
        if e.parent_tool_call_id:
            return False
        self.error = e
        lowered = e.error.lower()
        if any(m in lowered for m in CANCEL_MESSAGES):
            status = TurnStatus.CANCELLED
        elif (e.type or "").lower() == "rate_limit_error":
            status = TurnStatus.RATE_LIMITED
        else:
            status = TurnStatus.ERROR
        self._finish(status)
        return True

    def _on_RateLimitError(self, e: ev.RateLimitError) -> bool:
        if e.parent_tool_call_id:
            return False
        self.error = e
        self._finish(TurnStatus.RATE_LIMITED)
        return True

    def mark_cancelled(self) -> None:
        """The user cancelled and the server will not say so (e.g. the connection is gone)."""
        if not self.status.finished:
            self._finish(TurnStatus.CANCELLED)
            self.version += 1

    def fail(self, message: str) -> None:
        """End the turn with a client-side error (send failed, stream lost for good)."""
        if not self.status.finished:
            self.error = ev.Error(error=message, type="client_error")
            self._finish(TurnStatus.ERROR)
            self.version += 1

    def _finish(self, status: TurnStatus) -> None:
        self.status = status
        self.finished_at = self.clock()
        now = self.finished_at
        for tool in self.tools.values():
            if tool.status in (ToolStatus.RUNNING, ToolStatus.WAITING_PERMISSION, ToolStatus.PREPARING, ToolStatus.READY):
                if status is not TurnStatus.COMPLETE:
                    tool.status = ToolStatus.FAILED
                    tool.finished_at = now
            if tool.permission and tool.permission.answer is None:
                tool.permission.answer = False
        for state in self._orphan_permissions:
            if state.answer is None:
                state.answer = False
