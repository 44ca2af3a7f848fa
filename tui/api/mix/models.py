"""Typed wire objects of the Mix REST API (openapi-seed.yaml, tolerant of openapi-latest.yaml).

Every `from_json` is forgiving: unknown keys are ignored, `null` lists read as empty, missing
optional keys take defaults, and both the spec's and the Go server's shapes are accepted where
they differ (PROTOCOL §2, §3, §9).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.api.backend import ChatMessage, Conversation
from tui.api.mix.account import (  # noqa: F401  (re-exported: their home before the split)
    AuthResult, AuthStatus, AuthValidation, OAuthStart, Preferences, PreferencesResponse, ProviderAuth, ProviderInfo,
    providers_from_json,
)
from tui.api.mix.coerce import _bool, _float, _int, _list, _obj, _opt_str, _str, parse_time
from tui.api.mix.units import duration_seconds
from tui.api.turn import ToolCall, ToolStatus

# finish reasons of an answer cut short (both spellings of cancel) -> ChatMessage.ended
ENDED_EARLY = {"canceled": "canceled", "cancelled": "canceled", "interrupted": "interrupted", "error": "error"}

_REMINDER = re.compile(r"\s*<system-reminder>.*?</system-reminder>\s*", re.DOTALL)


def strip_system_reminder(text: str) -> str:
    """Plan-mode user messages carry an appended <system-reminder> block the user never typed."""
    if "<system-reminder>" not in text:
        return text
    return _REMINDER.sub("\n", text).strip()


def first_message_text(raw: Any) -> str:
    """`firstUserMessage` is the raw stored parts JSON, e.g. `[{"type":"text","data":{"text":"hi"}}]`."""
    if not raw:
        return ""
    if not isinstance(raw, str):
        parts = raw
    else:
        stripped = raw.strip()
        if not stripped.startswith(("[", "{")):
            return strip_system_reminder(raw)
        try:
            parts = json.loads(stripped)
        except ValueError:
            return strip_system_reminder(raw)
    if isinstance(parts, dict):
        parts = [parts]
    texts: list[str] = []
    for part in _list(parts):
        if isinstance(part, str):
            texts.append(part)
            continue
        part = _obj(part)
        data = part.get("data")
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            texts.append(data["text"])
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(data, str) and part.get("type", "text") == "text":
            texts.append(data)
    return strip_system_reminder(" ".join(t for t in texts if t))


# ---------------------------------------------------------------- sessions and messages


@dataclass
class SessionData:
    id: str
    title: str = ""
    user_message_count: int = 0
    assistant_message_count: int = 0
    tool_call_count: int = 0  # Go counts tool-result messages, not calls
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    created_at: datetime | None = None
    working_directory: str = ""
    first_user_message: str = ""  # raw, as sent; see `preview`
    session_type: str = ""  # latest: main | subagent
    browser_mode: str = ""
    parent_session_id: str | None = None
    parent_tool_call_id: str | None = None
    subagent_type: str | None = None
    model_id: str | None = None
    provider: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> "SessionData":
        d = _obj(data)
        return cls(
            id=_str(d.get("id")),
            title=_str(d.get("title")),
            user_message_count=_int(d.get("userMessageCount")),
            assistant_message_count=_int(d.get("assistantMessageCount")),
            tool_call_count=_int(d.get("toolCallCount")),
            prompt_tokens=_int(d.get("promptTokens")),
            completion_tokens=_int(d.get("completionTokens")),
            cost=_float(d.get("cost")),
            created_at=parse_time(d.get("createdAt")),
            working_directory=_str(d.get("workingDirectory")),
            first_user_message=_str(d.get("firstUserMessage")) if not isinstance(d.get("firstUserMessage"), (list, dict)) else json.dumps(d["firstUserMessage"]),
            session_type=_str(d.get("sessionType")),
            browser_mode=_str(d.get("browserMode")),
            parent_session_id=_opt_str(d.get("parentSessionId")),
            parent_tool_call_id=_opt_str(d.get("parentToolCallId")),
            subagent_type=_opt_str(d.get("subagentType")),
            model_id=_opt_str(d.get("modelId")),
            provider=_opt_str(d.get("provider")),
        )

    @property
    def preview(self) -> str:
        return first_message_text(self.first_user_message)

    @property
    def message_count(self) -> int:
        return self.user_message_count + self.assistant_message_count

    def to_conversation(self) -> Conversation:
        return Conversation(
            id=self.id, title=self.title, backend="mix", created_at=self.created_at,
            message_count=self.message_count, preview=self.preview, cost=self.cost,
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
        )


@dataclass
class ToolCallData:
    id: str
    name: str = ""
    input: str = ""  # JSON text
    type: str = ""
    finished: bool = False
    result: str | None = None
    is_error: bool = False
    screenshot_urls: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> "ToolCallData":
        d = _obj(data)
        raw_input = d.get("input", "")
        raw_result = d.get("result")
        return cls(
            id=_str(d.get("id")),
            name=_str(d.get("name")),
            input=raw_input if isinstance(raw_input, str) else ("" if raw_input is None else json.dumps(raw_input)),
            type=_str(d.get("type")),
            finished=_bool(d.get("finished")),
            result=None if raw_result is None else (raw_result if isinstance(raw_result, str) else json.dumps(raw_result)),
            is_error=_bool(d.get("isError", d.get("is_error"))),
            screenshot_urls=[_str(u) for u in _list(d.get("screenshotUrls"))],
        )

    def to_tool_call(self) -> ToolCall:
        if self.result is not None:
            status = ToolStatus.FAILED if self.is_error else ToolStatus.DONE
        else:
            status = ToolStatus.DONE if self.finished else ToolStatus.READY
        return ToolCall(id=self.id, name=self.name, input=self.input, status=status, result=self.result,
                        is_error=self.is_error, success=None if self.result is None else not self.is_error)


@dataclass
class MessageData:
    """`MessageData` (seed) / `BackendMessage` (latest)."""

    id: str
    session_id: str = ""
    role: str = ""
    user_input: str = ""
    assistant_response: str = ""
    tool_calls: list[ToolCallData] = field(default_factory=list)
    reasoning: str = ""
    reasoning_duration: float | None = None  # seconds
    model: str = ""
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    finish_reason: str = ""  # latest spec; our server sends it only for an answer cut short (ENDED_EARLY)

    @classmethod
    def from_json(cls, data: Any) -> "MessageData":
        d = _obj(data)
        return cls(
            id=_str(d.get("id")),
            session_id=_str(d.get("sessionId")),
            role=_str(d.get("role")),
            user_input=_str(d.get("userInput", d.get("text", d.get("content")))),
            assistant_response=_str(d.get("assistantResponse")),
            tool_calls=[ToolCallData.from_json(t) for t in _list(d.get("toolCalls"))],
            reasoning=_str(d.get("reasoning")),
            reasoning_duration=duration_seconds(d.get("reasoningDuration")),  # ms (spec) or s (Go)
            model=_str(d.get("model")),
            cost=_float(d.get("cost")),
            input_tokens=_int(d.get("inputTokens")),
            output_tokens=_int(d.get("outputTokens")),
            cache_creation_tokens=_int(d.get("cacheCreationTokens")),
            cache_read_tokens=_int(d.get("cacheReadTokens")),
            finish_reason=_str(d.get("finishReason")),
        )

    @property
    def ended(self) -> str:
        """How an answer was cut short ("canceled", "interrupted", "error"), or "" when it finished."""
        reason = self.finish_reason.lower()
        return ENDED_EARLY.get(reason, "") if self.role != "user" else ""

    @property
    def text(self) -> str:
        if self.role == "user":
            return strip_system_reminder(self.user_input)
        return self.assistant_response or self.user_input


def to_chat_messages(messages: list[MessageData], start: int = 0) -> list[ChatMessage]:
    """History in the backend-neutral shape. `index` counts every stored message (what fork counts),
    from `start` (the index of `messages[0]`); results of `role:"tool"` messages are merged into the
    preceding assistant's tool calls, and the tool messages themselves are dropped from the list."""
    out: list[ChatMessage] = []
    open_calls: dict[str, ToolCall] = {}
    for index, m in enumerate(messages, start):
        if m.role == "tool":
            for result in m.tool_calls:
                call = open_calls.get(result.id)
                if call is None:
                    continue
                if result.result is not None:
                    call.result = result.result
                    call.is_error = result.is_error
                    call.success = not result.is_error
                    call.status = ToolStatus.FAILED if result.is_error else ToolStatus.DONE
            continue
        calls = [t.to_tool_call() for t in m.tool_calls]
        if m.role == "assistant":
            open_calls = {c.id: c for c in calls}
        out.append(ChatMessage(
            id=m.id, role=m.role or "assistant", text=m.text, reasoning=m.reasoning,
            reasoning_duration=m.reasoning_duration, tool_calls=calls, model=m.model, index=index, ended=m.ended,
        ))
    return out


