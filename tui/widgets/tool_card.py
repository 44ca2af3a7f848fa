"""One card per tool call: what was called, with what, how it went, and what came back.

The card renders from a `ToolCall` and redraws only when something it shows has changed
(status, parameters, result, permission), plus a cheap header refresh for the spinner and the
running duration. Edits and writes show a coloured unified diff; shell commands show the command
up front; todo lists show a checklist; a plan shows as Markdown.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tui.widgets.streaming_markdown import StreamingMarkdown

from tui.api.turn import ToolCall, ToolStatus
from tui.widgets.thinking import format_duration

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SHELL_KINDS = {"bash", "shell", "sh", "run_command", "execute_command"}
EDIT_KINDS = {"edit", "write", "multiedit", "multi_edit", "str_replace", "create_file"}
QUIET_KINDS = {"read", "glob", "grep", "ls", "search", "web_fetch", "webfetch", "readmedia", "read_media", "show"}
MAX_OUTPUT_LINES = 40
MAX_PARAM_CHARS = 300

STATUS_ICON = {
    ToolStatus.PREPARING: "…",
    ToolStatus.READY: "…",
    ToolStatus.DONE: "✓",
    ToolStatus.FAILED: "✗",
    ToolStatus.WAITING_PERMISSION: "?",
}
STATUS_LABEL = {
    ToolStatus.PREPARING: "preparing",
    ToolStatus.READY: "ready",
    ToolStatus.RUNNING: "running",
    ToolStatus.WAITING_PERMISSION: "waiting for permission",
    ToolStatus.DONE: "done",
    ToolStatus.FAILED: "failed",
}


def tool_kind(tool: ToolCall) -> str:
    kind = tool.kind
    # MCP tools are `<server>_<tool>`; the core names are what decides the rendering.
    return kind


def display_name(name: str) -> str:
    """The name a card shows: the latest spec's `mix_` prefix is wire detail (`mix_ls` is `ls`)."""
    return name[len("mix_"):] if name.startswith("mix_") else (name or "tool")


def short_summary(tool: ToolCall, params: dict[str, Any] | None) -> str:
    """The one thing worth reading in the header: the command, the file, the pattern."""
    if not params:
        return ""
    for key in ("command", "file_path", "path", "pattern", "url", "query", "description"):
        value = params.get(key)
        if isinstance(value, str) and value:
            value = value.strip().splitlines()[0] if value.strip() else value
            return value if len(value) <= 80 else value[:79] + "…"
    return ""


def diff_text(params: dict[str, Any]) -> str:
    """A unified diff from `diff`, or built from old/new strings (edit) or the content (write)."""
    diff = params.get("diff")
    if isinstance(diff, str) and diff.strip():
        return diff.rstrip("\n")
    path = str(params.get("file_path") or params.get("path") or "file")
    old = params.get("old_string", params.get("old_str"))
    new = params.get("new_string", params.get("new_str", params.get("content")))
    if not isinstance(new, str):
        return ""
    old_lines = old.splitlines() if isinstance(old, str) else []
    lines = difflib.unified_diff(old_lines, new.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=3)
    return "\n".join(lines)


def render_diff(diff: str) -> Content:
    parts: list[Content] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold $text-muted"
        elif line.startswith("@@"):
            style = "$text-accent"
        elif line.startswith("+"):
            style = "$text-success on $success-muted"
        elif line.startswith("-"):
            style = "$text-error on $error-muted"
        else:
            style = ""
        parts.append(Content.styled(line, style) if style else Content(line))
    return Content("\n").join(parts)


TODO_MARKS = {
    "completed": ("☑", "$text-success strike"),
    "in_progress": ("◐", "bold $text-warning"),
    "pending": ("☐", ""),
    "cancelled": ("☒", "$text-muted strike"),
}
TODO_ALIASES = {"done": "completed", "complete": "completed", "finished": "completed", "in-progress": "in_progress",
                "in progress": "in_progress", "active": "in_progress", "doing": "in_progress", "todo": "pending",
                "canceled": "cancelled"}


def todo_items(todos: list[Any]) -> list[tuple[str, str]]:
    """(text, status) per item, the status normalised to completed / in_progress / pending / cancelled."""
    items = []
    for item in todos:
        if isinstance(item, dict):
            text = str(item.get("content") or item.get("text") or item.get("title") or "")
            status = str(item.get("status") or "pending").strip().lower()
        else:
            text, status = str(item), "pending"
        status = TODO_ALIASES.get(status, status)
        text = text.replace("`", "")  # inline-code marks read as noise in a checklist line
        items.append((text, status if status in TODO_MARKS else "pending"))
    return items


