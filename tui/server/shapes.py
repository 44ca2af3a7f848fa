"""Wire shapes (SessionData, BackendMessage/MessageData, ToolCallData) and strict body decoding,
shared by the route modules. Shapes follow the protocol in use (tui.server.protocol)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tui.server import errors, inputs
from tui.server.protocol import DEFAULT_BROWSER_MODE, Protocol, duration_ms
from tui.server.store import MessageRow, SessionRow

ENDED_EARLY = ("canceled", "interrupted", "error")  # finish reasons a client should show


def session_json(s: SessionRow, proto: Protocol, *, with_first_message: bool = False) -> dict:
    data: dict[str, Any] = {
        "id": s.id,
        "title": s.title,
        "userMessageCount": s.user_messages,
        "assistantMessageCount": s.assistant_messages,
        "toolCallCount": s.tool_messages,  # Go counts tool-result messages, not calls (PROTOCOL §2)
        "promptTokens": s.prompt_tokens,
        "completionTokens": s.completion_tokens,
        "cost": s.cost,
        "createdAt": datetime.fromtimestamp(int(s.created_at)).astimezone().isoformat(),
    }
    if proto.browser_mode_required:
        data["sessionType"] = "main"
        data["browserMode"] = s.options.get("browserMode") or DEFAULT_BROWSER_MODE
        for key in ("cdpUrl", "callbacks"):
            if s.options.get(key):
                data[key] = s.options[key]
    elif s.working_directory:
        data["workingDirectory"] = s.working_directory
    if with_first_message and s.first_user_message:
        # Go sends the stored parts JSON of the first user message; the desktop client parses it.
        data["firstUserMessage"] = json.dumps([{"type": "text", "data": {"text": s.first_user_message}}], separators=(",", ":"))
    if s.parent_session_id:
        data["parentSessionId"] = s.parent_session_id  # a later-spec field (v0.8)
    return data


def tool_call_json(call: dict, proto: Protocol) -> dict:
    raw_input = call.get("input", "")
    out: dict[str, Any] = {
        "id": str(call.get("id", "")),
        "name": proto.tool_name(str(call.get("name", ""))),
        "input": raw_input if isinstance(raw_input, str) else json.dumps(raw_input),
        "type": str(call.get("type") or "tool_use"),
        "finished": bool(call.get("finished", True)),
    }
    if call.get("result") is not None:
        result = call["result"]
        out["result"] = result if isinstance(result, str) else json.dumps(result)
    is_error = call.get("isError", call.get("is_error"))
    if is_error is not None:
        out["isError"] = bool(is_error)
    return out


def message_json(m: MessageRow, proto: Protocol) -> dict:
    data: dict[str, Any] = {"id": m.id, "sessionId": m.session_id, "role": m.role, "userInput": m.text}
    if m.role != "user":
        data["assistantResponse"] = m.text
    if m.tool_calls:
        data["toolCalls"] = [tool_call_json(c, proto) for c in m.tool_calls]
        results = [r for c in m.tool_calls for r in c.get("callbackResults", ())]
        if results and proto.has("callbacks"):
            data["callbackResults"] = results
    if m.reasoning:
        data["reasoning"] = m.reasoning
    if m.reasoning_duration is not None:
        data["reasoningDuration"] = duration_ms(m.reasoning_duration)  # integer ms, as both specs say
    if m.model:
        data["model"] = m.model  # a later-spec field (BackendMessage)
    if m.finish_reason in ENDED_EARLY:
        data["finishReason"] = m.finish_reason  # the spec's ExportMessage field: the answer was cut short
    return data


def session_or_404(request: Request) -> SessionRow | Response:
    """The session named by the path's `id`, or the 404 to answer with."""
    sid = request.path_params["id"]
    session = request.app.state.store.get_session(sid)
    return session if session is not None else errors.not_found("Session", sid)


async def strict_body(request: Request, allowed: set[str] | frozenset[str]) -> dict | Response:
    """Decode a JSON object, rejecting unknown keys like Go's DisallowUnknownFields."""
    body = await inputs.read_json(request)  # BadInput (400) for unsound or unstorable JSON
    if not isinstance(body, dict):
        return errors.validation("body", "expected a JSON object")
    for key in body:
        if key not in allowed:
            return errors.validation("body", f'json: unknown field "{key}"')
    return body
