"""A small decoder for the reference transcripts, so these tests do not depend on the Mix client."""

from __future__ import annotations

import json
from pathlib import Path

from tui.api import events as ev

TRANSCRIPTS = Path("/work/shared/reference/mix/transcripts")


def _frames(text: str) -> list[tuple[str, dict]]:
    frames = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            frames.append((name, json.loads("\n".join(data))))
    return frames


def _event(name: str, d: dict) -> ev.Event | None:
    parent = d.get("parentToolCallId")
    if name == "content":
        return ev.ContentDelta(d.get("content", ""), parent_tool_call_id=parent)
    if name == "thinking":
        return ev.ThinkingDelta(d.get("content", ""), parent_tool_call_id=parent)
    if name == "user_message_created":
        return ev.UserMessageCreated(d.get("messageId", ""), d.get("content", ""))
    if name == "tool":
        return ev.ToolSnapshot(d["id"], d.get("name", ""), d.get("input", ""), d.get("status", ""))
    if name == "tool_use_start":
        return ev.ToolUseStart(d["id"], d.get("name", ""))
    if name == "tool_use_parameter_delta":
        return ev.ToolParameterDelta(d["toolCallId"], d.get("input", ""))
    if name == "tool_use_parameter_streaming_complete":
        return ev.ToolParametersComplete(d["id"], d.get("name", ""), d.get("input", ""))
    if name == "tool_execution_start":
        return ev.ToolExecutionStart(d["toolCallId"], d.get("toolName", ""), d.get("progress", ""))
    if name == "tool_execution_complete":
        return ev.ToolExecutionComplete(d["toolCallId"], d.get("toolName", ""), d.get("progress", ""), d.get("success", True))
    if name == "permission":
        return ev.PermissionRequest(
            d["id"], d.get("sessionId", ""), d.get("toolName", ""), d.get("description", ""), d.get("action", ""), d.get("path", ""), d.get("params") or {}
        )
    if name == "complete":
        return ev.Complete(d.get("content", ""), d.get("messageId"), d.get("reasoning", ""), d.get("reasoningDuration"))
    if name == "error":
        return ev.Error(d.get("error", ""), d.get("type"))
    return None


def load_events(filename: str) -> list[ev.Event]:
    text = (TRANSCRIPTS / filename).read_text()
    return [e for name, d in _frames(text) if (e := _event(name, d)) is not None]
