"""Snapshots of the plan card (waiting for the choice), a live todo list mid-turn, and the context
card at its warning level. The clock is a FakeClock: durations and spinners are frozen."""

from __future__ import annotations

import json

from tui.api import events as ev

from .host import AgentHost, feed, start_turn

SIZE = (100, 30)

PLAN = """## Plan: a CSV export with a row limit

**What I found:** the folder has 3 entries: `export.py`, `README.md`, `tests/`.

### Steps

1. Add a `--limit` flag to `export.py`
2. Stream rows instead of loading them all
3. Document the flag in `README.md`

### Notes

- Creating or changing files and running commands will ask for your permission first.
"""


async def plan_waiting(pilot) -> None:
    app: AgentHost = pilot.app
    turn = await start_turn(app, pilot, "plan a CSV export with a row limit")
    await feed(pilot, turn, [
        ev.ContentDelta("I'll look at the folder, then write the plan."),
        ev.ToolUseStart(id="p1", name="exit_plan_mode"),
        ev.ToolParametersComplete(id="p1", name="exit_plan_mode", input=json.dumps({"plan": PLAN})),
        ev.ToolExecutionStart(tool_call_id="p1", tool_name="exit_plan_mode"),
        ev.ToolExecutionComplete(tool_call_id="p1", tool_name="exit_plan_mode", success=True),
        ev.ContentDelta("The plan is ready."),
        ev.Complete(content="The plan is ready."),
    ])
    await pilot.pause(0.3)


def test_snapshot_plan_card_waiting_for_a_choice(snap_compare) -> None:
    assert snap_compare(AgentHost(), terminal_size=SIZE, run_before=plan_waiting)


def _todos(statuses: list[str]) -> str:
    steps = ["Look at the files in the session folder", "Add a `--limit` flag", "Stream the rows", "Check the result"]
    return json.dumps({"todos": [{"id": str(i), "content": s, "status": st} for i, (s, st) in enumerate(zip(steps, statuses))]})


async def todo_mid_turn(pilot) -> None:
    app: AgentHost = pilot.app
    turn = await start_turn(app, pilot, "go ahead with the plan")
    events: list[ev.Event] = [ev.ContentDelta("Going ahead with the plan.")]
    for n, statuses in enumerate((["in_progress", "pending", "pending", "pending"],
                                  ["completed", "completed", "in_progress", "pending"])):
        call = f"t{n}"
        events += [
            ev.ToolUseStart(id=call, name="todo_write"),
            ev.ToolParametersComplete(id=call, name="todo_write", input=_todos(statuses)),
            ev.ToolExecutionStart(tool_call_id=call, tool_name="todo_write"),
            ev.ToolExecutionComplete(tool_call_id=call, tool_name="todo_write", success=True),
        ]
        if n == 0:
            events += [ev.ToolUseStart(id="e1", name="edit"),
                       ev.ToolParametersComplete(id="e1", name="edit", input=json.dumps(
                           {"file_path": "export.py", "old_string": "def export(rows):", "new_string": "def export(rows, limit=None):"})),
                       ev.ToolExecutionStart(tool_call_id="e1", tool_name="edit"),
                       ev.ToolExecutionComplete(tool_call_id="e1", tool_name="edit", success=True)]
    events.append(ev.ContentDelta("Now streaming the rows"))
    await feed(pilot, turn, events)
    await pilot.pause(0.3)


def test_snapshot_live_todo_list(snap_compare) -> None:
    assert snap_compare(AgentHost(), terminal_size=SIZE, run_before=todo_mid_turn)


async def context_warning(pilot) -> None:
    app: AgentHost = pilot.app
    turn = await start_turn(app, pilot, "/context")
    data = {"type": "context", "model": "claude-sonnet-4", "used": 152_300, "limit": 200_000, "percent": 76.2,
            "level": "warning", "messages": 48}
    await feed(pilot, turn, [ev.Complete(content=json.dumps(data))])
    await pilot.pause(0.3)


def test_snapshot_context_card(snap_compare) -> None:
    assert snap_compare(AgentHost(), terminal_size=SIZE, run_before=context_warning)


async def tools_card(pilot) -> None:
    """Long descriptions wrap under their own heading, not back into the first column."""
    app: AgentHost = pilot.app
    turn = await start_turn(app, pilot, "/tools")
    data = {"type": "tools", "tools": [
        {"name": "ls", "requiresPermission": False,
         "description": "List the entries of a folder inside the session folder (not recursive)."},
        {"name": "bash", "requiresPermission": True,
         "description": "Run a shell command with `sh -c` in the session folder. Timeout in seconds (default 30, "
                        "at most 120); combined output is cut after 30000 bytes. Asks the user first."},
        {"name": "todo_write", "requiresPermission": False, "description": "Replace the session's todo list. ✅ 🇨🇭"},
    ]}
    await feed(pilot, turn, [ev.Complete(content=json.dumps(data))])
    await pilot.pause(0.3)


def test_snapshot_tools_card(snap_compare) -> None:
    assert snap_compare(AgentHost(), terminal_size=SIZE, run_before=tools_card)
