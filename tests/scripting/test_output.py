"""What a run writes, as plain Python: escapes dropped, blocks separated, progress lines on stderr."""

from __future__ import annotations

import io

from tui.api import events as ev
from tui.api.turn import TurnModel
from tui.scripting.output import JsonLines, PlainText, Progress, Sink, clean_text, event_json, summary


def test_clean_text_drops_escapes_and_controls_but_keeps_markdown():
    assert clean_text("**bold**\x1b[31m red\x1b[0m\r\nnext\x07 \x1b]0;title\x07ok\ttab") == "**bold** red\nnext ok\ttab"


def test_text_blocks_after_a_tool_call_start_on_their_own_line_and_the_end_has_a_newline():
    out = io.StringIO()
    text = PlainText(Sink(out))
    text.text("Let me look.")
    text.tool_call()
    text.text("Found it.")
    text.finish("")
    assert out.getvalue() == "Let me look.\n\nFound it.\n"


def test_finish_adds_what_the_deltas_missed():
    out = io.StringIO()
    text = PlainText(Sink(out))
    text.text("Hel")
    text.finish("lo")
    assert out.getvalue() == "Hello\n"


def test_progress_lines_close_the_open_answer_line_when_both_share_the_terminal():
    out, err = io.StringIO(), io.StringIO()
    answer = PlainText(Sink(out))
    progress = Progress(err, enabled=True, answer=answer)
    turn = TurnModel()
    answer.text("Working on it")
    progress.thinking()
    progress.thinking()  # once per stretch of thinking
    for event in (ev.ToolUseStart("t1", "bash"), ev.ToolParametersComplete("t1", "bash", '{"command": "ls -la\\npwd"}'),
                  ev.ToolExecutionStart("t1", "bash"), ev.ToolExecutionComplete("t1", "bash", "", success=False)):
        turn.apply(event)
    progress.tool_done(turn.tools["t1"], refused=True)
    assert out.getvalue() == "Working on it\n"
    assert err.getvalue() == "· thinking…\n✗ bash ls -la (permission refused)\n"


def test_disabled_progress_writes_nothing():
    err = io.StringIO()
    Progress(err, enabled=False).thinking()
    assert err.getvalue() == ""


def test_summary_is_relative_to_the_session_folder_and_short():
    assert summary({"file_path": "/srv/s1/notes.md"}, "/srv/s1") == "notes.md"
    assert len(summary({"command": "x" * 500})) == 60


def test_event_json_names_and_fields():
    assert event_json(ev.PermissionRequest("p1", tool_name="write", params={"a": 1})) == {
        "type": "permission_request", "id": "p1", "session_id": "", "tool_name": "write", "description": "",
        "action": "", "path": "", "params": {"a": 1}, "parent_tool_call_id": None}
    out = io.StringIO()
    lines = JsonLines(Sink(out))
    lines.event(ev.Heartbeat())
    lines.event(ev.Notification("n1", choices=("yes", "no")))
    assert out.getvalue().count("\n") == 1 and '"choices": ["yes", "no"]' in out.getvalue()


def test_a_closed_pipe_closes_the_sink_instead_of_raising():
    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    sink = Sink(Gone())
    text = PlainText(sink)
    text.text("hello")
    text.finish("")
    assert sink.closed