def render_todos(todos: list[Any]) -> Content:
    lines: list[Content] = []
    for text, status in todo_items(todos):
        mark, style = TODO_MARKS[status]
        mark_style = {"completed": "$text-success", "in_progress": "bold $text-warning"}.get(status, "$text-muted")
        lines.append(Content.assemble((f"{mark} ", mark_style), (text, style) if style else text))
    return Content("\n").join(lines) if lines else Content.styled("(empty list)", "$text-muted")


def clip_output(text: str, limit: int = MAX_OUTPUT_LINES) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    hidden = len(lines) - limit
    return "\n".join(lines[:limit]) + f"\n… {hidden} more line{'s' if hidden != 1 else ''}"


def format_param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"


class ToolCard(Widget, can_focus=True):
    """A collapsible card for one tool call."""

    HELP = """\
## Tool call

One call the agent made: the tool, its parameters, its status and duration, and the result.
File edits show a diff, shell commands show the command and its output.

- `enter` or a click on the header: collapse or expand the card
- `c`: copy the result (or the command)
"""

    BINDINGS = [
        Binding("enter", "toggle", "Collapse/expand"),
        Binding("c", "copy", "Copy result"),
    ]

    collapsed: reactive[bool] = reactive(False)

    class Copy(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, tool: ToolCall, *, clock: Callable[[], float] | None = None, live: bool = False) -> None:
        super().__init__(classes="tool-card")
        self.tool = tool
        self._clock = clock
        self._is_live = live
        self._signature: tuple[Any, ...] | None = None
        self._header_text: Content | None = None
        self._user_toggled = False
        self._plan: StreamingMarkdown | None = None
        self._ready = False
        self.set_reactive(ToolCard.collapsed, self._quiet_when_settled())

    # ------------------------------------------------------------------ building

    def _quiet_when_settled(self) -> bool:
        settled = self.tool.status in (ToolStatus.DONE, ToolStatus.FAILED)
        return settled and tool_kind(self.tool) in QUIET_KINDS and not self.tool.is_error

    def compose(self) -> ComposeResult:
        # Few widgets per card: long sessions hold many cards and layout cost grows with widgets.
        yield Static(classes="tool-header", markup=False)
        if tool_kind(self.tool) == "exit_plan_mode":
            self._plan = StreamingMarkdown(classes="tool-plan -empty")
            yield self._plan
        yield Static(classes="tool-body -empty", markup=False)

    async def on_mount(self) -> None:
        self._ready = True  # `is_mounted` is still False inside on_mount
        self.set_class(self.collapsed, "-collapsed")
        if not self.query(".tool-body"):
            return  # removed as soon as mounted (a transcript's window moved on): its body is gone already
        await self.refresh_view()

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        self._update_header(force=True)

    # ------------------------------------------------------------------ updating

    def now(self) -> float:
        import time

        return self._clock() if self._clock is not None else time.monotonic()

    def duration(self) -> float | None:
        tool = self.tool
        if tool.started_at is None:
            return None
        end = tool.finished_at if tool.finished_at is not None else self.now()
        return max(0.0, end - tool.started_at)

    def _signature_now(self) -> tuple[Any, ...]:
        t = self.tool
        answer = t.permission.answer if t.permission else None
        return (t.status, len(t.input), t.result, t.progress, t.is_error, t.success, answer, t.name)

    @property
    def settled(self) -> bool:
        return self.tool.status in (ToolStatus.DONE, ToolStatus.FAILED)

    async def refresh_view(self) -> None:
        """Redraw what changed. Cheap when nothing did (one tuple compare and a header check)."""
        if not self._ready:
            return
        signature = self._signature_now()
        if signature != self._signature:
            self._signature = signature
            await self._update_body()
        self._update_header()

    def _header(self) -> Content:
        tool = self.tool
        status = tool.status
        if status is ToolStatus.RUNNING:
            icon = SPINNER[int(self.now() * 10) % len(SPINNER)]
        else:
            icon = STATUS_ICON.get(status, "•")
        arrow = "▸" if self.collapsed else "▾"
        name = display_name(tool.name)
        summary = short_summary(tool, tool.params)
        duration = format_duration(self.duration())
        status_style = {
            ToolStatus.DONE: "$text-success",
            ToolStatus.FAILED: "$text-error",
            ToolStatus.WAITING_PERMISSION: "bold $text-warning",
            ToolStatus.RUNNING: "$text-accent",
        }.get(status, "$text-muted")
        label = STATUS_LABEL[status]
        if tool.is_error and status is ToolStatus.DONE:
            label, status_style = "error", "$text-error"
        elif status is ToolStatus.FAILED and tool.permission is not None and tool.permission.answer is False:
            # Who said no matters: a timeout is not a decision the user made.
            label = (f"denied automatically · no answer in {tool.permission.timeout:.0f} s"
                     if tool.permission.auto_denied else "denied by you")
        pieces: list[Any] = [(f"{arrow} ", "$text-muted"), (f"{icon} ", status_style), (name, "bold")]
        if summary:
            pieces.append((f"  {summary}", "$text-muted"))
        pieces.append((f"  {label}", status_style))
        if duration:
            pieces.append((f" · {duration}", "$text-muted"))
        return Content.assemble(*pieces)

    def _update_header(self, force: bool = False) -> None:
        if not self._ready:
            return
        header = self._header()
        if force or header != self._header_text:
            self._header_text = header
            self.query_one(".tool-header", Static).update(header)

    async def _update_body(self) -> None:
        tool = self.tool
        kind = tool_kind(tool)
        params = tool.params
        sections: list[Content] = []
        has_plan = False

        if kind in SHELL_KINDS and params and isinstance(params.get("command"), str):
            sections.append(Content.assemble(("$ ", "bold $text-accent"), (params["command"], "bold")))
        elif kind in EDIT_KINDS and params:
            path = params.get("file_path") or params.get("path") or ""
            if path:
                sections.append(Content.assemble(("✎ ", "$text-accent"), (str(path), "bold")))
            diff = diff_text(params)
            if diff:
                sections.append(render_diff(diff))
        elif kind == "todo_write" and params and isinstance(params.get("todos"), list):
            sections.append(render_todos(params["todos"]))
        elif kind == "exit_plan_mode" and params and isinstance(params.get("plan"), str) and self._plan is not None:
            has_plan = True
            await self._plan.sync_text(params["plan"])
        elif params:
            lines = [Content.assemble((f"{key}: ", "$text-muted"), format_param(value)) for key, value in params.items()]
            if lines:
                sections.append(Content("\n").join(lines))
        elif params is None and tool.input and tool.status is not ToolStatus.PREPARING:
            sections.append(Content(format_param(tool.input)))  # not JSON: shown as it came; `{}` says nothing

        result = self.result_text()
        if result:
            failed = tool.is_error or tool.status is ToolStatus.FAILED
            text = clip_output(result)
            sections.append(Content.styled(text, "$text-error" if failed else "$text-muted"))

        body = self.query_one(".tool-body", Static)
        body.update(Content("\n").join(sections))
        # Classes, not inline `display`, so that the collapsed rule in the TCSS still wins.
        body.set_class(not sections, "-empty")
        if self._plan is not None:
            self._plan.set_class(not has_plan, "-empty")
        self.set_class(tool.status is ToolStatus.WAITING_PERMISSION, "-waiting")
        self.set_class(tool.status is ToolStatus.FAILED or tool.is_error, "-failed")
        self.set_class(tool.status is ToolStatus.RUNNING, "-running")
        if self.settled and not self._user_toggled and self._quiet_when_settled() and not self.collapsed:
            self.collapsed = True

    def body_text(self) -> str:
        """The card's body as plain text (what is shown under the header)."""
        if not self._ready:
            return ""  # not composed yet
        body = str(self.query_one(".tool-body", Static).render())
        if self._plan is not None and not self._plan.has_class("-empty"):
            body = self._plan.source + ("\n" + body if body else "")
        return body

    def result_text(self) -> str:
        tool = self.tool
        if tool.result:
            return tool.result
        if tool.sub_agent_text.length:
            return tool.sub_agent_text.text
        if tool.status in (ToolStatus.DONE, ToolStatus.FAILED) and tool.progress:
            return tool.progress
        return ""

    # ------------------------------------------------------------------ actions

    def action_toggle(self) -> None:
        self._user_toggled = True
        self.collapsed = not self.collapsed

    def action_copy(self) -> None:
        params = self.tool.params or {}
        text = self.result_text() or str(params.get("command") or self.tool.input)
        self.post_message(self.Copy(text))

    def on_click(self, event: Click) -> None:
        widget = event.widget
        if widget is not None and widget.has_class("tool-header"):
            event.stop()
            self.action_toggle()