# ---------------------------------------------------------------- files


@dataclass
class FileInfo:
    name: str
    size: int = 0
    modified: datetime | None = None
    is_dir: bool = False
    original_name: str | None = None
    url: str | None = None  # latest servers only

    @classmethod
    def from_json(cls, data: Any) -> "FileInfo":
        d = _obj(data)
        modified = d.get("modified")
        return cls(
            name=_str(d.get("name")),
            size=_int(d.get("size")),
            modified=None if not modified else parse_time(modified),
            is_dir=_bool(d.get("isDir")),
            original_name=_opt_str(d.get("originalName")),
            url=_opt_str(d.get("url")),
        )


# ---------------------------------------------------------------- commands, MCP, tools, health


@dataclass
class Command:
    name: str
    description: str = ""
    type: str = ""  # Go only: builtin | file
    usage: str = ""  # spec only

    @classmethod
    def from_json(cls, data: Any) -> "Command":
        d = _obj(data)
        return cls(name=_str(d.get("name")), description=_str(d.get("description")), type=_str(d.get("type")), usage=_str(d.get("usage")))


@dataclass
class McpTool:
    name: str
    description: str = ""


@dataclass
class McpServer:
    name: str
    connected: bool = False
    status: str = ""
    tools: list[McpTool] = field(default_factory=list)
    # mix-tui's embedded server only: why it is not connected, its last stderr lines, when it retries
    error: str = ""
    stderr: list[str] = field(default_factory=list)
    retry_in: int | None = None
    read_only: bool = False

    @classmethod
    def from_json(cls, data: Any) -> "McpServer":
        d = _obj(data)
        tools = [McpTool(_str(_obj(t).get("name")), _str(_obj(t).get("description"))) for t in _list(d.get("tools"))]
        connected = _bool(d.get("connected"))
        retry = d.get("retryIn")
        return cls(name=_str(d.get("name")), connected=connected, status=_str(d.get("status"), "connected" if connected else ""), tools=tools,
                   error=_str(d.get("error")), stderr=[_str(line) for line in _list(d.get("stderr"))],
                   retry_in=retry if isinstance(retry, int) and not isinstance(retry, bool) else None,
                   read_only=_bool(d.get("readOnly")))


