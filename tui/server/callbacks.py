"""Session callbacks (latest spec, `Callback`): run after each tool call whose name matches.

- `bash_script`: `sh -c bashCommand` in the session folder with CALLBACK_TOOL_RESULT, CALLBACK_TOOL_NAME,
  CALLBACK_TOOL_ID and CALLBACK_SESSION_ID set, limited to `bashTimeout` ms;
- `send_message`: `messageContent` is sent to the session as the user's next message (a new turn);
- `sub_agent`: this server has no sub-agents; the result says so (success false).
Results are kept on the tool message and listed as `callbackResults` of that message.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.server.agent.shell import run_command
from tui.server.protocol import CORE_TOOL_NAMES

if TYPE_CHECKING:
    from tui.server.store import SessionRow
    from tui.server.turns import TurnRunner

log = logging.getLogger("tui.server")

CALLBACK_TYPES = ("bash_script", "sub_agent", "send_message")
DEFAULT_BASH_TIMEOUT_MS = 120_000
MAX_BASH_TIMEOUT_MS = 600_000
_FIELDS = {"type": str, "toolName": str, "name": str, "bashCommand": str, "bashTimeout": int, "messageContent": str,
           "subAgentPrompt": str, "subAgentType": str, "excludeFromContext": bool, "includeFullHistory": bool}


def validate(raw: Any) -> list[dict] | str:
    """The callbacks as stored, or what is wrong with them."""
    if not isinstance(raw, list):
        return "callbacks must be an array"
    out = []
    for i, item in enumerate(raw):
        where = f"callbacks[{i}]"
        if not isinstance(item, dict):
            return f"{where} must be an object"
        for key, value in item.items():
            kind = _FIELDS.get(key)
            if kind is None:
                return f'{where}: unknown field "{key}"'
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return f"{where}.{key} must be a {kind.__name__}"
        if item.get("type") not in CALLBACK_TYPES:
            return f"{where}.type must be one of {', '.join(CALLBACK_TYPES)}"
        if not item.get("toolName"):
            return f"{where}.toolName is required"
        if item["type"] == "bash_script" and not item.get("bashCommand"):
            return f"{where}.bashCommand is required for bash_script"
        if item["type"] == "send_message":
            if not item.get("messageContent"):
                return f"{where}.messageContent is required for send_message"
            if item.get("excludeFromContext"):
                return f"{where}.excludeFromContext is not allowed for send_message"
        if item["type"] == "sub_agent" and not item.get("subAgentPrompt"):
            return f"{where}.subAgentPrompt is required for sub_agent"
        timeout = item.get("bashTimeout")
        if timeout is not None and not 0 < timeout <= MAX_BASH_TIMEOUT_MS:
            return f"{where}.bashTimeout must be between 1 and {MAX_BASH_TIMEOUT_MS} ms"
        out.append(dict(item))
    return out


def matches(callback: dict, tool_name: str) -> bool:
    wanted = str(callback.get("toolName", ""))
    if wanted == "*":
        return True
    names = {tool_name.lower(), CORE_TOOL_NAMES.get(tool_name.lower(), tool_name).lower()}
    return wanted.lower() in names


async def _run_one(runner: "TurnRunner", session_id: str, callback: dict, call: dict, folder: Path) -> dict:
    result: dict[str, Any] = {"tool_call_id": str(call.get("id", "")), "tool_name": str(call.get("name", "")),
                              "callback_type": callback["type"], "success": False}
    if callback.get("name"):
        result["callback_name"] = callback["name"]
    if callback.get("excludeFromContext"):
        result["exclude_from_context"] = True
    if callback["type"] == "bash_script":
        env = {**os.environ, "CALLBACK_TOOL_RESULT": str(call.get("result", "")),
               "CALLBACK_TOOL_NAME": result["tool_name"], "CALLBACK_TOOL_ID": result["tool_call_id"],
               "CALLBACK_SESSION_ID": session_id}
        timeout = callback.get("bashTimeout", DEFAULT_BASH_TIMEOUT_MS) / 1000
        outcome = await run_command(callback["bashCommand"], folder, timeout, env=env)
        result.update(success=outcome.ok, stdout=outcome.output)  # stderr is merged into stdout
        if outcome.exit_code is not None:
            result["exit_code"] = outcome.exit_code
        if outcome.timed_out:
            result["error"] = f"timed out after {timeout:g} s"
    elif callback["type"] == "send_message":
        runner.submit(session_id, callback["messageContent"])
        result["success"] = True
    else:
        result["error"] = "sub_agent callbacks are not supported by this server (it has no sub-agents)"
    return result


async def run_for_message(runner: "TurnRunner", session: "SessionRow", message_id: str, folder: Path) -> None:
    message = runner.store.get_message(message_id)
    if message is None:
        return
    calls = message.tool_calls
    changed = False
    for call in calls:
        for callback in session.options.get("callbacks", []):
            if not matches(callback, str(call.get("name", ""))):
                continue
            try:
                outcome = await _run_one(runner, session.id, callback, call, folder)
            except Exception as exc:  # a broken callback is reported on the message, never breaks the turn
                log.exception("callback failed in session %s", session.id)
                outcome = {"tool_call_id": str(call.get("id", "")), "tool_name": str(call.get("name", "")),
                           "callback_type": callback["type"], "success": False, "error": str(exc)}
            call.setdefault("callbackResults", []).append(outcome)
            changed = True
    if changed:
        runner.store.update_tool_calls(message_id, calls)
