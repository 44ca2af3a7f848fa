"""Cards for what slash commands and `!` shell commands answer.

A slash command's answer is one `complete` whose content is a JSON string with a `type` naming
the command (PROTOCOL §5.6; the shapes are listed in tui/server/commands.py). Each known type gets
its own card; anything else stays Markdown. A `!command` answer is a fenced block (maybe after an
`Error: …` line) and is shown as command output with the command on top.

Cards are plain `Static`s drawing one `Content`: cheap, and drawn again only when their width changes.
"""

from __future__ import annotations

import re
import textwrap
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

from textual.content import Content
from textual.widgets import Static

from tui.controllers.command_log import COMMAND_TYPES, parse_command_output  # noqa: F401 — imported from here too

BAR_WIDTH = 30
MAX_ROWS = 60  # rows of a list card; the rest is summarised
# The card's text width while a card is drawn (0: unknown). A table's last column wraps within it under
# its own heading instead of running back into the first column.
_table_width: ContextVar[int] = ContextVar("table_width", default=0)


# ---------------------------------------------------------------------------- small helpers


def _s(value: Any, default: str = "") -> str:
    return default if value is None else str(value)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _short_id(value: Any) -> str:
    text = _s(value)
    return text if len(text) <= 12 else text[:8] + "…"


