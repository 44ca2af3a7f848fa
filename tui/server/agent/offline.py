"""The offline agent: deterministic, no network, real tools.

Each turn is shaped like an LLM turn of the seed-era Mix server: thinking first, then one
"assistant message" per iteration — some text, maybe one tool call (with the `tool` snapshots,
execution events and permission flow), and the next iteration reacts to the tool's result.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tui.server.agent.base import TurnContext, complete_event, new_tool_call_id, stream_text
from tui.server.agent.intents import Intent, clean_request, parse_request
from tui.server.agent.shell import clamp_timeout, run_command
from tui.server.sandbox import UNCONFINED
from tui.server.agent.tools import PLAN_MODE_REFUSAL, ToolResult, execute_tool, tool_input_json

MODEL = "offline-1"

_LANGS = {".py": "python", ".md": "markdown", ".json": "json", ".js": "javascript", ".ts": "typescript",
          ".sh": "bash", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".html": "html", ".css": "css",
          ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".java": "java", ".rb": "ruby", ".sql": "sql",
          ".txt": "text", ".csv": "csv", ".xml": "xml", ".ini": "ini"}


def fence(body: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body.rstrip(chr(10))}\n{ticks}"


def code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    ticks = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def lang_of(path: str) -> str:
    return _LANGS.get(Path(path).suffix.lower(), "")


HELP_TEXT = """I'm the **offline agent** (`offline-1`): I run on this machine, need no account or network, and work only inside this session's folder.

Here is what I understand:

| Ask for | Example | Needs permission |
|---|---|---|
| a file listing | `list files` | no |
| a file's content | `read notes.md` | no |
| a text search | `search for TODO` | no |
| a new file | `create notes.md with "hello"` | yes |
| a change to a file | `replace "hello" with "hi" in notes.md` | yes |
| a shell command | `run ls -la` | yes |
| a plan and todo list | `plan a short blog post` | no |
| an MCP server's tool | `call shout {"text": "hi"}` | yes |

A few more ways to say it:

```text
show me the files
cat src/app.py
grep "def main" in src
write "first line" to draft.txt
run `python3 --version`
```

