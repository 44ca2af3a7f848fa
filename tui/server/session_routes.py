"""Latest-spec session routes: the create options (browserMode, prompt, callbacks), rewind, export and
callbacks. Under the seed protocol only the option checks for its two create fields apply."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.server import callbacks, errors
from tui.server.protocol import BROWSER_MODES, Protocol
from tui.server.shapes import session_json, session_or_404, strict_body, tool_call_json

PROMPT_MODES = {"default": None, "append": 50 * 1024, "replace": 100 * 1024}  # mode -> size limit (bytes)
MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tiff", ".svg", ".mp4", ".webm", ".mov", ".avi",
                  ".mkv", ".wmv", ".flv", ".m4v", ".mp3", ".wav", ".ogg", ".m4a", ".flac", ".pdf"}


def session_options(body: dict, proto: Protocol) -> dict | Response:
    """What a create-session body asks for beyond its title, checked as the latest spec says."""
    if not proto.browser_mode_required:
        return {}
    mode = body.get("browserMode")
    if mode is None:
        return errors.validation("browserMode", "browserMode is required")
    if mode not in BROWSER_MODES:
        return errors.validation("browserMode", f"browserMode must be one of {', '.join(BROWSER_MODES)}")
    options: dict[str, Any] = {"browserMode": mode}
    cdp = body.get("cdpUrl")
    if mode == "remote-cdp-websocket":
        if not isinstance(cdp, str) or not cdp.startswith(("ws://", "wss://")):
            return errors.validation("cdpUrl", "cdpUrl starting with ws:// or wss:// is required for remote-cdp-websocket")
        options["cdpUrl"] = cdp
    elif cdp is not None:
        return errors.validation("cdpUrl", "cdpUrl is only allowed with browserMode remote-cdp-websocket")
    if body.get("sessionType", "main") != "main":
        return errors.error(400, "API can only create main sessions. Subagent sessions are created automatically.",
                            "validation_error")
    if body.get("subagentType"):
        return errors.error(400, "subagentType cannot be set for API-created sessions.", "validation_error")
    prompt_mode = body.get("promptMode", "default")
    if prompt_mode not in PROMPT_MODES:
        return errors.error(400, "promptMode must be 'default', 'append', or 'replace'", "validation_error")
    prompt = body.get("customSystemPrompt")
    if prompt is not None:
        if not isinstance(prompt, str):
            return errors.validation("customSystemPrompt", "must be a string")
        limit = PROMPT_MODES[prompt_mode]
        if limit is not None and len(prompt.encode()) > limit:
            return errors.error(400, f"Custom prompt size ({len(prompt.encode()) // 1024}KB) exceeds {prompt_mode} "
                                     f"mode limit of {limit // 1024}KB", "validation_error")
        options["customSystemPrompt"] = prompt
    options["promptMode"] = prompt_mode
    if "callbacks" in body:
        checked = callbacks.validate(body["callbacks"])
        if isinstance(checked, str):
            return errors.validation("callbacks", checked)
        options["callbacks"] = checked
    return options


async def update_callbacks(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    body = await strict_body(request, {"callbacks"})
    if isinstance(body, Response):
        return body
    if "callbacks" not in body:
        return errors.validation("callbacks", "callbacks is required (an empty array clears them)")
    checked = callbacks.validate(body["callbacks"])
    if isinstance(checked, str):
        return errors.validation("callbacks", checked)
    state = request.app.state
    updated = state.store.update_session_options(session.id, {"callbacks": checked})
    return JSONResponse(session_json(updated, state.protocol))


async def rewind(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    body = await strict_body(request, {"messageId", "cleanupMedia"})
    if isinstance(body, Response):
        return body
    message_id, cleanup = body.get("messageId"), body.get("cleanupMedia", True)
    if not isinstance(message_id, str) or not message_id:
        return errors.validation("messageId", "messageId is required")
    if not isinstance(cleanup, bool):
        return errors.validation("cleanupMedia", "must be true or false")
    state = request.app.state
    if state.runner.is_running(session.id):
        return errors.bad_request("The session is answering; cancel the turn before rewinding it")
    kept = state.store.rewind_session(session.id, message_id)
    if kept is None:
        return errors.not_found("Message", message_id)
    if cleanup:
        _remove_media_after(state.settings.storage_dir / session.id, kept.created_at)
    return JSONResponse(session_json(state.store.get_session(session.id), state.protocol))


def _remove_media_after(folder: Path, since: float) -> None:
    """Media files made after the kept message go with the messages that made them."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        try:
            if entry.is_file() and not entry.is_symlink() and entry.suffix.lower() in MEDIA_SUFFIXES \
                    and entry.stat().st_mtime > since:
                entry.unlink()
        except OSError:
            continue


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


async def export(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    state = request.app.state
    messages = state.store.list_messages(session.id)
    out = []
    for m in messages:
        item: dict[str, Any] = {"id": m.id, "role": m.role, "content": m.text, "createdAt": _iso(m.created_at),
                                "updatedAt": _iso(m.created_at)}
        for key, value in (("finishReason", m.finish_reason), ("model", m.model), ("reasoning", m.reasoning)):
            if value:
                item[key] = value
        if m.reasoning_duration is not None:
            item["reasoningDuration"] = int(round(m.reasoning_duration * 1000))
        if m.tool_calls:
            item["toolCalls"] = [_export_call(c, state.protocol) for c in m.tool_calls]
        out.append(item)
    updated = max([session.created_at] + [m.created_at for m in messages])
    body = {
        "id": session.id, "title": session.title, "createdAt": _iso(session.created_at), "updatedAt": _iso(updated),
        "userMessageCount": session.user_messages, "assistantMessageCount": session.assistant_messages,
        "toolCallCount": session.tool_messages, "promptTokens": session.prompt_tokens,
        "completionTokens": session.completion_tokens, "cost": session.cost, "messages": out,
    }
    return JSONResponse(body, headers={"Content-Disposition": f"attachment; filename=session_{session.id}_transcript.json"})


def _export_call(call: dict, proto: Protocol) -> dict:
    shaped = tool_call_json(call, proto)
    shaped.pop("isError", None)
    try:
        parsed = json.loads(shaped["input"]) if shaped["input"] else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        shaped["inputJson"] = parsed
    return shaped


def routes(proto: Protocol) -> list[Route]:
    out = []
    if proto.has("callbacks"):
        out.append(Route("/api/sessions/{id}/callbacks", update_callbacks, methods=["PATCH"]))
    if proto.has("rewind"):
        out.append(Route("/api/sessions/{id}/rewind", rewind, methods=["POST"]))
    if proto.has("export"):
        out.append(Route("/api/sessions/{id}/export", export, methods=["GET"]))
    return out