@dataclass
class ToolProvider:
    provider: str
    authenticated: bool = False
    display_name: str = ""
    description: str = ""
    requires_key: bool = False
    api_key_format: str = ""


@dataclass
class ToolCategory:
    id: str
    display_name: str = ""
    description: str = ""
    icon: str = ""
    tools: list[ToolProvider] = field(default_factory=list)


@dataclass
class ToolsStatus:
    """`/api/tools/status`: `tools` is a map keyed by provider (Go) or an array (spec); both read."""

    categories: dict[str, ToolCategory] = field(default_factory=dict)
    sandbox: str = ""  # our server's extension: how the shell tool is confined, e.g. "on (bubblewrap: …)"

    @classmethod
    def from_json(cls, data: Any) -> "ToolsStatus":
        out = {}
        for cat_id, value in _obj(_obj(data).get("categories")).items():
            v = _obj(value)
            raw_tools = v.get("tools")
            items: list[tuple[str, dict]] = []
            if isinstance(raw_tools, dict):
                items = [(str(k), _obj(t)) for k, t in raw_tools.items()]
            else:
                items = [(_str(_obj(t).get("provider")), _obj(t)) for t in _list(raw_tools)]
            tools = [
                ToolProvider(
                    provider=name, authenticated=_bool(t.get("authenticated")),
                    display_name=_str(t.get("display_name"), name), description=_str(t.get("description")),
                    requires_key=_bool(t.get("requires_key", t.get("api_key_required"))),
                    api_key_format=_str(t.get("api_key_format")),
                )
                for name, t in items
            ]
            out[str(cat_id)] = ToolCategory(id=str(cat_id), display_name=_str(v.get("display_name"), str(cat_id)),
                                            description=_str(v.get("description")), icon=_str(v.get("icon")), tools=tools)
        return cls(categories=out, sandbox=_str(_obj(_obj(data).get("sandbox")).get("description")))


