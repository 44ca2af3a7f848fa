"""The agent's tools: what they accept (JSON schema), what they may touch, and how one call runs.

Every path is resolved inside the session folder; anything that would leave it (`..`, an absolute
path elsewhere, a symlink pointing out) is refused with a tool error. Tools that change something
(write, edit, bash) ask the user first and are refused outright in plan mode. `execute_tool` emits
the `tool_execution_start` / `tool_execution_complete` events around each call; the `tool`
snapshots belong to whoever issued the call (the agent), because they describe its message.
"""

from __future__ import annotations

import asyncio
import difflib
import fnmatch
import json
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Protocol

from tui.server import safefs
from tui.server.agent.base import TurnContext, go_duration
from tui.server.agent.shell import OUTPUT_CAP, clamp_timeout, run_command
from tui.server.sandbox import UNCONFINED

PLAN_MODE_REFUSAL = "plan mode is on: the agent may only read"
READ_LINE_LIMIT = 2000
READ_LINE_WIDTH = 2000
LIST_LIMIT = 500
GREP_MATCH_LIMIT = 200
MAX_TEXT_BYTES = 10 * 1024 * 1024  # read/grep/edit refuse (or skip) files larger than this
MAX_DIFF_CHARS = 100_000  # the permission prompt's diff is cut here; the change itself is not
HIDDEN_NAMES = {".thumbnails"}  # the files endpoint's thumbnail cache, not the user's files


@dataclass
class ToolSpec:
    name: str
    description: str
    input_schema: dict
    read_only: bool  # True: runs without asking and is allowed in plan mode


@dataclass
class ToolResult:
    text: str
    is_error: bool = False
    metadata: dict = field(default_factory=dict)


class ToolError(Exception):
    """A refusal or failure the model should read as the tool's (error) result."""


