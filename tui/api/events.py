"""Typed events, shared by every chat backend.

The Mix client decodes each SSE event into one of these (names follow PROTOCOL §5.4/§5.5);
other backends (MixerLead's raw text stream) produce the same `ContentDelta`/`Complete`/`Error`.
The TurnModel folds them into the state of one turn; widgets never see wire JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True, slots=True)
class Connected:
    session_id: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    pass


@dataclass(frozen=True, slots=True)
class UserMessageCreated:
    message_id: str
    content: str = ""
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    content: str
    parent_tool_call_id: str | None = None
    assistant_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContentDelta:
    content: str
    parent_tool_call_id: str | None = None
    assistant_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSnapshot:
    """Seed-era `tool` event: a snapshot of one tool call; `status` is about its parameters, not execution."""

    id: str
    name: str
    input: str = ""
    status: str = ""  # "running" while parameters stream, "completed" once they are closed
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolUseStart:
    id: str
    name: str
    parent_tool_call_id: str | None = None
    assistant_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolParameterDelta:
    tool_call_id: str
    input: str
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolParametersComplete:
    id: str
    name: str
    input: str
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolExecutionStart:
    tool_call_id: str
    tool_name: str = ""
    progress: str = ""
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolExecutionComplete:
    tool_call_id: str
    tool_name: str = ""
    progress: str = ""
    success: bool = True
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    """A tool is blocked until the user grants or denies (the server denies by itself after ~30 s)."""

    id: str
    session_id: str = ""
    tool_name: str = ""
    description: str = ""
    action: str = ""
    path: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Complete:
    content: str = ""
    message_id: str | None = None
    reasoning: str = ""
    reasoning_duration: float | None = None  # seconds
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Error:
    error: str
    type: str | None = None
    retry_after: float | None = None  # seconds
    attempt: int | None = None
    max_attempts: int | None = None
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimitError:
    error: str
    type: str | None = "rate_limit_error"
    retry_after: float | None = None  # seconds
    attempt: int | None = None
    max_attempts: int | None = None
    parent_tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Summarize:
    progress: str = ""
    done: bool = False


@dataclass(frozen=True, slots=True)
class SessionCreated:
    session_id: str
    title: str = ""
    created_at: float | None = None


@dataclass(frozen=True, slots=True)
class SessionDeleted:
    session_id: str


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    session_id: str = ""
    notification_type: str = "info"
    title: str = ""
    message: str = ""
    response_type: str = "acknowledge"
    choices: tuple[str, ...] = ()
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event name this client does not know; kept so nothing is silently lost."""

    event: str
    data: str


@dataclass(frozen=True, slots=True)
class MalformedEvent:
    """An event whose data could not be decoded; the stream goes on."""

    event: str
    data: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """Synthesised by the client, not sent by the server: the stream's connection state changed."""

    state: str  # "connected" | "reconnecting" | "offline"
    attempt: int = 0
    delay: float = 0.0  # seconds until the next attempt, when reconnecting
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TurnInProgress:
    """mix-tui's server, to a stream that connects while a turn runs: the turn's question and what its
    answer streamed so far; the live events continue from there (nothing missed, nothing twice)."""

    message_id: str  # the question's stored id
    user_text: str = ""
    answer: str = ""
    thinking: str = ""
    tools: tuple[ToolSnapshot, ...] = ()  # the calls of the answer so far (their input; results follow live)


@dataclass(frozen=True, slots=True)
class Resynced:
    """Synthesised by the client after a reconnect: the server does not replay missed events, so the
    session's messages were fetched again. `messages` are tui.api.backend.ChatMessage objects (empty
    with `error` set when the fetch failed)."""

    session_id: str
    messages: tuple[Any, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """Synthesised by the client, not sent by the server: the stream never carries a tool's output,
    so the backend reads it from the stored messages once the call has finished."""

    tool_call_id: str
    result: str
    is_error: bool = False


Event = Union[
    Connected,
    Heartbeat,
    UserMessageCreated,
    ThinkingDelta,
    ContentDelta,
    ToolSnapshot,
    ToolUseStart,
    ToolParameterDelta,
    ToolParametersComplete,
    ToolExecutionStart,
    ToolExecutionComplete,
    PermissionRequest,
    Complete,
    Error,
    RateLimitError,
    Summarize,
    SessionCreated,
    SessionDeleted,
    Notification,
    UnknownEvent,
    MalformedEvent,
    ConnectionChanged,
    TurnInProgress,
    Resynced,
    ToolResult,
]