def _date(value: Any) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` (anything else as it is)."""
    text = _s(value)
    m = re.match(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})", text)
    return f"{m.group(1)} {m.group(2)}" if m else text


def _cost(value: Any) -> str:
    return f"${_num(value):.4f}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _table(headers: list[str], rows: list[list[str | tuple[str, str]]], widths: list[int] | None = None) -> Content:
    """A plain aligned table: a bold header row and the rows; a cell may be (text, style)."""
    plain_rows = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
    if widths is None:
        widths = [max([len(h)] + [len(r[i]) for r in plain_rows]) for i, h in enumerate(headers)]
    widths = [min(w, 48) for w in widths]
    lines: list[Content] = []
    head = Content.assemble(*[(h.ljust(widths[i]) + ("  " if i < len(headers) - 1 else ""), "bold $text-muted")
                              for i, h in enumerate(headers)])
    lines.append(head)
    indent = sum(w + 2 for w in widths[:-1])
    room = _table_width.get() - indent
    for row in rows[:MAX_ROWS]:
        cells: list[tuple[str, str] | str] = []
        for i, cell in enumerate(row):
            text, style = (cell, "") if isinstance(cell, str) else cell
            last = i == len(row) - 1
            if not last:
                text = _clip(text, widths[i]).ljust(widths[i]) + "  "
            elif room >= 12 and len(text) > room:
                text = ("\n" + " " * indent).join(textwrap.wrap(text, room))
            cells.append((text, style))
        lines.append(Content.assemble(*cells))
    if len(rows) > MAX_ROWS:
        lines.append(Content.styled(f"… {len(rows) - MAX_ROWS} more", "$text-muted"))
    return Content("\n").join(lines)


def _fields(pairs: list[tuple[str, str | Content]]) -> Content:
    """`label  value` lines with the labels aligned."""
    width = max((len(k) for k, _ in pairs), default=0)
    lines = []
    for key, value in pairs:
        lines.append(Content.assemble((key.ljust(width) + "  ", "$text-muted"), value))
    return Content("\n").join(lines)


def _yes(flag: Any, yes: str = "yes", no: str = "no") -> tuple[str, str]:
    return (yes, "$text-success") if flag else (no, "$text-muted")


def usage_bar(percent: float, level: str, width: int = BAR_WIDTH) -> Content:
    """A bar like `████████░░░░░░` coloured by the warning level."""
    filled = max(0, min(width, round(width * percent / 100.0)))
    style = {"critical": "$text-error", "warning": "$text-warning"}.get(level, "$text-success")
    return Content.assemble(("█" * filled, style), ("░" * (width - filled), "$text-muted"))


def _providers_table(providers: list[Any]) -> Content:
    rows: list[list[str | tuple[str, str]]] = []
    for p in providers:
        if not isinstance(p, dict):
            continue
        name = _s(p.get("displayName") or p.get("provider"))
        if p.get("preferred"):
            name += " ★"
        method = _s(p.get("authMethod")) or "—"
        rows.append([name, _yes(p.get("authenticated"), "✓ signed in", "✗ not signed in"), method])
    if not rows:
        return Content.styled("No providers reported.", "$text-muted")
    return _table(["provider", "state", "method"], rows)


# ---------------------------------------------------------------------------- one renderer per type

Rendered = tuple[str, Content, str]  # title, body, extra class


def _render_help(d: dict) -> Rendered:
    rows: list[list[str | tuple[str, str]]] = []
    for c in d.get("commands") or []:
        if isinstance(c, dict):
            usage = _s(c.get("usage")) or "/" + _s(c.get("name"))
            rows.append([(usage, "bold $text-accent"), _s(c.get("description"))])
    body = _table(["command", "what it does"], rows) if rows else Content.styled("No commands.", "$text-muted")
    return "Commands", body, ""


def _render_clear(d: dict) -> Rendered:
    return "Clear", Content(_s(d.get("message")) or "Start a new session to begin with an empty context."), ""


def _render_session(d: dict) -> Rendered:
    s = d.get("session") if isinstance(d.get("session"), dict) else {}
    pairs: list[tuple[str, str | Content]] = [
        ("title", Content.styled(_s(s.get("title")) or "untitled", "bold")),
        ("id", _s(s.get("id"))),
        ("created", _date(s.get("createdAt"))),
        ("messages", f"{_int(s.get('messageCount'))} ({_int(s.get('userMessageCount'))} yours, "
                     f"{_int(s.get('assistantMessageCount'))} answers, {_int(s.get('toolCallCount'))} tool calls)"),
        ("tokens", f"{_int(s.get('promptTokens')):,} in · {_int(s.get('completionTokens')):,} out"),
        ("cost", _cost(s.get("cost"))),
    ]
    if s.get("parentSessionId"):
        pairs.append(("forked from", _s(s.get("parentSessionId"))))
    if s.get("workingDirectory"):
        pairs.append(("folder", _s(s.get("workingDirectory"))))
    if "fileCount" in s:
        pairs.append(("files", str(_int(s.get("fileCount")))))
    return "Session", _fields(pairs), ""


def _render_sessions(d: dict) -> Rendered:
    sessions = [s for s in d.get("sessions") or [] if isinstance(s, dict)]
    current = d.get("currentSessionId")
    rows: list[list[str | tuple[str, str]]] = []
    for s in sessions:
        mine = s.get("current") or (current and s.get("id") == current)
        title = ("▸ " if mine else "  ") + (_s(s.get("title")) or "untitled")
        rows.append([(title, "bold $text-accent" if mine else ""), _date(s.get("createdAt")),
                     str(_int(s.get("messageCount"))), _cost(s.get("cost")), (_short_id(s.get("id")), "$text-muted")])
    if not rows:
        return "Sessions", Content.styled("No sessions.", "$text-muted"), ""
    title = f"Sessions · {len(rows)}"
    return title, _table(["title", "created", "messages", "cost", "id"], rows), ""


def _render_tools(d: dict) -> Rendered:
    rows: list[list[str | tuple[str, str]]] = []
    for t in d.get("tools") or []:
        if isinstance(t, dict):
            asks = _yes(t.get("requiresPermission"), "asks first", "no")
            rows.append([(_s(t.get("name")), "bold"), asks, _s(t.get("description"))])
    body = _table(["tool", "permission", "what it does"], rows) if rows else Content.styled("No tools.", "$text-muted")
    return "Tools", body, ""


MCP_STDERR_LINES = 3  # of a failed server's stderr, in the /mcp card (F9 shows more)


def _render_mcp(d: dict) -> Rendered:
    servers = [s for s in d.get("servers") or [] if isinstance(s, dict)]
    if not servers:
        return "MCP servers", Content.styled("No MCP servers are configured.", "$text-muted"), ""
    blocks: list[Content] = []
    for s in servers:
        connected = bool(s.get("connected"))
        state = _s(s.get("status")) or ("connected" if connected else "not connected")
        if s.get("retryIn") is not None:
            state += f" · retry in {_int(s.get('retryIn'))} s"
        if s.get("readOnly"):
            state += " · read-only"
        head = Content.assemble(("● " if connected else "○ ", "$text-success" if connected else "$text-error"),
                                (_s(s.get("name")) or "server", "bold"), (f"  {state}", "$text-muted"))
        lines = [head]
        target = _s(s.get("command")) or _s(s.get("url"))
        if target:
            lines.append(Content.assemble(("  ", ""), (target, "$text-muted")))
        if s.get("error"):
            lines.append(Content.assemble(("  ", ""), (_s(s.get("error")), "$text-warning")))
        stderr = [_s(line) for line in s.get("stderr") or []][-MCP_STDERR_LINES:]
        lines += [Content.assemble(("  │ ", "$text-muted"), (line, "$text-muted")) for line in stderr]
        tools = [t for t in s.get("tools") or []]
        if tools:
            names = [(_s(t.get("name")) if isinstance(t, dict) else _s(t)) for t in tools]
            lines.append(Content.assemble(("  tools: ", "$text-muted"), ", ".join(names)))
        elif connected:
            lines.append(Content.styled("  no tools", "$text-muted"))
        blocks.append(Content("\n").join(lines))
    return f"MCP servers · {len(servers)}", Content("\n").join(blocks), ""


def _render_context(d: dict) -> Rendered:
    used, limit = _int(d.get("used")), _int(d.get("limit"))
    percent = _num(d.get("percent")) if d.get("percent") is not None else (100.0 * used / limit if limit else 0.0)
    level = _s(d.get("level")) or ("critical" if percent >= 90 else "warning" if percent >= 70 else "ok")
    label, style = {"critical": ("critical: the context is almost full", "bold $text-error"),
                    "warning": ("warning: the context is filling up", "bold $text-warning")}.get(level, ("ok", "$text-success"))
    lines = [
        Content.assemble(usage_bar(percent, level), (f"  {percent:.1f} %", "bold")),
        Content.assemble((f"{used:,}", "bold"), (f" of {limit:,} tokens used", "$text-muted"), ("  ·  ", "$text-muted"), (label, style)),
    ]
    extra = []
    if d.get("model"):
        extra.append(f"model {d['model']}")
    if d.get("messages") is not None:
        extra.append(f"{_int(d.get('messages'))} messages")
    if d.get("files") is not None:
        extra.append(f"{_int(d.get('files'))} files")
    if extra:
        lines.append(Content.styled(" · ".join(extra), "$text-muted"))
    if level in ("warning", "critical"):
        lines.append(Content.styled("Start a new session (/clear) to begin with an empty context.", "$text-muted"))
    return "Context", Content("\n").join(lines), f"-{level}" if level in ("warning", "critical") else ""


def _render_status(d: dict) -> Rendered:
    pairs: list[tuple[str, str | Content]] = [
        ("server", f"mix {_s(d.get('version'))}".strip()),
        ("provider", Content.styled(_s(d.get("provider")) or "—", "bold")),
        ("model", _s(d.get("model")) or "—"),
        ("session", _s(d.get("sessionId")) or "—"),
        ("MCP servers", str(_int(d.get("mcpServers")))),
        ("running", Content.styled(*_yes(d.get("runningTurn"), "a turn is running", "idle"))),
    ]
    body = _fields(pairs)
    providers = d.get("providers")
    if isinstance(providers, list) and providers:
        body = Content("\n").join([body, Content(""), _providers_table(providers)])
    return "Status", body, ""


def _render_login(d: dict) -> Rendered:
    parts = [_providers_table(d.get("providers") or [])]
    if d.get("message"):
        parts += [Content(""), Content.styled(_s(d.get("message")), "$text-muted")]
    return "Login", Content("\n").join(parts), ""


def _render_logout(d: dict) -> Rendered:
    done = bool(d.get("loggedOut"))
    provider = _s(d.get("provider"))
    head = Content.assemble(("✓ " if done else "• ", "$text-success" if done else "$text-warning"),
                            (_s(d.get("message")) or (f"Logged out of {provider}" if done else "Nothing to log out of"), "bold"))
    parts = [head]
    if isinstance(d.get("providers"), list) and d["providers"]:
        parts += [Content(""), _providers_table(d["providers"])]
    return "Logout", Content("\n").join(parts), ""


RENDERERS: dict[str, Callable[[dict], Rendered]] = {
    "help": _render_help, "clear": _render_clear, "session": _render_session, "sessions": _render_sessions,
    "tools": _render_tools, "mcp": _render_mcp, "context": _render_context, "status": _render_status,
    "login": _render_login, "logout": _render_logout,
}


def command_card_text(data: dict, width: int = 100) -> str:
    """What the card of `data` shows, as plain text `width` columns wide (the export writes this)."""
    kind = _s(data.get("type"))
    token = _table_width.set(width)
    try:
        title, body, _extra = RENDERERS[kind](data)
    finally:
        _table_width.reset(token)
    return "\n".join(line.rstrip() for line in f"{_heading(kind, title)}\n\n{body.plain}".splitlines())


def _heading(kind: str, title: str) -> str:
    return f"/{kind} · {title}" if title.lower() != kind else f"/{kind}"


class CommandCard(Static):
    """The answer of one slash command, drawn from its structured content."""

    def __init__(self, data: dict) -> None:
        kind = _s(data.get("type"))
        title, body, extra = RENDERERS[kind](data)
        classes = f"command-card -{kind}" + (f" {extra}" if extra else "")
        super().__init__(classes=classes, markup=False)
        self.data = data
        self.kind = kind
        self.border_title = _heading(kind, title)
        self._body = body
        self._width = 0
        self.update(body)

    def on_resize(self) -> None:
        width = self.content_size.width
        if width and width != self._width:
            self._width = width
            self._draw()

    def _draw(self) -> None:
        token = _table_width.set(self._width)
        try:
            _title, self._body, _extra = RENDERERS[self.kind](self.data)
        finally:
            _table_width.reset(token)
        self.update(self._body)

    @property
    def text(self) -> str:
        return self._body.plain

    async def sync_text(self, text: str) -> None:
        """Same interface as the answer's Markdown: a command answer arrives whole, so this only redraws."""
        data = parse_command_output(text)
        if data is not None and data != self.data:
            self.data = data
            self._draw()


# ---------------------------------------------------------------------------- `!` shell commands


@dataclass(frozen=True)
class ShellOutput:
    command: str
    output: str
    status: str  # "ok" | "failed" | "denied" | "not run" | "timed out"
    note: str = ""  # the server's `Error: …` line, without the prefix


_FENCE = re.compile(r"^(`{3,})[^\n]*\n(.*?)\n?\1\s*$", re.S | re.M)


