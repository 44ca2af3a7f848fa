"""Which Mix spec the server speaks: `openapi-latest.yaml` (default) or `openapi-seed.yaml` (`--protocol seed`).

One implementation serves both. Everything that differs between the two specs is one field of
`Protocol`, and `PROTOCOLS` below is the whole table; `Wire` turns what an agent emits (the seed
era's `tool` snapshots, durations in seconds, `rate_limit_error`) into the events of the chosen spec.

| difference                 | latest                                        | seed                              |
| -------------------------- | --------------------------------------------- | --------------------------------- |
| send reply                 | 202 {status, sessionId}, output on the stream | 200 MessageData after the turn    |
| send body                  | text, plan_mode, thinking_level, max_steps     | content (text/plan_mode accepted) |
| create-session body        | title, browserMode (required), prompt, callbacks | title, workingDirectory         |
| tool events                | tool_use_start / _parameter_delta / _complete | `tool` snapshots                  |
| other events               | user_message_created, notification, session_created/deleted | none of these      |
| tool names on the wire     | core names (Bash, Write, ...) or `mix_<name>` | as the agent names them           |
| file content type          | the file's own                                | application/octet-stream / JPEG   |
| routes only in this spec   | rewind, export, callbacks, notifications, system info, OAuth health/refresh, /api/tools, credentials-status | fork, POST /stream/{id}/message |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

SPEC_FILES = {"latest": "openapi-latest.yaml", "seed": "openapi-seed.yaml"}
BROWSER_MODES = ("electron-embedded-browser", "local-browser-service", "remote-cdp-websocket")
DEFAULT_BROWSER_MODE = "local-browser-service"  # sessions made by seed clients, which cannot say one

# The latest spec's ToolName: a core name or an MCP-style `{server}_{tool}` name.
CORE_TOOL_NAMES = {
    "bash": "Bash", "read": "ReadText", "readtext": "ReadText", "glob": "Glob", "grep": "Grep", "write": "Write",
    "edit": "Edit", "search": "Search", "todo_write": "TodoWrite", "todowrite": "TodoWrite",
    "exit_plan_mode": "ExitPlanMode", "exitplanmode": "ExitPlanMode", "show": "Show", "task": "Task",
    "readmedia": "ReadMedia", "read_media": "ReadMedia",
}
_MCP_STYLE = re.compile(r"^[a-zA-Z0-9_]+_[a-zA-Z0-9_]+$")

LATEST_EVENTS = frozenset({
    "connected", "heartbeat", "error", "complete", "thinking", "content", "tool_use_start",
    "tool_use_parameter_streaming_complete", "tool_use_parameter_delta", "tool_execution_start",
    "tool_execution_complete", "permission", "notification", "user_message_created", "session_created",
    "session_deleted",
})
SEED_EVENTS = frozenset({
    "connected", "heartbeat", "error", "complete", "thinking", "content", "tool", "tool_execution_start",
    "tool_execution_complete", "permission", "summarize",
})


@dataclass(frozen=True)
class Protocol:
    name: str
    send_accepted: bool  # 202 at once (True) or 200 MessageData after the turn
    send_fields: frozenset[str]
    create_fields: frozenset[str]
    browser_mode_required: bool
    events: frozenset[str]
    tool_use_events: bool  # tool_use_* (True) or `tool` snapshots
    spec_tool_names: bool  # tool names as the latest spec's ToolName
    native_content_types: bool  # files served with their own type (seed: octet-stream or JPEG only)
    route_groups: frozenset[str]  # the spec-only route groups this protocol has

    @property
    def spec_file(self) -> str:
        return SPEC_FILES[self.name]

    def has(self, group: str) -> bool:
        return group in self.route_groups

    def tool_name(self, name: str) -> str:
        if not self.spec_tool_names:
            return name
        core = CORE_TOOL_NAMES.get(name.lower())
        if core:
            return core
        return name if _MCP_STYLE.match(name) else f"mix_{name}"


PROTOCOLS = {
    "latest": Protocol(
        name="latest", send_accepted=True,
        send_fields=frozenset({"text", "plan_mode", "thinking_level", "max_steps", "content"}),
        create_fields=frozenset({"title", "browserMode", "callbacks", "cdpUrl", "customSystemPrompt", "promptMode",
                                 "sessionType", "subagentType"}),
        browser_mode_required=True, events=LATEST_EVENTS, tool_use_events=True, spec_tool_names=True,
        native_content_types=True,
        route_groups=frozenset({"rewind", "export", "callbacks", "notifications", "system_info", "oauth_health",
                                "llm_tools"}),
    ),
    "seed": Protocol(
        name="seed", send_accepted=False, send_fields=frozenset({"content", "text", "plan_mode"}),
        create_fields=frozenset({"title", "workingDirectory"}), browser_mode_required=False, events=SEED_EVENTS,
        tool_use_events=False, spec_tool_names=False, native_content_types=False,
        route_groups=frozenset({"fork", "stream_message"}),
    ),
}


def protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r} (choose {' or '.join(PROTOCOLS)})") from None


def duration_ms(seconds: float | None) -> int | None:
    """Agents measure in seconds; both specs put integer milliseconds on the wire."""
    return None if seconds is None else int(round(seconds * 1000))


class Wire:
    """Agent events -> the events of one protocol. Keeps which tool calls were already announced."""

    MEMORY = 4096  # tool call ids remembered (a turn has far fewer)

    def __init__(self, proto: Protocol) -> None:
        self.protocol = proto
        self._announced: dict[str, None] = {}

    def events(self, event: str, data: dict) -> Iterable[tuple[str, dict]]:
        p = self.protocol
        private = {k: data[k] for k in data if k.startswith("_")}  # for the wire only, never sent
        if private:
            data = {k: v for k, v in data.items() if k not in private}
        if event == "rate_limit_error":  # in neither spec: an `error` whose type says what it is
            event, data = "error", {**data, "type": "rate_limit_error"}
        if event == "error" and data.get("retryAfter") is not None:
            data = {**data, "retryAfter": duration_ms(float(data["retryAfter"]))}
        if event == "complete" and isinstance(data.get("reasoningDuration"), float):
            data = {**data, "reasoningDuration": duration_ms(data["reasoningDuration"])}
        if event == "tool" and p.tool_use_events:
            return self._tool_use(data, private.get("_input", ""))
        for key in ("toolName", "name"):
            if key in data and event in ("tool_execution_start", "tool_execution_complete", "permission",
                                         "tool_use_start", "tool_use_parameter_streaming_complete"):
                data = {**data, key: p.tool_name(str(data[key]))}
        if event not in p.events:
            return ()
        return ((event, data),)

    def _tool_use(self, data: dict, known_input: str) -> list[tuple[str, dict]]:
        """A `tool` snapshot -> tool_use_start (running) or the parameters, once, when first complete
        (`known_input`: the parameters an agent already has while Go's snapshot still shows none)."""
        call_id, name = str(data.get("id", "")), self.protocol.tool_name(str(data.get("name", "")))
        extra = {k: data[k] for k in ("parentToolCallId", "assistantMessageId") if data.get(k)}
        if data.get("status") == "running":
            return [("tool_use_start", {"type": "tool_use_start", "name": name, "id": call_id, **extra})]
        raw = data.get("input") or known_input
        if not raw or call_id in self._announced:
            return []
        self._announced[call_id] = None
        if len(self._announced) > self.MEMORY:
            self._announced.pop(next(iter(self._announced)))
        return [
            ("tool_use_parameter_delta", {"type": "tool_use_parameter_delta", "toolCallId": call_id, "input": raw, **extra}),
            ("tool_use_parameter_streaming_complete",
             {"type": "tool_use_parameter_streaming_complete", "name": name, "input": raw, "id": call_id, **extra}),
        ]
