"""The agent-aware widgets on a small host app: live todo list, plan card choices, command cards
from the embedded server's real answers, `!` output, and the rate-limit countdown."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.mix_server import mix_server  # noqa: F401
from tui.api import events as ev
from tui.api.turn import TurnStatus
from tui.widgets.command_cards import CommandCard, ShellOutputCard, parse_command_output, parse_shell_output
from tui.widgets.message import RateLimitCard
from tui.widgets.plan_card import PlanCard
from tui.widgets.tool_card import TodoCard, ToolCard

from .host import AgentHost, feed, start_turn, text_of

STEPS = ["Look at the files", "Create notes.md", "Check the result"]


def todo_events(call_id: str, statuses: list[str]) -> list[ev.Event]:
    todos = [{"id": str(i), "content": s, "status": st} for i, (s, st) in enumerate(zip(STEPS, statuses))]
    params = json.dumps({"todos": todos})
    return [
        ev.ToolUseStart(id=call_id, name="todo_write"),
        ev.ToolParameterDelta(tool_call_id=call_id, input=params[:20]),  # half-streamed parameters
        ev.ToolParametersComplete(id=call_id, name="todo_write", input=params),
        ev.ToolExecutionStart(tool_call_id=call_id, tool_name="todo_write"),
        ev.ToolExecutionComplete(tool_call_id=call_id, tool_name="todo_write", success=True),
    ]


def body(card) -> str:
    return card.body_text()


async def test_todo_list_is_one_checklist_updated_in_place() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "plan a notes file")
        await feed(pilot, turn, todo_events("t1", ["in_progress", "pending", "pending"]))
        view = app.transcript.live_view
        card = view.query_one(TodoCard)
        assert body(card).splitlines() == ["◐ Look at the files", "☐ Create notes.md", "☐ Check the result"]
        assert "0 of 3 done" in text_of(card.query_one(".tool-header"))
        await feed(pilot, turn, [
            ev.ToolUseStart(id="l1", name="ls"),
            ev.ToolParametersComplete(id="l1", name="ls", input="{}"),
            ev.ToolExecutionStart(tool_call_id="l1", tool_name="ls"),
            ev.ToolExecutionComplete(tool_call_id="l1", tool_name="ls", success=True),
        ])
        await feed(pilot, turn, todo_events("t2", ["completed", "in_progress", "pending"]))
        await pilot.pause(0.1)
        # Still one checklist, at the place of the first call, now showing the newest list.
        assert len(view.query(TodoCard)) == 1 and view.query_one(TodoCard) is card
        assert body(card).splitlines() == ["☑ Look at the files", "◐ Create notes.md", "☐ Check the result"]
        header = text_of(card.query_one(".tool-header"))
        assert "1 of 3 done" in header and "Create notes.md" in header and "updated 1×" in header
        cards = list(view.query(ToolCard))
        assert cards.index(card) == 0 and [c.tool.name for c in cards] == ["todo_write", "ls"]
        await feed(pilot, turn, todo_events("t3", ["completed", "completed", "completed"]) + [ev.Complete(content="Done.")])
        await pilot.pause(0.1)
        assert body(card).splitlines() == ["☑ Look at the files", "☑ Create notes.md", "☑ Check the result"]
        assert "3 of 3 done" in text_of(card.query_one(".tool-header"))
        assert "Todos updated" not in body(card)  # the tool's result text is noise here


async def test_a_live_tool_card_shows_the_result_read_back_and_no_empty_parameters() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "list files")
        await feed(pilot, turn, [
            ev.ToolSnapshot(id="l1", name="ls", input="", status="completed"),
            ev.ToolExecutionStart(tool_call_id="l1", tool_name="ls", progress="Executing ls tool"),
            ev.ToolExecutionComplete(tool_call_id="l1", tool_name="ls", progress="Completed ls tool in 428µs"),
            ev.ToolSnapshot(id="l1", name="ls", input="{}", status="completed"),
            ev.ToolResult(tool_call_id="l1", result="notes.md  (6 bytes)"),
        ])
        card = app.transcript.live_view.query_one(ToolCard)
        assert body(card) == "notes.md  (6 bytes)"  # not "{}" and not "Completed ls tool in 428µs"


def write_waiting(call_id: str) -> list[ev.Event]:
    return [
        ev.ToolUseStart(id=call_id, name="write"),
        ev.ToolParametersComplete(id=call_id, name="write", input=json.dumps({"file_path": "a.md", "content": "x"})),
        ev.ToolExecutionStart(tool_call_id=call_id, tool_name="write"),
        ev.PermissionRequest(id=f"p-{call_id}", tool_name="write", description="Create file a.md"),
    ]


def denied(call_id: str) -> ev.ToolExecutionComplete:
    return ev.ToolExecutionComplete(tool_call_id=call_id, tool_name="write", success=False,
                                    progress="Failed write tool after 30s: permission denied")


async def test_an_auto_deny_does_not_read_like_the_users_deny() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "create a.md")
        await feed(pilot, turn, write_waiting("w1") + [denied("w1")])  # nobody answered: the server's timeout
        await feed(pilot, turn, write_waiting("w2"))
        turn.answer_permission("p-w2", False)  # the user said no
        await feed(pilot, turn, [denied("w2")])
        headers = [text_of(c.query_one(".tool-header")) for c in app.transcript.live_view.query(ToolCard)]
        assert "denied automatically · no answer in 30 s" in headers[0] and "by you" not in headers[0]
        assert "denied by you" in headers[1] and "automatically" not in headers[1]


async def test_a_tool_card_names_the_tool_without_the_latest_specs_prefix() -> None:
    """The latest spec sends non-core tools as `mix_<name>`: the card says `ls`, as under the seed spec."""
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "list the folder")
        params = json.dumps({"path": "."})
        await feed(pilot, turn, [
            ev.ToolUseStart(id="l1", name="mix_ls"),
            ev.ToolParametersComplete(id="l1", name="mix_ls", input=params),
            ev.ToolExecutionStart(tool_call_id="l1", tool_name="mix_ls"),
            ev.ToolExecutionComplete(tool_call_id="l1", tool_name="mix_ls", success=True),
        ])
        header = text_of(app.transcript.live_view.query_one(ToolCard).query_one(".tool-header"))
        assert " ls " in f" {header} " and "mix_ls" not in header


async def test_a_later_turns_todo_list_folds_the_earlier_checklist() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        first = await start_turn(app, pilot, "plan it")
        await feed(pilot, first, todo_events("t1", ["in_progress", "pending", "pending"]) + [ev.Complete(content="Started.")])
        app.transcript.finish_turn()
        second = await start_turn(app, pilot, "go on")
        await feed(pilot, second, todo_events("t2", ["completed", "in_progress", "pending"]))
        await pilot.pause(0.1)
        old, new = app.transcript.query(TodoCard)
        assert old.collapsed and "earlier list" in text_of(old.query_one(".tool-header"))
        assert not new.collapsed and body(new).splitlines()[0] == "☑ Look at the files"


async def test_plan_card_offers_the_choice_once_the_turn_ends_and_records_it() -> None:
    app = AgentHost()
    plan = "## Plan: notes\n\n### Steps\n\n1. Create `notes.md`\n2. Check the result\n"
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "plan create notes.md")
        await feed(pilot, turn, [
            ev.ToolUseStart(id="p1", name="exit_plan_mode"),
            ev.ToolParametersComplete(id="p1", name="exit_plan_mode", input=json.dumps({"plan": plan})),
            ev.ToolExecutionStart(tool_call_id="p1", tool_name="exit_plan_mode"),
            ev.ToolExecutionComplete(tool_call_id="p1", tool_name="exit_plan_mode", success=True),
        ])
        card = app.transcript.live_view.query_one(PlanCard)
        assert card.plan == plan and "Create notes.md" in card._plan.source.replace("`", "")
        assert not card.actionable  # the turn is still running
        await pilot.press("p")
        assert not app.of_type(PlanCard.Decided)
        turn.apply(ev.Complete(content="The plan is ready."))
        await pilot.pause(0.2)
        assert card.actionable and app.of_type(PlanCard.Ready) and app.focused is card
        assert "p Proceed   k Keep planning" in text_of(card.query_one(".plan-choices"))
        assert "waiting for your choice" in text_of(card.query_one(".tool-header"))
        await pilot.press("k")
        decided = app.of_type(PlanCard.Decided)
        assert len(decided) == 1 and decided[0].proceed is False and decided[0].plan == plan
        assert "Kept planning" in text_of(card.query_one(".plan-choices"))
        assert "sent back" in text_of(card.query_one(".tool-header"))
        await pilot.press("p")  # a choice is made once
        assert len(app.of_type(PlanCard.Decided)) == 1


async def test_plan_card_proceed_key() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "plan run ls")
        await feed(pilot, turn, [
            ev.ToolSnapshot(id="p1", name="exit_plan_mode", input=json.dumps({"plan": "1. Run `ls`"}), status="completed"),
            ev.Complete(content="Ready."),
        ])
        await pilot.pause(0.2)
        card = app.transcript.query_one(PlanCard)
        assert app.focused is card
        await pilot.press("p")
        (decided,) = app.of_type(PlanCard.Decided)
        assert decided.proceed is True and card.has_class("-proceeded")
        assert "approved" in text_of(card.query_one(".tool-header"))


async def test_a_plan_from_history_is_not_actionable() -> None:
    from tui.api.backend import ChatMessage, MessagePage
    from tui.api.turn import ToolCall, ToolStatus

    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        tool = ToolCall(id="p", name="exit_plan_mode", input=json.dumps({"plan": "1. a"}), status=ToolStatus.DONE)
        app.transcript.show_history(MessagePage([ChatMessage(id="a", role="assistant", tool_calls=[tool], index=0)], 0, 1))
        await pilot.pause(0.1)
        card = app.transcript.query_one(PlanCard)
        assert not card.actionable and not app.of_type(PlanCard.Ready)
        card.focus()
        await pilot.press("p")
        assert not app.of_type(PlanCard.Decided)


def server_answer(server, session_id: str, text: str) -> str:
    """The command's output as the server streams it (the latest spec's send answers 202 at once)."""
    with server.client() as c, c.stream("GET", "/stream", params={"sessionId": session_id}) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "id: 1"  # connected: the stream is registered before the send
        c.post(f"/api/sessions/{session_id}/messages", json={"text": text}).raise_for_status()
        event = ""
        for line in lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "complete":
                return json.loads(line[6:])["content"]
    raise AssertionError("the stream ended without a complete event")


@pytest.mark.parametrize("command, expected", [
    ("/help", ["/logout <provider>", "List the available commands", "command"]),
    ("/session", ["title", "agent session", "messages", "cost", "$0.0000"]),
    ("/sessions", ["▸ agent session", "other one", "messages"]),
    ("/mcp", ["No MCP servers are configured."]),
    ("/context", ["of 32,000 tokens used", "ok", "model offline-1"]),
    ("/status", ["provider", "offline", "offline-1", "✓ signed in", "✗ not signed in"]),
    ("/login", ["✓ signed in", "needs no login"]),
    ("/logout", ["Name a provider to log out of", "anthropic"]),
    ("/tools", ["bash", "asks first"]),
])
async def test_each_command_card_from_the_servers_answer(mix_server, command, expected) -> None:  # noqa: F811
    mix_server.create_session("other one")
    sid = mix_server.create_session("agent session")["id"]
    content = server_answer(mix_server, sid, command)
    data = parse_command_output(content)
    assert data is not None and data["type"] == command[1:]
    app = AgentHost()
    async with app.run_test(size=(110, 40)) as pilot:
        turn = await start_turn(app, pilot, command)
        await feed(pilot, turn, [ev.Complete(content=content)])
        await pilot.pause(0.1)
        assert turn.status is TurnStatus.COMPLETE
        card = app.transcript.query_one(CommandCard)
        assert card.kind == command[1:] and card.border_title.startswith(command)
        for piece in expected:
            assert piece in card.text, (piece, card.text)
        assert "{" not in card.text  # no raw JSON on screen


def test_mcp_card_shows_live_state_reason_and_stderr() -> None:
    card = CommandCard({"type": "mcp", "servers": [
        {"name": "demo", "connected": True, "status": "connected", "readOnly": True, "command": "demo-mcp",
         "tools": [{"name": "shout", "description": "Shouts"}], "error": "", "stderr": []},
        {"name": "crashy", "connected": False, "status": "failed", "retryIn": 4, "tools": None, "url": "",
         "command": "crashy-mcp", "error": "the server exited while initializing",
         "stderr": ["one", "two", "three", "fatal: told to crash"]}]})
    assert card.text.splitlines() == [
        "● demo  connected · read-only", "  demo-mcp", "  tools: shout",
        "○ crashy  failed · retry in 4 s", "  crashy-mcp", "  the server exited while initializing",
        "  │ two", "  │ three", "  │ fatal: told to crash"]


async def test_unknown_or_broken_json_stays_markdown() -> None:
    assert parse_command_output('{"type": "weather", "sky": "blue"}') is None
    assert parse_command_output('{"type": "help", ') is None
    assert parse_command_output("Here is **markdown**") is None
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "/weather")
        await feed(pilot, turn, [ev.Complete(content='{"type": "weather", "sky": "blue"}')])
        await pilot.pause(0.1)
        view = app.transcript.live_view or app.transcript.message_widgets[-1]
        assert not view.query(CommandCard)
        assert "weather" in view.copy_text()


async def test_context_card_shows_the_warning_level() -> None:
    app = AgentHost()
    data = {"type": "context", "model": "claude", "used": 150_000, "limit": 200_000, "percent": 75.0, "level": "warning", "messages": 40}
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "/context")
        await feed(pilot, turn, [ev.Complete(content=json.dumps(data))])
        await pilot.pause(0.1)
        card = app.transcript.query_one(CommandCard)
        assert card.has_class("-warning")
        assert "75.0 %" in card.text and "150,000 of 200,000 tokens used" in card.text
        assert "warning: the context is filling up" in card.text
        assert "█" * 22 + "░" * 8 in card.text  # 75 % of a 30-cell bar (rounded)


def test_shell_output_parsing() -> None:
    ok = parse_shell_output("ls", "```\na.txt\nb.txt\n```")
    assert ok.status == "ok" and ok.output == "a.txt\nb.txt"
    denied = parse_shell_output("rm x", "Error: permission denied; the command was not run.")
    assert denied.status == "denied" and denied.output == ""
    failed = parse_shell_output("false", "Error: exit status 1\n\n```\n[exit code 1]\n```")
    assert failed.status == "failed" and failed.note == "exit status 1" and failed.output == "[exit code 1]"
    ticks = parse_shell_output("cat f", "````\nhas ``` inside\n````")
    assert ticks.output == "has ``` inside"


async def test_bang_command_output_is_a_command_card() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start_turn(app, pilot, "!echo hi")
        await feed(pilot, turn, [ev.Complete(content="```\nhi\n```")])
        await pilot.pause(0.1)
        card = app.transcript.query_one(ShellOutputCard)
        assert card.text.splitlines() == ["$ echo hi   ✓ done", "hi"]


async def test_rate_limit_banner_counts_down_like_the_card() -> None:
    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.banner.display and app.banner.text == ""
        turn = await start_turn(app, pilot, "hello")
        error = ev.RateLimitError("429 Too Many Requests", retry_after=30, attempt=2, max_attempts=8)
        await feed(pilot, turn, [ev.ContentDelta("Looking"), error])
        app.banner.show_error(turn.error, since=turn.finished_at)
        await pilot.pause(0.1)
        assert turn.status is TurnStatus.RATE_LIMITED
        card = app.transcript.query_one(RateLimitCard)
        assert "attempt 2 of 8" in app.banner.text and "you can send again in 30 s" in app.banner.text
        # The same words: the card states the wait, the banner counts it down.
        assert text_of(card).startswith("⏳ Rate limited · attempt 2 of 8 · the turn stopped; the provider asked to wait 30 s")
        assert app.banner.text.startswith("⏳ Rate limited · attempt 2 of 8 · the turn stopped; you can send again in 30 s")
        app.clock.advance(12.4)
        await pilot.pause(0.7)  # one tick
        assert "you can send again in 18 s" in app.banner.text
        app.clock.advance(20)
        await pilot.pause(0.7)
        assert "you can send again now" in app.banner.text
        app.banner.hide()
        assert not app.banner.display


async def test_bang_command_from_history_is_a_command_card() -> None:
    from tui.api.backend import ChatMessage, MessagePage

    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        app.transcript.show_history(MessagePage([
            ChatMessage(id="u", role="user", text="!ls", index=0),
            ChatMessage(id="a", role="assistant", text="```\nnotes.md\n```", index=1),
            ChatMessage(id="u2", role="user", text="list files", index=2),
            ChatMessage(id="a2", role="assistant", text="```\nnotes.md\n```", index=3),
        ], 0, 4))
        await pilot.pause(0.1)
        (card,) = app.transcript.query(ShellOutputCard)
        assert card.text.splitlines() == ["$ ls   ✓ done", "notes.md"]


async def test_cards_removed_as_soon_as_they_were_mounted_draw_nothing_and_raise_nothing() -> None:
    """A transcript's window can move on (Home, End) while the cards it just mounted wait for their
    on_mount: their bodies are gone by then."""
    from tui.api.turn import ToolCall, ToolStatus
    from tui.widgets.thinking import ThinkingView

    app = AgentHost()
    async with app.run_test(size=(100, 30)) as pilot:
        cards = [ToolCard(ToolCall(id=f"t{i}", name="bash", input="{}", status=ToolStatus.DONE, result="ok")) for i in range(3)]
        cards += [ThinkingView("a thought", duration=1.0, collapsed=collapsed) for collapsed in (True, False)]
        app.transcript.mount_all(cards)
        app.transcript.remove_children(cards)
        await pilot.pause(0.1)
        assert not any(card.is_attached for card in cards)
