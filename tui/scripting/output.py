"""What a run writes: the answer on stdout (plain text, or one JSON object per event), progress on stderr.

Plain text is the Markdown answer as the model wrote it, streamed as it arrives. Control characters
and terminal escape sequences in the model's text are dropped: a pipe gets clean text, and a
terminal is never driven by what a model wrote. JSON lines carry the typed events of `tui.api.events`
(`{"type": "content_delta", "content": ...}`), one per line, flushed one by one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, TextIO

from tui.api import events as ev
from tui.api.turn import ToolCall

# CSI / OSC / other ESC sequences, then every C0 control but tab and newline, and DEL.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f]")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
PARAM_CHARS = 60  # a tool call's parameters on the progress line are cut here


def clean_text(text: str) -> str:
    """The text without terminal escapes or control characters (\\r\\n becomes \\n)."""
    return _ESCAPES.sub("", text.replace("\r\n", "\n"))


def event_type(event: object) -> str:
    """`ContentDelta` -> `content_delta`: the JSON name of a typed event."""
    return _CAMEL.sub("_", type(event).__name__).lower()


def event_json(event: object) -> dict[str, Any]:
    """One typed event as a JSON object: its fields, under its `type`."""
    if isinstance(event, ev.Resynced):  # the refetched history is not an event of this turn
        return {"type": "resynced", "session_id": event.session_id, "messages": len(event.messages),
                "error": event.error}
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)} if dataclasses.is_dataclass(event) else {}
    return {"type": event_type(event), **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}


class Sink:
    """stdout, written and flushed piece by piece; once the reader is gone (`| head`) it is `closed`
    and further writes are dropped instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed = False

    def write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):  # the pipe's reader left, or the stream was closed
            self.closed = True


class JsonLines:
    """One JSON object per line on `out`, flushed as each one is written."""

    def __init__(self, out: Sink) -> None:
        self.out = out

    def write(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")

    def event(self, event: object) -> None:
        if isinstance(event, ev.Heartbeat):
            return
        self.write(event_json(event))


class PlainText:
    """The answer's text blocks in order, streamed; a block after a tool call starts on a new line."""

    def __init__(self, out: Sink) -> None:
        self.out = out
        self.written = ""  # everything written so far (to add what `complete` says and the deltas missed)
        self._after_tool = False

    @property
    def line_open(self) -> bool:
        return bool(self.written) and not self.written.endswith("\n")

    def text(self, chunk: str) -> None:
        chunk = clean_text(chunk)
        if not chunk:
            return
        if self._after_tool and self.written:
            chunk = ("\n" if self.written.endswith("\n") else "\n\n") + chunk.lstrip("\n")
        self._after_tool = False
        self.written += chunk
        self.out.write(chunk)

    def tool_call(self) -> None:
        self._after_tool = True

    def finish(self, missing: str = "") -> None:
        """The turn is over: write what `complete` said that the deltas did not bring (a server that
        sends no deltas, or dropped some), and end with a newline."""
        if missing:
            self.text(missing)
        if self.line_open:
            self.out.write("\n")
            self.written += "\n"


class Progress:
    """One line on stderr when thinking starts and for each tool call, only when stderr is a terminal.

    When stdout is the same terminal and its line is still open, the progress line starts on a new
    line so the answer and the progress never share one."""

    def __init__(self, err: TextIO, enabled: bool, answer: PlainText | None = None) -> None:
        self.err = err
        self.enabled = enabled
        self.answer = answer
        self._thinking = False

    def _line(self, text: str) -> None:
        if not self.enabled:
            return
        if self.answer is not None and self.answer.line_open:
            self.answer.out.write("\n")
            self.answer.written += "\n"
        self.err.write(text + "\n")
        self.err.flush()

    def thinking(self) -> None:
        if not self._thinking:
            self._thinking = True
            self._line("· thinking…")

    def answering(self) -> None:
        self._thinking = False

    def tool_done(self, tool: ToolCall, refused: bool = False) -> None:
        self._thinking = False
        mark = "✗" if refused or tool.success is False else "✓"
        note = " (permission refused)" if refused else ("" if tool.success is not False else " (failed)")
        request = tool.permission.request if tool.permission else None
        detail = clean_text(summary(tool) or (summary(request.params, request.path) if request else "") or tool.progress)
        self._line(f"{mark} {tool.kind or 'tool'}{(' ' + detail) if detail else ''}{note}")


def summary(tool: ToolCall | dict, base: str = "") -> str:
    """A call's parameters in one short line: the first path/command-like value (relative to `base`,
    the session folder, when under it), else the JSON."""
    params = (tool if isinstance(tool, dict) else tool.params) or {}
    prefix = base.rstrip("/") + "/" if base else ""
    for key in ("command", "path", "file_path", "pattern", "query", "url"):
        value = params.get(key)
        if isinstance(value, str) and value:
            value = value.splitlines()[0]
            return _cut(value[len(prefix):] if prefix and value.startswith(prefix) else value)
    return _cut(json.dumps(params, ensure_ascii=False)) if params else ""


def _cut(text: str) -> str:
    return text if len(text) <= PARAM_CHARS else text[: PARAM_CHARS - 1] + "…"