@dataclass
class Health:
    status: str = ""
    timestamp: datetime | None = None
    version: str = ""
    environment: str = ""
    services: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> "Health":
        d = _obj(data)
        return cls(status=_str(d.get("status")), timestamp=parse_time(d.get("timestamp")), version=_str(d.get("version")),
                   environment=_str(d.get("environment")), services={str(k): _str(v) for k, v in _obj(d.get("services")).items()})

    @property
    def ok(self) -> bool:
        return self.status.lower() in ("ok", "healthy")


# ---------------------------------------------------------------- small results


@dataclass
class PermissionResult:
    """Go: `{status:"granted"|"denied", id, message}`; spec: `{granted:true}` / `{denied:true}`."""

    granted: bool
    id: str = ""
    message: str = ""

    @classmethod
    def from_json(cls, data: Any, *, granted: bool, request_id: str = "") -> "PermissionResult":
        d = _obj(data)
        status = _str(d.get("status")).lower()
        if "granted" in d:
            value = _bool(d.get("granted"))
        elif "denied" in d:
            value = not _bool(d.get("denied"))
        elif status in ("granted", "denied"):
            value = status == "granted"
        else:
            value = granted
        return cls(granted=value, id=_str(d.get("id"), request_id), message=_str(d.get("message")))


@dataclass
class CancelResult:
    """Go: `{status:"cancelled", sessionId}`; spec: `{cancelled:true}`."""

    cancelled: bool
    session_id: str = ""

    @classmethod
    def from_json(cls, data: Any, session_id: str = "") -> "CancelResult":
        d = _obj(data)
        if "cancelled" in d:
            value = _bool(d.get("cancelled"))
        else:
            value = _str(d.get("status"), "cancelled").lower() in ("cancelled", "canceled", "ok")
        return cls(cancelled=value, session_id=_str(d.get("sessionId"), session_id))


@dataclass
class SendResult:
    """A REST send: 200 MessageData (seed: after the whole turn) or 202 `{status:"processing"}` (latest)."""

    accepted: bool
    processing: bool = False  # True: the turn runs on; its output arrives only on the stream
    message: MessageData | None = None
    status: str = ""
    session_id: str = ""


@dataclass
class BroadcastResult:
    """`POST /stream/{id}/message`: `{status:"broadcasted", sessionId}`."""

    status: str = ""
    session_id: str = ""

    @classmethod
    def from_json(cls, data: Any) -> "BroadcastResult":
        d = _obj(data)
        return cls(status=_str(d.get("status")), session_id=_str(d.get("sessionId")))
