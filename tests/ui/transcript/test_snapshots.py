"""Snapshots of the message pane's main states (fixed clock: durations and countdowns are frozen)."""

from __future__ import annotations

import json

from tui.api import events as ev
from tui.api.backend import ChatMessage, MessagePage
from tui.api.turn import ToolCall, ToolStatus, TurnModel

from .host import HostApp

SIZE = (100, 34)

ANSWER = """## Parsing the log

Split each line on the first colon, then count the levels:

```python
from collections import Counter

def levels(lines):
    return Counter(line.split(":", 1)[0] for line in lines if ":" in line)
```

| level | count | share |
| ----- | ----: | ----- |
| INFO  |   812 | 81 %  |
| WARN  |   150 | 15 %  |
| ERROR |    38 | 4 %   |

- **INFO** dominates, as expected.
- The `ERROR` lines all come from one job.
"""


async def settle(pilot) -> None:
    await pilot.pause(0.2)
    await pilot.pause()


def streamed_answer_app() -> HostApp:
    app = HostApp()
    return app


async def stream_answer(pilot) -> None:
    app: HostApp = pilot.app
    app.transcript.add_user_message("How are the log levels distributed?")
    turn = TurnModel(clock=app.clock, started_at=app.clock())
    app.transcript.start_turn(turn)
    for i in range(0, len(ANSWER), 7):
        turn.apply(ev.ContentDelta(ANSWER[i : i + 7]))
        if i % 140 == 0:
            await pilot.pause(0.02)
    turn.apply(ev.Complete(content=ANSWER))
    await settle(pilot)


def test_snapshot_streamed_answer_with_code_and_table(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=stream_answer)


def tool_turn(pilot, tool: ToolCall, answer: str = "") -> None:
    app: HostApp = pilot.app
    page = MessagePage(
        messages=[
            ChatMessage(id="u", role="user", text="Please make the change.", index=0),
            ChatMessage(id="a", role="assistant", text=answer, tool_calls=[tool], index=1),
        ],
        start=0,
        total=2,
    )
    app.transcript.show_history(page)


async def edit_card(pilot) -> None:
    params = {"file_path": "src/config.py", "old_string": "DEBUG = True\nPORT = 8000\n", "new_string": "DEBUG = False\nPORT = 8080\n"}
    tool = ToolCall(id="t", name="edit", input=json.dumps(params), status=ToolStatus.DONE, result="Edited src/config.py", started_at=0.0, finished_at=0.042)
    tool_turn(pilot, tool, "Turned debug off and moved the port.")
    await settle(pilot)


def test_snapshot_tool_card_with_diff(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=edit_card)


async def todo_card(pilot) -> None:
    todos = [
        {"id": "1", "content": "Read the failing test", "status": "completed"},
        {"id": "2", "content": "Fix the off-by-one in the pager", "status": "in_progress"},
        {"id": "3", "content": "Add a regression test", "status": "pending"},
    ]
    tool = ToolCall(id="t", name="todo_write", input=json.dumps({"todos": todos}), status=ToolStatus.DONE, result="Todos updated", started_at=0.0, finished_at=0.003)
    tool_turn(pilot, tool)
    await settle(pilot)


def test_snapshot_todo_checklist(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=todo_card)


async def plan_card(pilot) -> None:
    plan = "## Plan\n\n1. Add a `--limit` flag to `export`.\n2. Stream rows instead of loading them all.\n3. Document the flag in the README.\n"
    tool = ToolCall(id="t", name="exit_plan_mode", input=json.dumps({"plan": plan}), status=ToolStatus.DONE, result="", started_at=0.0, finished_at=0.001)
    tool_turn(pilot, tool)
    await settle(pilot)


def test_snapshot_plan_card(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=plan_card)


async def permission_prompt(pilot) -> None:
    app: HostApp = pilot.app
    app.transcript.add_user_message("Clean the build folder.")
    turn = TurnModel(clock=app.clock, started_at=app.clock())
    app.transcript.start_turn(turn)
    for event in (
        ev.ContentDelta("I'll remove the old build output."),
        ev.ToolUseStart(id="t1", name="bash"),
        ev.ToolParametersComplete(id="t1", name="bash", input='{"command": "rm -rf build/"}'),
        ev.ToolExecutionStart(tool_call_id="t1", tool_name="bash"),
        ev.PermissionRequest(id="p1", tool_name="bash", description="Execute command: rm -rf build/", params={"command": "rm -rf build/"}),
        ev.PermissionRequest(id="p2", tool_name="write", description="Create file notes.md", params={"file_path": "notes.md", "diff": "--- a/notes.md\n+++ b/notes.md\n@@ -0,0 +1 @@\n+cleaned\n"}),
    ):
        turn.apply(event)
    await settle(pilot)
    app.clock.advance(7)
    # Timers redraw the countdown and the running duration; wait for both (slow machines included).
    prompt_title = app.prompt.query_one(".permission-title")
    card_header = app.transcript.query_one(".tool-header")
    for _ in range(100):
        if "23 s" in str(prompt_title.render()) and "7.0 s" in str(card_header.render()):
            break
        await pilot.pause(0.05)
    await settle(pilot)


def test_snapshot_permission_prompt(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=permission_prompt)


async def error_card(pilot) -> None:
    app: HostApp = pilot.app
    app.transcript.add_user_message("Summarise the report.")
    turn = TurnModel(clock=app.clock, started_at=app.clock())
    app.transcript.start_turn(turn)
    turn.apply(ev.ContentDelta("The report covers three quarters and"))
    await pilot.pause(0.05)
    turn.apply(ev.Error("Provider returned 500: upstream model overloaded", type="server_error"))
    await settle(pilot)


def test_snapshot_error_card(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=error_card)


async def stream_answer_light(pilot) -> None:
    pilot.app.theme = "textual-light"
    await stream_answer(pilot)


def test_snapshot_streamed_answer_light_theme(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=stream_answer_light)


async def interrupted_and_cancelled_history(pilot) -> None:
    """Reopened after a crash and after an Esc: the kept text of each answer, marked, muted."""
    app: HostApp = pilot.app
    app.transcript.show_history(MessagePage(messages=[
        ChatMessage(id="u1", role="user", text="Summarise the report.", index=0),
        ChatMessage(id="a1", role="assistant", text="The report covers three quarters and", reasoning="Read it first.",
                    index=1, ended="interrupted"),
        ChatMessage(id="u2", role="user", text="List the quarters.", index=2),
        ChatMessage(id="a2", role="assistant", text="1. Q1\n2. Q2", index=3, ended="canceled"),
    ], start=0, total=4))
    await settle(pilot)


def test_snapshot_interrupted_and_cancelled_answers_from_history(snap_compare) -> None:
    assert snap_compare(HostApp(), terminal_size=SIZE, run_before=interrupted_and_cancelled_history)