def _schema(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_PATH = {"type": "string", "description": "Path relative to the session folder."}

TOOL_SPECS: list[ToolSpec] = [
    ToolSpec("ls", "List the entries of a folder inside the session folder (not recursive).",
             _schema({"path": {**_PATH, "description": "Folder to list; default: the session folder."}}, []), True),
    ToolSpec("glob", "Find files whose relative path matches a glob pattern such as **/*.md.",
             _schema({"pattern": {"type": "string"}, "path": {**_PATH, "description": "Folder to search in; default: the session folder."}},
                     ["pattern"]), True),
    ToolSpec("read", f"Read a text file. Returns numbered lines; at most {READ_LINE_LIMIT} lines unless `limit` says fewer.",
             _schema({"file_path": _PATH,
                      "offset": {"type": "integer", "minimum": 0, "description": "First line to return, 0-based."},
                      "limit": {"type": "integer", "minimum": 1, "description": "How many lines to return."}},
                     ["file_path"]), True),
    ToolSpec("grep", "Search file contents with a regular expression. Returns path:line: text for each match.",
             _schema({"pattern": {"type": "string", "description": "Python regular expression."},
                      "path": {**_PATH, "description": "File or folder to search; default: the session folder."},
                      "include": {"type": "string", "description": "Only files whose name matches this glob, e.g. *.py."},
                      "ignore_case": {"type": "boolean"},
                      "literal": {"type": "boolean", "description": "Treat the pattern as plain text."}},
                     ["pattern"]), True),
    ToolSpec("write", "Create a file or overwrite it with the given content. Asks the user first.",
             _schema({"file_path": _PATH, "content": {"type": "string"}}, ["file_path", "content"]), False),
    ToolSpec("edit", "Replace old_string with new_string in a file. old_string must occur exactly once unless replace_all is true. Asks the user first.",
             _schema({"file_path": _PATH, "old_string": {"type": "string"}, "new_string": {"type": "string"},
                      "replace_all": {"type": "boolean"}}, ["file_path", "old_string", "new_string"]), False),
    ToolSpec("bash", f"Run a shell command with `sh -c` in the session folder. Timeout in seconds (default 30, at most 120); "
                     f"combined output is cut after {OUTPUT_CAP} bytes. Asks the user first.",
             _schema({"command": {"type": "string"}, "timeout": {"type": "number", "description": "Seconds."}}, ["command"]), False),
    ToolSpec("todo_write", "Replace the session's todo list. Each item has content and status (pending, in_progress, completed).",
             _schema({"todos": {"type": "array", "items": {
                 "type": "object",
                 "properties": {"content": {"type": "string"},
                                "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                                "id": {"type": "string"}},
                 "required": ["content", "status"]}}}, ["todos"]), True),
    ToolSpec("exit_plan_mode", "Present a plan (Markdown) to the user, who decides whether to proceed.",
             _schema({"plan": {"type": "string", "description": "The plan in Markdown."}}, ["plan"]), True),
    ToolSpec("ask_user", "Ask the user a question and wait for the answer: free text, one of `choices`, or a plain "
                         "acknowledgement (response_type acknowledge).",
             _schema({"question": {"type": "string"}, "title": {"type": "string"},
                      "response_type": {"type": "string", "enum": ["text", "choice", "acknowledge"]},
                      "choices": {"type": "array", "items": {"type": "string"}}}, ["question"]), True),
]

SPECS_BY_NAME = {spec.name: spec for spec in TOOL_SPECS}

# Per-session todo lists, in memory (they describe a turn's progress, not the user's files).
_TODOS: dict[str, list[dict]] = {}


def get_todos(session_id: str) -> list[dict]:
    return [dict(item) for item in _TODOS.get(session_id, [])]


# ------------------------------------------------------------------------------- confinement

def resolve_in_session(session_dir: Path, raw: object, *, what: str = "path") -> Path:
    """The real path of `raw` inside the session folder, or ToolError saying why not."""
    if raw is None or raw == "":
        raw = "."
    if not isinstance(raw, str):
        raise ToolError(f"{what} must be a string")
    if "\x00" in raw:
        raise ToolError(f"{what} contains a NUL character")
    root = session_dir.resolve()
    candidate = Path(raw).expanduser() if raw.startswith("~") else Path(raw)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()  # follows symlinks, so a link pointing out is caught below
    if resolved != root and root not in resolved.parents:
        raise ToolError(f"refused: {raw!r} is outside the session folder; tools may only use files inside it")
    return resolved


def relative_name(session_dir: Path, path: Path) -> str:
    root = session_dir.resolve()
    return "." if path == root else path.relative_to(root).as_posix()


def _read_text(session_dir: Path, path: Path) -> str:
    """A text file inside the session folder, read through the race-free walk of tui.server.safefs."""
    if not path.exists():
        raise ToolError(f"file not found: {path.name}")
    if path.is_dir():
        raise ToolError(f"{path.name} is a folder, not a file")
    too_big = f"{path.name} is larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB; too big to handle as text"
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise ToolError(too_big)
    try:
        data = safefs.read_bytes(session_dir, safefs.parts_beneath(session_dir, path), MAX_TEXT_BYTES)
    except safefs.Escape as exc:
        raise ToolError(exc.strerror) from None
    if len(data) > MAX_TEXT_BYTES:
        raise ToolError(too_big)
    if b"\x00" in data[:8192]:
        raise ToolError(f"{path.name} is a binary file; only text files can be read")
    return data.decode("utf-8", errors="replace")


def _write_text(session_dir: Path, path: Path, content: str) -> None:
    """Write at the moment of use, walking from the session folder without following links."""
    safefs.write_bytes(session_dir, safefs.parts_beneath(session_dir, path), content.encode("utf-8"))


def make_diff(rel: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{rel}", tofile=f"b/{rel}")
    diff = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + f"\n[diff cut after {MAX_DIFF_CHARS} characters]\n"
    return diff


def _str_param(params: dict, key: str, *, required: bool = True) -> str:
    value = params.get(key)
    if value is None:
        if required:
            raise ToolError(f"missing parameter: {key}")
        return ""
    if not isinstance(value, str):
        raise ToolError(f"parameter {key} must be a string")
    return value


# ------------------------------------------------------------------------------ the tools

def _ls(ctx: TurnContext, params: dict) -> ToolResult:
    target = resolve_in_session(ctx.session_dir, params.get("path"))
    if not target.exists():
        raise ToolError(f"folder not found: {params.get('path')}")
    if not target.is_dir():
        raise ToolError(f"{relative_name(ctx.session_dir, target)} is a file, not a folder")
    root = ctx.session_dir.resolve()
    try:  # listed from a descriptor of the folder, opened now without following links
        listed = safefs.list_folder(ctx.session_dir, safefs.parts_beneath(ctx.session_dir, target))
    except safefs.Escape as exc:
        raise ToolError(exc.strerror) from None
    entries = []
    for name, kind, size in sorted(listed, key=lambda e: e[0].lower()):
        if name in HIDDEN_NAMES:
            continue
        if kind == "link":
            real = (target / name).resolve()
            try:
                if real != root and root not in real.parents:
                    raise safefs.Escape(name)
                status = safefs.entry_stat(ctx.session_dir, safefs.parts_beneath(ctx.session_dir, real))
            except OSError:  # out, dangling, or swapped meanwhile
                # Name it, but never follow it: what lies outside (even its size) is not ours to show.
                entries.append({"name": name, "is_dir": False, "size": 0, "outside": True})
                continue
            kind, size = ("dir", 0) if stat.S_ISDIR(status.st_mode) else ("file", status.st_size)
        entries.append({"name": name, "is_dir": kind == "dir", "size": size})
    shown = entries[:LIST_LIMIT]
    lines = [f"{e['name']}  (link to outside the session folder, not followed)" if e.get("outside")
             else e["name"] + "/" if e["is_dir"] else f"{e['name']}  ({e['size']} bytes)" for e in shown]
    if len(entries) > LIST_LIMIT:
        lines.append(f"[{len(entries) - LIST_LIMIT} more entries not shown]")
    text = "\n".join(lines) if lines else "(the folder is empty)"
    return ToolResult(text, metadata={"path": relative_name(ctx.session_dir, target), "entries": shown})


def _walk_files(root: Path, session_dir: Path) -> list[Path]:
    """Files under root, sorted, walked from descriptors (safefs.walk_files); a link is kept only
    when it leads to a file inside the session folder."""
    found: list[Path] = []
    if not root.is_dir():
        return found  # a file, or gone: nothing beneath it
    session_root = session_dir.resolve()
    try:
        walked = list(safefs.walk_files(session_dir, safefs.parts_beneath(session_dir, root), HIDDEN_NAMES))
    except safefs.Escape as exc:
        raise ToolError(exc.strerror) from None
    for rel, is_link in walked:
        path = root / rel
        if is_link:
            real = path.resolve()
            if real != session_root and session_root not in real.parents:
                continue
        found.append(path)
    return found


def _glob(ctx: TurnContext, params: dict) -> ToolResult:
    pattern = _str_param(params, "pattern")
    if not pattern:
        raise ToolError("pattern must not be empty")
    if pattern.startswith("/") or ".." in Path(pattern).parts:
        raise ToolError(f"refused: pattern {pattern!r} reaches outside the session folder")
    base = resolve_in_session(ctx.session_dir, params.get("path"))
    matches = []
    for path in _walk_files(base, ctx.session_dir):
        rel = path.relative_to(base).as_posix()
        if fnmatch.fnmatchcase(rel, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(path.name, pattern)) \
                or (pattern.startswith("**/") and fnmatch.fnmatchcase(rel, pattern[3:])):
            matches.append(relative_name(ctx.session_dir, path))
    shown = matches[:LIST_LIMIT]
    text = "\n".join(shown) if shown else f"no files match {pattern}"
    if len(matches) > LIST_LIMIT:
        text += f"\n[{len(matches) - LIST_LIMIT} more matches not shown]"
    return ToolResult(text, metadata={"matches": shown})


def _int_param(params: dict, key: str, default: int, minimum: int) -> int:
    value = params.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) < minimum:
        raise ToolError(f"parameter {key} must be an integer ≥ {minimum}")
    return int(value)


def _read(ctx: TurnContext, params: dict) -> ToolResult:
    path = resolve_in_session(ctx.session_dir, _str_param(params, "file_path"), what="file_path")
    offset = _int_param(params, "offset", 0, 0)
    limit = min(_int_param(params, "limit", READ_LINE_LIMIT, 1), READ_LINE_LIMIT)
    lines = _read_text(ctx.session_dir, path).splitlines()
    chosen = [line[:READ_LINE_WIDTH] for line in lines[offset:offset + limit]]
    numbered = "\n".join(f"{offset + i + 1:6}\t{line}" for i, line in enumerate(chosen))
    more = len(lines) - (offset + len(chosen))
    if more > 0:
        numbered += f"\n[{more} more lines; read again with offset {offset + len(chosen)}]"
    rel = relative_name(ctx.session_dir, path)
    return ToolResult(numbered or "(the file is empty)",
                      metadata={"path": rel, "content": "\n".join(chosen), "total_lines": len(lines),
                                "truncated": more > 0})


def _grep(ctx: TurnContext, params: dict) -> ToolResult:
    pattern = _str_param(params, "pattern")
    if not pattern:
        raise ToolError("pattern must not be empty")
    flags = re.IGNORECASE if params.get("ignore_case") else 0
    try:
        regex = re.compile(re.escape(pattern) if params.get("literal") else pattern, flags)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    include = params.get("include") or None
    base = resolve_in_session(ctx.session_dir, params.get("path"))
    if not base.exists():
        raise ToolError(f"not found: {params.get('path')}")
    files = [base] if base.is_file() else _walk_files(base, ctx.session_dir)
    matches: list[dict] = []
    for path in files:
        if include and not fnmatch.fnmatch(path.name, include):
            continue
        try:
            data = safefs.read_bytes(ctx.session_dir, safefs.parts_beneath(ctx.session_dir, path), MAX_TEXT_BYTES)
        except OSError:  # gone, unreadable, or a link swapped in since the walk (safefs.Escape)
            continue
        if len(data) > MAX_TEXT_BYTES or b"\x00" in data[:8192]:
            continue
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if regex.search(line):
                matches.append({"path": relative_name(ctx.session_dir, path), "line": number, "text": line[:500]})
                if len(matches) > GREP_MATCH_LIMIT:
                    break
        if len(matches) > GREP_MATCH_LIMIT:
            break
    capped = len(matches) > GREP_MATCH_LIMIT
    matches = matches[:GREP_MATCH_LIMIT]
    text = "\n".join(f"{m['path']}:{m['line']}: {m['text']}" for m in matches) or f"no matches for {pattern}"
    if capped:
        text += f"\n[stopped after {GREP_MATCH_LIMIT} matches]"
    return ToolResult(text, metadata={"matches": matches, "capped": capped})


def _todo_write(ctx: TurnContext, params: dict) -> ToolResult:
    todos = params.get("todos")
    if not isinstance(todos, list):
        raise ToolError("todos must be a list of {content, status}")
    clean = []
    for index, item in enumerate(todos):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str) or not item["content"].strip():
            raise ToolError(f"todo {index + 1} needs a non-empty content string")
        status = item.get("status", "pending")
        if status not in ("pending", "in_progress", "completed"):
            raise ToolError(f"todo {index + 1} has status {status!r}; use pending, in_progress or completed")
        clean.append({"content": item["content"], "status": status, "id": str(item.get("id") or index + 1)})
    _TODOS[ctx.session_id] = clean
    done = sum(1 for t in clean if t["status"] == "completed")
    return ToolResult(f"Todo list updated: {done} of {len(clean)} done.", metadata={"todos": clean})


def _exit_plan_mode(ctx: TurnContext, params: dict) -> ToolResult:
    plan = _str_param(params, "plan")
    if not plan.strip():
        raise ToolError("plan must not be empty")
    return ToolResult("The plan was shown to the user, who will choose whether to proceed.", metadata={"plan": plan})


async def _ask_user(ctx: TurnContext, params: dict) -> ToolResult:
    """A question to the user (the `notification` event); the answer is the result."""
    question = _str_param(params, "question")
    if not question.strip():
        raise ToolError("question must not be empty")
    choices = params.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise ToolError("choices must be a list of strings")
    kind = params.get("response_type") or ("choice" if choices else "text")
    ask = getattr(ctx, "ask_user", None)
    if ask is None:
        return ToolResult("This server cannot ask the user questions.", is_error=True)
    answer = await ask(title=str(params.get("title") or "Question"), message=question, response_type=kind,
                       choices=choices)
    if answer is None:
        return ToolResult("The user did not answer.", is_error=True, metadata={"answer": None})
    shown = answer.value or ("acknowledged" if answer.type == "acknowledge" else "")
    return ToolResult(f"The user answered: {shown}", metadata={"answer": answer.value, "answer_type": answer.type})


# --------------------------------------------------------- tools that change things (permission)

@dataclass
class PreparedCall:
    """A checked, not yet performed call: what to ask the user, and how to do it."""

    description: str
    action: str
    params: dict
    perform: Callable[[], Awaitable[ToolResult]]
    asks_permission: bool = True  # False: runs without asking, also in plan mode (read-only MCP servers)


class ExternalTools(Protocol):
    """Tools that live outside this module (the user's MCP servers), offered next to ours.

    A TurnContext may carry one as `external_tools`; `execute_tool` runs their calls with the same
    events, plan-mode refusal and permission prompt as its own.
    """

    def specs(self) -> list[ToolSpec]:
        """The tools to offer a model now."""

    def prepare(self, name: str, params: dict) -> PreparedCall | None:
        """The call of the tool named `name`, or None when it is not one of these. Raises ToolError."""

    def resolve(self, requested: str) -> tuple[str | None, list[str]]:
        """The offered name for a name a person typed; else (None, the names it could mean, or all of them)."""


def _prepare_write(ctx: TurnContext, params: dict) -> PreparedCall:
    raw = _str_param(params, "file_path")
    content = _str_param(params, "content")
    path = resolve_in_session(ctx.session_dir, raw, what="file_path")
    if path.is_dir():
        raise ToolError(f"{raw} is a folder")
    rel = relative_name(ctx.session_dir, path)
    old = _read_text(ctx.session_dir, path) if path.exists() else ""
    existed = path.exists()
    diff = make_diff(rel, old, content)

    async def perform() -> ToolResult:
        await asyncio.to_thread(_write_text, ctx.session_dir, path, content)
        verb = "Overwrote" if existed else "Created"
        return ToolResult(f"{verb} {rel} ({len(content.encode())} bytes).",
                          metadata={"path": rel, "created": not existed, "diff": diff})

    return PreparedCall(f"Create file {rel}", "write", {"file_path": str(path), "diff": diff}, perform)


def _prepare_edit(ctx: TurnContext, params: dict) -> PreparedCall:
    raw = _str_param(params, "file_path")
    old_string = _str_param(params, "old_string")
    new_string = _str_param(params, "new_string")
    replace_all = bool(params.get("replace_all"))
    path = resolve_in_session(ctx.session_dir, raw, what="file_path")
    rel = relative_name(ctx.session_dir, path)
    if not old_string:
        raise ToolError("old_string must not be empty; use write to create a file")
    if old_string == new_string:
        raise ToolError("old_string and new_string are the same; nothing to change")
    old = _read_text(ctx.session_dir, path)
    count = old.count(old_string)
    if count == 0:
        raise ToolError(f"old_string was not found in {rel}")
    if count > 1 and not replace_all:
        raise ToolError(f"old_string occurs {count} times in {rel}; give more context or set replace_all")
    new = old.replace(old_string, new_string) if replace_all else old.replace(old_string, new_string, 1)
    diff = make_diff(rel, old, new)
    verb = "Delete content from file" if not new_string else "Replace content in file"

    def apply() -> None:
        # Re-read at the moment of use: the user approved this diff, not whatever the file became meanwhile.
        if _read_text(ctx.session_dir, path) != old:
            raise ToolError(f"{rel} changed while the permission was pending; nothing was written. Read it again.")
        _write_text(ctx.session_dir, path, new)

    async def perform() -> ToolResult:
        await asyncio.to_thread(apply)
        n = count if replace_all else 1
        return ToolResult(f"Edited {rel}: {n} replacement{'s' if n != 1 else ''}.",
                          metadata={"path": rel, "replacements": n, "diff": diff})

    return PreparedCall(f"{verb} {rel}", "write", {"file_path": str(path), "diff": diff}, perform)


def _prepare_bash(ctx: TurnContext, params: dict) -> PreparedCall:
    command = _str_param(params, "command")
    if not command.strip():
        raise ToolError("command must not be empty")
    raw_timeout = params.get("timeout")
    timeout = clamp_timeout(raw_timeout)
    label = f"Execute command: {command}"

    async def perform() -> ToolResult:
        outcome = await run_command(command, ctx.session_dir, timeout, sandbox=getattr(ctx, "sandbox", UNCONFINED))
        return ToolResult(outcome.describe() or "(no output)", is_error=not outcome.ok,
                          metadata={"command": command, "exit_code": outcome.exit_code, "output": outcome.output,
                                    "timed_out": outcome.timed_out, "truncated": outcome.truncated})

    shown_timeout = raw_timeout if isinstance(raw_timeout, (int, float)) and not isinstance(raw_timeout, bool) else 0
    return PreparedCall(label, label, {"command": command, "timeout": shown_timeout}, perform)


_READ_ONLY: dict[str, Callable[[TurnContext, dict], ToolResult]] = {
    "ls": _ls, "glob": _glob, "read": _read, "grep": _grep,
    "todo_write": _todo_write, "exit_plan_mode": _exit_plan_mode,
}
_CHANGING: dict[str, Callable[[TurnContext, dict], PreparedCall]] = {
    "write": _prepare_write, "edit": _prepare_edit, "bash": _prepare_bash,
}


# ------------------------------------------------------------------------------ the runner

async def execute_tool(ctx: TurnContext, call_id: str, name: str, params: dict) -> ToolResult:
    """Run one tool call with its execution events and, for changing tools, the permission flow.

    Refusals and failures come back as `ToolResult(is_error=True)` (what the model reads).
    `tool_execution_complete` reports success:false only when the call did not run at all
    (permission denied, plan mode, cancelled), as the Mix server does.
    On cancellation the failure is emitted and CancelledError propagates.
    """
    key = name.lower()
    started = time.monotonic()
    await ctx.emit("tool_execution_start", {"type": "tool_execution_start", "toolName": name,
                                            "progress": f"Executing {name} tool", "toolCallId": call_id})

    finished = False

    async def finish(result: ToolResult, failure: str | None = None) -> ToolResult:
        nonlocal finished
        finished = True
        took = go_duration(time.monotonic() - started)
        progress = f"Failed {name} tool after {took}: {failure}" if failure else f"Completed {name} tool in {took}"
        await ctx.emit("tool_execution_complete", {"type": "tool_execution_complete", "toolName": name,
                                                   "progress": progress, "success": failure is None,
                                                   "toolCallId": call_id})
        return result

    try:
        if not isinstance(params, dict):
            return await finish(ToolResult("tool input must be a JSON object", is_error=True))
        try:
            if key == "ask_user":
                return await finish(await _ask_user(ctx, params))
            if key in _READ_ONLY:
                result = await asyncio.to_thread(_READ_ONLY[key], ctx, params)  # file work off the event loop
                return await finish(result)
            external: ExternalTools | None = getattr(ctx, "external_tools", None)
            prepared = external.prepare(name, params) if external is not None and key not in _CHANGING else None
            if prepared is None and key not in _CHANGING:
                known = [spec.name for spec in TOOL_SPECS] + ([s.name for s in external.specs()] if external else [])
                return await finish(ToolResult(f"unknown tool {name!r}; available: {', '.join(known)}", is_error=True))
            if prepared is not None and not prepared.asks_permission:
                return await finish(await prepared.perform())
            if ctx.plan_mode:
                return await finish(ToolResult(f"Refused: {PLAN_MODE_REFUSAL}.", is_error=True,
                                               metadata={"plan_mode": True}), PLAN_MODE_REFUSAL)
            prepared = prepared or await asyncio.to_thread(_CHANGING[key], ctx, params)
        except ToolError as exc:
            return await finish(ToolResult(str(exc), is_error=True, metadata={"refused": True}))
        except OSError as exc:
            return await finish(ToolResult(f"{exc.strerror or exc}", is_error=True))

        granted = await ctx.request_permission(
            tool_name=name, description=prepared.description, action=prepared.action,
            path=str(ctx.session_dir), params=prepared.params)
        if not granted:
            return await finish(ToolResult("Permission denied: the user did not allow this, so nothing was done. "
                                           "Do not retry; ask the user what to do instead.",
                                           is_error=True, metadata={"denied": True}), "permission denied")
        try:
            result = await prepared.perform()
        except ToolError as exc:
            result = ToolResult(str(exc), is_error=True, metadata={"refused": True})
        except OSError as exc:
            result = ToolResult(f"{exc.strerror or exc}", is_error=True)
        result.metadata.setdefault("permission", prepared.params)
        return await finish(result)
    except asyncio.CancelledError:
        if not finished:  # exactly one completion event per call, even if cancelled while sending it
            await finish(ToolResult("Tool execution cancelled", is_error=True), "context canceled")
        raise


def tool_input_json(params: dict) -> str:
    """The `input` string of a tool snapshot: compact JSON, as Go marshals it."""
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"))