def parse_shell_output(command: str, content: str) -> ShellOutput:
    """Split the server's answer to `!command`: an optional `Error: …` line and a fenced block."""
    text = content.strip("\n")
    note = ""
    if text.startswith("Error:"):
        first, _, text = text.partition("\n")
        note = first[len("Error:"):].strip()
        text = text.strip("\n")
    m = _FENCE.search(text)
    output = m.group(2) if m else text
    low = note.lower()
    if not note:
        status = "ok"
    elif "permission denied" in low:
        status = "denied"
    elif "timed out" in low:
        status = "timed out"
    elif "not run" in low or "no command" in low:
        status = "not run"
    else:
        status = "failed"
    if output.strip() == "(no output)":
        output = ""
    return ShellOutput(command=command, output=output, status=status, note=note)


SHELL_STATUS = {
    "ok": ("✓ done", "$text-success"),
    "failed": ("✗ failed", "$text-error"),
    "denied": ("✗ permission denied", "$text-error"),
    "not run": ("• not run", "$text-warning"),
    "timed out": ("✗ timed out", "$text-error"),
}


class ShellOutputCard(Static):
    """What a `!command` printed, under the command, like a terminal."""

    def __init__(self, command: str, content: str) -> None:
        super().__init__(classes="shell-output-card", markup=False)
        self.command = command
        self.result = parse_shell_output(command, content)
        self._draw()

    def _draw(self) -> None:
        r = self.result
        label, style = SHELL_STATUS.get(r.status, (r.status, ""))
        lines = [Content.assemble(("$ ", "bold $text-accent"), (r.command or "(no command)", "bold"), ("   ", ""), (label, style))]
        if r.note and r.status != "ok":
            lines.append(Content.styled(r.note, "$text-error" if r.status != "not run" else "$text-warning"))
        if r.output:
            lines.append(Content(r.output))
        elif r.status == "ok":
            lines.append(Content.styled("(no output)", "$text-muted"))
        self.set_class(r.status != "ok", "-failed")
        self.update(Content("\n").join(lines))

    @property
    def text(self) -> str:
        return str(self.render())

    async def sync_text(self, text: str) -> None:
        result = parse_shell_output(self.command, text)
        if result != self.result:
            self.result = result
            self._draw()