class TodoCard(ToolCard):
    """The agent's todo list as a live checklist. Every `todo_write` call of a turn updates this one
    card in place (the message tracks later calls here instead of adding cards)."""

    HELP = """\
## Todo list

The agent's checklist for this task: ☐ pending, ◐ in progress, ☑ done. It updates in place
while the agent works.

- `enter`: fold or unfold the list
- `c`: copy the list
"""

    class Shown(Message):
        """A checklist appeared: the transcript folds the earlier ones (the newest list is the one)."""

    def __init__(self, tool: ToolCall, *, clock: Callable[[], float] | None = None, live: bool = False) -> None:
        super().__init__(tool, clock=clock, live=live)
        self.add_class("todo-card")
        self.tools: list[ToolCall] = [tool]
        self.superseded = False

    async def on_mount(self) -> None:
        await super().on_mount()
        self.post_message(self.Shown())

    def supersede(self) -> None:
        """A later turn wrote a newer list: fold this one to its header, marked as an earlier version."""
        if not self.superseded:
            self.superseded = True
            self.collapsed = True
            self._update_header(force=True)

    def track(self, tool: ToolCall) -> None:
        """A later todo_write of the same turn: it becomes the list shown."""
        if tool not in self.tools:
            self.tools.append(tool)

    def todos(self) -> list[tuple[str, str]]:
        """The newest list any tracked call carries (a call whose parameters are still streaming is skipped)."""
        for tool in reversed(self.tools):
            params = tool.params
            if params and isinstance(params.get("todos"), list):
                return todo_items(params["todos"])
        return []

    @property
    def current(self) -> ToolCall:
        return self.tools[-1]

    def _signature_now(self) -> tuple[Any, ...]:
        return tuple((t.status, len(t.input), t.result, t.is_error) for t in self.tools)

    def _header(self) -> Content:
        items = self.todos()
        done = sum(1 for _, s in items if s == "completed")
        tool = self.current
        arrow = "▸" if self.collapsed else "▾"
        if tool.status is ToolStatus.FAILED or tool.is_error:
            icon, style = "✗", "$text-error"
        elif tool.status in (ToolStatus.DONE,) and items and done == len(items):
            icon, style = "✓", "$text-success"
        elif tool.status is ToolStatus.RUNNING:
            icon, style = SPINNER[int(self.now() * 10) % len(SPINNER)], "$text-accent"
        else:
            icon, style = "☰", "$text-accent"
        pieces: list[Any] = [(f"{arrow} ", "$text-muted"), (f"{icon} ", style), ("Todo list", "bold")]
        if items:
            pieces.append((f"  {done} of {len(items)} done", "$text-success" if done == len(items) else "$text-muted"))
            active = next((text for text, s in items if s == "in_progress"), "")
            if active and not self.collapsed:
                pieces.append(("  · ", "$text-muted"))
                pieces.append((active if len(active) <= 50 else active[:49] + "…", "$text-warning"))
        if len(self.tools) > 1:
            pieces.append((f"  · updated {len(self.tools) - 1}×", "$text-muted"))
        if self.superseded:
            pieces.append(("  · earlier list, the current one is below", "$text-muted"))
        return Content.assemble(*pieces)

    async def _update_body(self) -> None:
        items = self.todos()
        tool = self.current
        sections: list[Content] = []
        if items:
            sections.append(render_todos([{"content": t, "status": s} for t, s in items]))
        elif tool.status is not ToolStatus.PREPARING:
            sections.append(Content.styled("(empty list)", "$text-muted"))
        if tool.is_error or tool.status is ToolStatus.FAILED:
            result = self.result_text()
            if result:
                sections.append(Content.styled(clip_output(result), "$text-error"))
        body = self.query_one(".tool-body", Static)
        body.update(Content("\n").join(sections))
        body.set_class(not sections, "-empty")
        self.set_class(tool.status is ToolStatus.FAILED or tool.is_error, "-failed")
        self.set_class(tool.status is ToolStatus.RUNNING, "-running")

    def body_text(self) -> str:
        if not self._ready:
            return ""  # not composed yet
        return str(self.query_one(".tool-body", Static).render())

    def action_copy(self) -> None:
        marks = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]", "cancelled": "[-]"}
        self.post_message(self.Copy("\n".join(f"- {marks[s]} {t}" for t, s in self.todos())))