Anything that changes files, runs a command or calls an MCP tool (unless its server is read-only) waits for your **Grant** or **Deny** (no answer within 30 s counts as deny). With plan mode on I only read, and answer with a plan you can approve. A message starting with `!` runs as a shell command directly."""


@dataclass
class _Turn:
    """What the agent has said and done so far in this turn, so it can be stored (also on cancel)."""

    ctx: TurnContext
    text: str = ""  # the current iteration's text
    reasoning: str = ""
    reasoning_started: float | None = None
    reasoning_duration: float | None = None
    reasoning_stored: bool = False
    last_message_id: str | None = None
    last_text: str = ""
    running: dict | None = None  # the tool call in flight, for a canceled store
    todos: list[dict] = field(default_factory=list)
    last_reasoning: tuple[str, float | None] = ("", None)

    async def think(self, text: str) -> None:
        self.reasoning_started = time.monotonic()
        await stream_text(self.ctx, "thinking", text, sent=self._thought)
        self.reasoning_duration = time.monotonic() - self.reasoning_started

    async def say(self, text: str) -> None:
        if self.text and not self.text.endswith(("\n", " ")) and not text.startswith(("\n", " ")):
            text = " " + text
        await stream_text(self.ctx, "content", text, sent=self._said)

    def _thought(self, piece: str) -> None:
        self.reasoning += piece

    def _said(self, piece: str) -> None:
        self.text += piece  # piece by piece: a cancel keeps what went out, no more

    def _reasoning_for_message(self) -> tuple[str, float | None]:
        if self.reasoning and not self.reasoning_stored:
            self.reasoning_stored = True
            return self.reasoning, self.reasoning_duration
        return "", None

    def _store_assistant(self, tool_calls: list[dict] | None, finish_reason: str) -> str:
        reasoning, duration = self._reasoning_for_message()
        message_id = self.ctx.store_message("assistant", self.text, tool_calls=tool_calls, reasoning=reasoning,
                                            reasoning_duration=duration, finish_reason=finish_reason, model=MODEL)
        self.last_message_id, self.last_text = message_id, self.text
        self.last_reasoning = (reasoning, duration)
        self.text = ""
        return message_id

    async def call(self, name: str, params: dict) -> ToolResult:
        """One iteration ending in a tool call: snapshots, execution, stored messages."""
        ctx = self.ctx
        call_id = new_tool_call_id()
        full_input = tool_input_json(params)
        self.running = {"id": call_id, "name": name, "input": full_input}
        await ctx.emit("tool", {"type": "tool", "name": name, "input": "", "id": call_id, "status": "running"})
        # Go's snapshot has no input yet; `_input` lets latest-spec streams announce the parameters now
        # (tool_use_parameter_*, before the call runs). Keys starting with _ never reach the wire.
        await ctx.emit("tool", {"type": "tool", "name": name, "input": "", "id": call_id, "status": "completed",
                                "_input": full_input})
        result = await execute_tool(ctx, call_id, name, params)
        self.running = None
        await ctx.emit("tool", {"type": "tool", "name": name, "input": full_input, "id": call_id, "status": "completed"})
        call = {"id": call_id, "name": name, "input": full_input, "type": "tool_use", "finished": True,
                "result": result.text, "isError": result.is_error}
        self._store_assistant([call], "tool_use")
        ctx.store_message("tool", "", tool_calls=[{"id": call_id, "name": name, "result": result.text,
                                                   "isError": result.is_error}], model=MODEL)
        return result

    async def finish(self) -> None:
        message_id = self._store_assistant(None, "end_turn")
        reasoning, duration = self.last_reasoning
        await self.ctx.emit("complete", complete_event(self.last_text, message_id, reasoning, duration))

    def store_canceled(self) -> None:
        """Keep what was said before the cancel, as Go does (finish reason `canceled`)."""
        calls = None
        if self.running is not None:
            calls = [{**self.running, "type": "tool_use", "finished": True, "result": "Tool execution cancelled",
                      "isError": True}]
        if not (self.text or calls or (self.reasoning and not self.reasoning_stored)):
            return
        self._store_assistant(calls, "canceled")
        if calls:
            self.ctx.store_message("tool", "", tool_calls=[{"id": calls[0]["id"], "name": calls[0]["name"],
                                                            "result": "Tool execution cancelled", "isError": True}],
                                   model=MODEL)


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


class OfflineAgent:
    """Understands plain requests and carries them out with the real tools; see HELP_TEXT."""

    def __init__(self, name: str = MODEL, key_hint: str = "") -> None:
        self.name = name
        self.key_hint = key_hint  # one line on how to use a real model, added to the help answer

    async def run_turn(self, ctx: TurnContext, text: str) -> None:
        turn = _Turn(ctx)
        try:
            await self._run(turn, text)
        except asyncio.CancelledError:
            turn.store_canceled()
            raise

    # ----------------------------------------------------------------------------- dispatch

    async def _run(self, turn: _Turn, text: str) -> None:
        ctx = turn.ctx
        intent = parse_request(text)
        if intent.kind == "proceed":
            planned = _planned_request(ctx.history)
            if planned is None:
                intent = Intent("help", {}, intent.text)
            elif ctx.plan_mode:
                intent = Intent("plan", {"task": planned}, intent.text)
            else:
                await self._proceed(turn, planned)
                return
        if ctx.plan_mode and intent.kind not in ("list", "glob", "read", "search", "call", "help"):
            task = intent.args.get("task") or intent.text
            await self._plan(turn, task)
            return
        if intent.kind == "plan":
            await self._plan(turn, intent.args["task"])
            return
        if intent.kind == "help":
            await self._help(turn, intent)
            return
        await turn.think(self._understanding(intent, ctx.plan_mode))
        await self._act(turn, intent)
        await turn.finish()

    def _understanding(self, intent: Intent, plan_mode: bool) -> str:
        a = intent.args
        where = f" in `{a['path']}`" if a.get("path") else " in the session folder"
        return {
            "list": f"The user wants to see the files{where}. Listing is read-only, so I can call ls without asking.",
            "glob": f"The user wants the files matching {a.get('pattern')}{where}. That is a read-only glob.",
            "read": f"The user wants to read {a.get('file_path')}. Reading needs no permission; I'll call read.",
            "search": f"The user wants to find \"{a.get('pattern')}\"{where}. "
                      f"I'll search it as {'a regular expression' if a.get('regex') else 'plain text'} with grep.",
            "write": f"The user wants {a.get('file_path')} written with {_plural(len(a.get('content', '')), 'character')}. "
                     "Writing changes the folder, so the write tool will ask for permission first.",
            "edit": f"The user wants \"{a.get('old_string')}\" replaced with \"{a.get('new_string')}\" in {a.get('file_path')}. "
                    "Editing needs permission; the edit tool will show the diff.",
            "ask": "The user wants me to ask them something; ask_user puts the question to them and waits.",
            "run": f"The user wants me to run `{a.get('command')}` in the session folder. "
                   "Commands need permission, so bash will ask before it runs.",
            "call": f"The user asks for the tool {a.get('tool')} by name. It belongs to an MCP server; its calls "
                    "ask for permission unless the server is configured read-only.",
        }.get(intent.kind, "I'm not sure what the user wants.")

    async def _act(self, turn: _Turn, intent: Intent) -> bool:
        """Carry out one concrete intent (a tool call and the answer to its result). True if it worked."""
        a = intent.args
        kind = intent.kind
        if kind == "ask":
            await turn.say("Let me ask you.")
            params = {"question": a["question"], "title": "The offline agent asks", "response_type": a["response_type"]}
            if a["choices"]:
                params["choices"] = a["choices"]
            result = await turn.call("ask_user", params)
            if result.is_error:
                await turn.say(f"I got no answer: {result.text}")
                return False
            await turn.say(f"You answered: **{result.metadata.get('answer') or 'OK'}**.")
            return True
        if kind == "list":
            where = code(a["path"]) if a.get("path") else "the session folder"
            await turn.say(f"Let me look at {where}.")
            result = await turn.call("ls", {"path": a["path"]} if a.get("path") else {})
            if result.is_error:
                await turn.say(f"I could not list {where}: {result.text}")
                return False
            entries = result.metadata.get("entries", [])
            if not entries:
                await turn.say(f"{where[0].upper() + where[1:]} is empty. You can upload files or ask me to create one.")
            else:
                await turn.say(f"{where[0].upper() + where[1:]} has {_plural(len(entries), 'entry', 'entries')}:\n\n"
                               f"{fence(result.text)}")
            return True
        if kind == "glob":
            await turn.say(f"I'll look for files matching {code(a['pattern'])}.")
            params = {"pattern": a["pattern"]} | ({"path": a["path"]} if a.get("path") else {})
            result = await turn.call("glob", params)
            matches = result.metadata.get("matches", [])
            if result.is_error:
                await turn.say(f"The search failed: {result.text}")
                return False
            if not matches:
                await turn.say(f"No files match {code(a['pattern'])}.")
            else:
                await turn.say(f"{_plural(len(matches), 'file')} match {code(a['pattern'])}:\n\n{fence(result.text)}")
            return True
        if kind == "read":
            path = a["file_path"]
            await turn.say(f"I'll read {code(path)}.")
            result = await turn.call("read", {"file_path": path})
            if result.is_error:
                await turn.say(f"I could not read {code(path)}: {result.text}")
                return False
            meta = result.metadata
            body = meta.get("content", "")
            if not body:
                await turn.say(f"{code(path)} is empty.")
                return True
            note = (f"\n\nThat is the first {len(body.splitlines())} of {meta['total_lines']} lines."
                    if meta.get("truncated") else "")
            await turn.say(f"Here is {code(path)} ({_plural(meta.get('total_lines', 0), 'line')}):\n\n"
                           f"{fence(body, lang_of(path))}{note}")
            return True
        if kind == "search":
            where = code(a["path"]) if a.get("path") else "the session folder"
            await turn.say(f"I'll search {where} for {code(a['pattern'])}.")
            params: dict = {"pattern": a["pattern"], "literal": not a.get("regex")}
            if a.get("path"):
                params["path"] = a["path"]
            result = await turn.call("grep", params)
            if result.is_error:
                await turn.say(f"The search failed: {result.text}")
                return False
            matches = result.metadata.get("matches", [])
            if not matches:
                await turn.say(f"No matches for {code(a['pattern'])} in {where}.")
            else:
                files = len({m["path"] for m in matches})
                capped = " (I stopped counting there)" if result.metadata.get("capped") else ""
                await turn.say(f"Found {_plural(len(matches), 'match', 'matches')} in "
                               f"{_plural(files, 'file')}{capped}:\n\n{fence(result.text)}")
            return True
        if kind == "write":
            path = a["file_path"]
            await turn.say(f"I'll create {code(path)}.")
            result = await turn.call("write", {"file_path": path, "content": a["content"]})
            return await self._report_change(turn, result, done=lambda r: (
                f"{'Created' if r.metadata.get('created') else 'Overwrote'} {code(path)}."),
                denied=f"Permission was denied, so I did not write {code(path)}. Nothing was changed.",
                failed=f"I could not write {code(path)}")
        if kind == "edit":
            path = a["file_path"]
            await turn.say(f"I'll replace {code(a['old_string'])} with {code(a['new_string'])} in {code(path)}.")
            params = {"file_path": path, "old_string": a["old_string"], "new_string": a["new_string"]}
            if a.get("replace_all"):
                params["replace_all"] = True
            result = await turn.call("edit", params)
            return await self._report_change(turn, result, done=lambda r: (
                f"Edited {code(path)}: {_plural(r.metadata.get('replacements', 1), 'replacement')}.\n\n"
                f"{fence(r.metadata.get('diff', ''), 'diff')}"),
                denied=f"Permission was denied, so {code(path)} was not changed.",
                failed=f"I could not edit {code(path)}")
        if kind == "run":
            command = a["command"]
            await turn.say(f"I'll run {code(command)}.")
            result = await turn.call("bash", {"command": command})
            meta = result.metadata
            if meta.get("denied"):
                await turn.say(f"Permission was denied, so I did not run {code(command)}. Nothing was changed.")
                return False
            if meta.get("plan_mode"):
                await turn.say(f"I did not run {code(command)}: {PLAN_MODE_REFUSAL}.")
                return False
            if "exit_code" not in meta:
                await turn.say(f"I could not run {code(command)}: {result.text}")
                return False
            output = meta.get("output", "").rstrip("\n")
            shown = f"\n\n{fence(output)}" if output else ""
            cut = "\n\nThe output was too long; only its beginning is shown." if meta.get("truncated") else ""
            if meta.get("timed_out"):
                await turn.say(f"{code(command)} timed out and was stopped."
                               f"{' Output so far:' if output else ' It printed nothing.'}{shown}{cut}")
                return False
            if meta.get("exit_code") != 0:
                await turn.say(f"{code(command)} failed with exit code {meta.get('exit_code')}."
                               f"{' Its output:' if output else ' It printed nothing.'}{shown}{cut}")
                return False
            await turn.say(f"Ran {code(command)}.{' Output:' if output else ' It printed nothing.'}{shown}{cut}")
            return True
        if kind == "call":
            return await self._call_external(turn, a["tool"], a["arguments"])
        raise ValueError(f"not a concrete intent: {kind}")

    async def _call_external(self, turn: _Turn, requested: str, raw_arguments: str) -> bool:
        """`call TOOL {json}`: one MCP tool, named as offered, as `server.tool`, or by its own name."""
        external = getattr(turn.ctx, "external_tools", None)
        name, candidates = external.resolve(requested) if external is not None else (None, [])
        if name is None:
            if candidates:
                await turn.say(f"I can't tell which MCP tool {code(requested)} is. "
                               f"The ones I can call: {', '.join(code(c) for c in candidates)}.")
            else:
                await turn.say(f"I can't call {code(requested)}: no MCP server is connected. Add one under "
                               "`[mcp.servers.NAME]` in config.toml; F9 shows how they are doing.")
            return False
        try:
            arguments = json.loads(raw_arguments) if raw_arguments.strip() else {}
        except ValueError as exc:
            await turn.say(f"The arguments for {code(name)} are not valid JSON ({exc}). "
                           f"Write them as an object, for example `call {requested} {{\"text\": \"hi\"}}`.")
            return False
        if not isinstance(arguments, dict):
            await turn.say(f"The arguments for {code(name)} must be a JSON object, like `{{\"text\": \"hi\"}}`.")
            return False
        await turn.say(f"I'll call {code(name)}.")
        result = await turn.call(name, arguments)
        return await self._report_change(turn, result, done=lambda r: f"{code(name)} answered:\n\n{fence(r.text)}",
                                         denied=f"Permission was denied, so I did not call {code(name)}.",
                                         failed=f"{code(name)} failed")

    async def _report_change(self, turn: _Turn, result: ToolResult, *, done, denied: str, failed: str) -> bool:
        if result.metadata.get("denied"):
            await turn.say(denied)
            return False
        if result.metadata.get("plan_mode"):
            await turn.say(f"I did not do it: {PLAN_MODE_REFUSAL}.")
            return False
        if result.is_error:
            await turn.say(f"{failed}: {result.text}")
            return False
        await turn.say(done(result))
        return True

    # ------------------------------------------------------------------------------- help

    async def _help(self, turn: _Turn, intent: Intent) -> None:
        said = intent.text.strip() or "(an empty message)"
        short = said if len(said) <= 80 else said[:77] + "..."
        await turn.think(f"The message was: \"{short}\". It is not a request I can map to a file, search or "
                         "shell action, so I'll explain what I can do, with examples.")
        prefix = "Plan mode is on, so I will only read and propose plans.\n\n" if turn.ctx.plan_mode else ""
        await turn.say(prefix + HELP_TEXT + (f"\n\n{self.key_hint}" if self.key_hint else ""))
        await turn.finish()

    # ---------------------------------------------------------------------------- planning

    def _steps_for(self, task: str) -> tuple[list[str], Intent]:
        intent = parse_request(task)
        a = intent.args
        concrete = {
            "write": lambda: f"Create `{a['file_path']}` with the requested content",
            "edit": lambda: f"Replace `{a['old_string']}` with `{a['new_string']}` in `{a['file_path']}`",
            "run": lambda: f"Run `{a['command']}` in the session folder",
            "read": lambda: f"Read `{a['file_path']}`",
            "search": lambda: f"Search the files for `{a['pattern']}`",
            "glob": lambda: f"Find the files matching `{a['pattern']}`",
            "list": lambda: "List the files",
        }
        if intent.kind in concrete:
            steps = [concrete[intent.kind]()]
        else:
            parts = [p.strip(" .") for p in re.split(r",\s*(?:and\s+|then\s+)?|;\s*|\s+and then\s+|\s+then\s+|\s+and\s+",
                                                    clean_request(task)) if p.strip(" .")]
            steps = [p[0].upper() + p[1:] for p in parts[:6]] or ["Work out what is needed"]
        return ["Look at the files in the session folder"] + steps + ["Check the result"], intent

    async def _todo(self, turn: _Turn, steps: list[str], statuses: list[str]) -> None:
        turn.todos = [{"content": s, "status": st, "id": str(i + 1)} for i, (s, st) in enumerate(zip(steps, statuses))]
        await turn.call("todo_write", {"todos": turn.todos})

    async def _plan(self, turn: _Turn, task: str) -> None:
        ctx = turn.ctx
        task = clean_request(task).strip() or "the task"
        steps, intent = self._steps_for(task)
        mode = "Plan mode is on, so I may only read. " if ctx.plan_mode else ""
        await turn.think(f"The user wants a plan for: {task}. {mode}I'll write a todo list, look at the folder, "
                         "and present the plan for approval before changing anything.")
        await turn.say("I'll start a todo list and look at the folder first.")
        pending = ["pending"] * len(steps)
        await self._todo(turn, steps, ["in_progress"] + pending[1:])
        listing = await turn.call("ls", {})
        entries = listing.metadata.get("entries", []) if not listing.is_error else []
        await turn.say("Now the plan.")
        await self._todo(turn, steps, ["completed"] + pending[1:])
        names = ", ".join(f"`{e['name']}{'/' if e['is_dir'] else ''}`" for e in entries[:8])
        found = (f"the folder has {_plural(len(entries), 'entry', 'entries')}: {names}"
                 f"{', …' if len(entries) > 8 else ''}." if entries else "the folder is empty.")
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(steps[1:], 1))
        notes = ["Creating or changing files and running commands will ask for your permission first."]
        if not intent.changes_things and intent.kind not in ("read", "search", "glob", "list"):
            notes.append("These steps are general; I carry out concrete file and shell actions only.")
        plan = (f"## Plan: {task}\n\n**What I found:** {found}\n\n### Steps\n\n{numbered}\n\n### Notes\n\n"
                + "\n".join(f"- {n}" for n in notes))
        await turn.call("exit_plan_mode", {"plan": plan})
        await turn.say("The plan is ready. Choose **Proceed** to let me carry it out, or keep planning to change it.")
        await turn.finish()

    async def _proceed(self, turn: _Turn, planned: str) -> None:
        steps, intent = self._steps_for(planned)
        await turn.think(f"The user approved the plan for: {planned}. "
                         + ("I'll carry out its concrete step and tick off the todo list."
                            if intent.kind in ("write", "edit", "run", "read", "search", "glob", "list")
                            else "Its steps are not concrete file or shell actions, so I can't carry them out offline."))
        if intent.kind not in ("write", "edit", "run", "read", "search", "glob", "list"):
            await turn.say("I can't carry out this plan offline: its steps are not concrete file or shell actions. "
                           "Tell me one step at a time, for example `create notes.md with \"...\"` or `run ls`.")
            await turn.finish()
            return
        n = len(steps)
        await turn.say("Going ahead with the plan.")
        await self._todo(turn, steps, ["completed", "in_progress"] + ["pending"] * (n - 2))
        ok = await self._act(turn, intent)
        final = ["completed", "completed", "completed"] if ok else ["completed", "pending", "pending"]
        await self._todo(turn, steps, final + ["completed"] * (n - 3))
        await turn.say("All steps are done." if ok else "I stopped there; the remaining steps are still open.")
        await turn.finish()


def _planned_request(history: list[dict]) -> str | None:
    """The request behind the latest plan shown with exit_plan_mode in this session, if any."""
    plan_at = None
    for index in range(len(history) - 1, -1, -1):
        calls = history[index].get("tool_calls") or []
        if history[index].get("role") == "assistant" and any(
                str(c.get("name", "")).lower() in ("exit_plan_mode", "exitplanmode") for c in calls):
            plan_at = index
            break
    if plan_at is None:
        return None
    for index in range(plan_at - 1, -1, -1):
        if history[index].get("role") == "user":
            text = clean_request(history[index].get("text", ""))
            intent = parse_request(text)
            return intent.args.get("task", text) if intent.kind == "plan" else text
    return None


# ------------------------------------------------------------------------------- `!` commands

async def run_shell_passthrough(ctx: TurnContext, command: str) -> None:
    """A `!command` message: permission like bash, run in the session folder, one `complete` with the output."""
    command = command[1:] if command.startswith("!") else command
    command = command.strip()
    if not command:
        content = "Error: no command given after `!`."
    elif ctx.plan_mode:
        content = f"Error: {PLAN_MODE_REFUSAL}; the command was not run."
    else:
        label = f"Execute command: {command}"
        granted = await ctx.request_permission(tool_name="bash", description=label, action=label,
                                               path=str(ctx.session_dir), params={"command": command, "timeout": 0})
        if not granted:
            content = "Error: permission denied; the command was not run."
        else:
            try:
                outcome = await run_command(command, ctx.session_dir, clamp_timeout(None),
                                            sandbox=getattr(ctx, "sandbox", UNCONFINED))
            except OSError as exc:  # the session folder became a symlink (safefs.Escape) or vanished
                outcome = None
                content = f"Error: {exc.strerror or exc}; the command was not run."
            body = fence(outcome.describe() or "(no output)") if outcome else ""
            if outcome is None:
                pass
            elif outcome.timed_out:
                content = f"Error: the command timed out after {outcome.timeout:g} s and was killed.\n\n{body}"
            elif outcome.exit_code != 0:
                content = f"Error: exit status {outcome.exit_code}\n\n{body}"
            else:
                content = body
    ctx.store_message("assistant", content, finish_reason="end_turn", model=MODEL)
    await ctx.emit("complete", {"type": "complete", "content": content, "done": True})
