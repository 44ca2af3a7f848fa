"""The agent-aware features in the real app, against the real embedded server over loopback:
plan mode, plans accepted and sent back, the live todo list, every command card, `!` commands
and the rate-limit banner."""

from __future__ import annotations

import pytest

pytest.importorskip("tui.api.mix.backend")

from tests.ui.shell.helpers import wait_for
from tests.ui.shell.live import live_app, wait_turn_done
from tests.ui.transcript.host import FakeClock
from tui.api.turn import ToolStatus, TurnStatus
from tui.widgets.command_cards import CommandCard, ShellOutputCard
from tui.widgets.plan_card import PlanCard
from tui.widgets.tool_card import TodoCard

from .agents import HeldTodoAgent, RateLimitAgent


async def send(pilot, app, text: str) -> None:
    """Type-and-Enter, as the user does; a second Enter when the composer's completion popup took the first."""
    composer = app.chat.composer
    composer.focus()
    composer.load(text)
    await pilot.press("enter")
    if composer.text.strip():
        await pilot.press("enter")


def session_dir(server, app):
    return server.settings.storage_dir / app.chat.current.id


async def wait_permission(pilot, app) -> None:
    chat = app.chat
    await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                   and chat.current.turn.pending_permissions and chat.prompt.has_focus, what="a permission request")


async def test_plan_mode_toggle_is_visible_and_the_server_gets_it(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        composer = chat.composer
        composer.focus()
        await pilot.press("shift+tab")
        assert composer.plan_mode and composer.has_class("-plan-mode")
        assert "plan mode" in str(composer.border_title) and "plan mode" in chat.status.text
        assert composer.has_focus  # shift+tab switched the mode, not the focus
        await send(pilot, app, "create notes.md with hello")
        await wait_turn_done(pilot, app)
        turn = chat.current.turn
        # In plan mode the agent may only read: it planned instead of writing.
        assert [t.kind for t in turn.tool_calls if t.kind in ("write", "exit_plan_mode")] == ["exit_plan_mode"]
        assert not (session_dir(server, app) / "notes.md").exists()
        # Off again: the same request now writes (after permission).
        composer.focus()
        await pilot.press("shift+tab")
        assert not composer.plan_mode and "plan mode" not in chat.status.text and not composer.border_title
        await send(pilot, app, "create other.md with hi")
        await wait_permission(pilot, app)
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        assert (session_dir(server, app) / "other.md").read_text() == "hi\n"


async def test_plan_accepted_with_p_then_carried_out(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        chat.action_toggle_plan_mode()
        assert chat.composer.plan_mode
        await send(pilot, app, "create notes.md with hello")
        await wait_turn_done(pilot, app)
        card = chat.current.transcript.query_one(PlanCard)
        await wait_for(pilot, lambda: card.actionable and app.focused is card, what="the plan card to take focus")
        assert "notes.md" in card.plan
        await pilot.press("p")
        # Plan mode is off and the agent was told to go ahead (a new turn, without plan mode).
        await wait_for(pilot, lambda: chat.current.turn.user_text == "Proceed with the plan.", what="the proceed turn")
        assert not chat.composer.plan_mode and "plan mode" not in chat.status.text
        await wait_permission(pilot, app)
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        turn = chat.current.turn
        assert turn.status is TurnStatus.COMPLETE
        assert any(t.kind == "write" and t.status is ToolStatus.DONE for t in turn.tool_calls)
        assert (session_dir(server, app) / "notes.md").read_text() == "hello\n"
        assert card.decision is True and "approved" in str(card.query_one(".tool-header").render())


async def test_plan_sent_back_with_k_keeps_plan_mode(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        chat.action_toggle_plan_mode()
        await send(pilot, app, "plan run ls -la")
        await wait_turn_done(pilot, app)
        turn = chat.current.turn
        card = chat.current.transcript.query_one(PlanCard)
        await wait_for(pilot, lambda: app.focused is card, what="the plan card to take focus")
        await pilot.press("k")
        await pilot.pause(0.1)
        assert chat.composer.plan_mode and "plan mode" in chat.status.text
        assert app.focused is chat.composer
        assert chat.current.turn is turn  # nothing was sent
        assert card.decision is False
        with server.client() as c:
            messages = c.get(f"/api/sessions/{chat.current.id}/messages").json()
        assert [m["role"] for m in messages].count("user") == 1


async def test_todo_list_updates_in_place_during_a_turn(tmp_path):
    agent = HeldTodoAgent()  # holds before its second todo_write: the first state cannot be skipped
    async with live_app(tmp_path, agent_delay=0.03, agent_factory=lambda: agent) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "plan create todo.md with x")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.transcript.query(TodoCard),
                       what="the todo list")
        card = chat.current.transcript.query_one(TodoCard)
        await wait_for(pilot, lambda: card.body_text().startswith("◐ Look at the files"), what="the first step in progress")
        assert not chat.current.turn.status.finished
        agent.release()
        await wait_for(pilot, lambda: card.body_text().startswith("☑ Look at the files"), what="the first step done")
        assert card.is_mounted and chat.current.transcript.query_one(TodoCard) is card  # the same card, updated
        await wait_turn_done(pilot, app)
        assert len(chat.current.transcript.query(TodoCard)) == 1
        assert len([t for t in chat.current.turn.tool_calls if t.kind == "todo_write"]) == 2
        assert "1 of" in str(card.query_one(".tool-header").render())


async def test_every_command_card_and_clear(tmp_path):
    expected = {
        "/help": "/logout <provider>", "/session": "messages", "/sessions": "▸", "/mcp": "No MCP servers",
        "/context": "tokens used", "/status": "provider", "/login": "signed in", "/logout": "Name a provider",
    }
    async with live_app(tmp_path, size=(120, 50)) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "hello")
        await wait_turn_done(pilot, app)
        first = chat.current.id
        for command, piece in expected.items():
            await send(pilot, app, command)
            await wait_for(pilot, lambda: chat.current.turn.user_text.strip() == command and chat.current.turn.status.finished,
                           what=f"the answer to {command}")
            assert chat.current.turn.status is TurnStatus.COMPLETE, chat.current.turn.error
            await wait_for(pilot, lambda: [c for c in chat.current.transcript.query(CommandCard) if c.kind == command[1:]],
                           what=f"the {command} card")
            card = [c for c in chat.current.transcript.query(CommandCard) if c.kind == command[1:]][-1]
            assert piece in card.text and '"type"' not in card.text
        assert chat.current.id == first
        await send(pilot, app, "/clear")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != first, what="a new session")
        assert chat.composer.text == "" and chat.current.turn is None
        with server.client() as c:
            assert len(c.get("/api/sessions").json()) == 2
            assert "/clear" not in c.get(f"/api/sessions/{first}/messages").text  # never sent


async def test_bang_command_allowed_and_denied(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "!echo bang-works")
        await wait_permission(pilot, app)
        assert "echo bang-works" in str(chat.prompt.query_one(".permission-what").render())
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        card = chat.current.transcript.query(ShellOutputCard).last()
        assert card.result.status == "ok" and card.result.output == "bang-works"
        assert card.text.splitlines()[0].startswith("$ echo bang-works")
        await send(pilot, app, "!touch should-not-exist")
        await wait_permission(pilot, app)
        await pilot.press("n")
        await wait_turn_done(pilot, app)
        await wait_for(pilot, lambda: len(chat.current.transcript.query(ShellOutputCard)) == 2, what="the second card")
        card = chat.current.transcript.query(ShellOutputCard).last()
        assert card.result.status == "denied" and "permission denied" in card.text
        assert not (_server.settings.storage_dir / chat.current.id / "should-not-exist").exists()


async def test_rate_limit_banner_counts_down_and_the_turn_is_marked(tmp_path):
    async with live_app(tmp_path, agent_factory=RateLimitAgent) as (app, pilot, _server):
        chat = app.chat
        clock = FakeClock()
        app.clock = clock  # the turn's times and the countdown read the same (hand-moved) clock
        banner = chat.rate_limit_banner
        banner.clock = clock
        await send(pilot, app, "summarise the repository")
        await wait_turn_done(pilot, app)
        assert chat.current.turn.status is TurnStatus.RATE_LIMITED
        await wait_for(pilot, lambda: banner.display, what="the banner")
        assert "attempt 2 of 8" in banner.text and "you can send again in 20 s" in banner.text
        assert "rate limited" in chat.status.text
        clock.advance(8)
        await wait_for(pilot, lambda: "you can send again in 12 s" in banner.text, what="the countdown")
        clock.advance(30)
        await wait_for(pilot, lambda: "you can send again now" in banner.text, what="the end of the countdown")
        first_error = banner.error
        await send(pilot, app, "again")
        await wait_for(pilot, lambda: chat.current.turn.user_text == "again", what="the next turn")
        await wait_turn_done(pilot, app)
        assert chat.current.turn.status is TurnStatus.RATE_LIMITED, chat.current.turn.error
        # The next rate limit starts its own countdown.
        await wait_for(pilot, lambda: banner.display and banner.error is chat.current.turn.error is not first_error,
                       what="the banner for the second turn")
        assert "you can send again in 20 s" in banner.text
        await pilot.press("ctrl+n")  # another (new) session: its banner is not this one's
        assert not banner.display and banner.text == ""


async def test_plan_mode_from_the_command_palette(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
        await pilot.press(*"plan mode")
        await pilot.pause(0.4)  # the providers search
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.composer.plan_mode, what="plan mode on")
        assert "plan mode" in chat.status.text


async def wait_question(pilot, app) -> None:
    chat = app.chat
    await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                   and any(p.question for p in chat.current.turn.pending_permissions) and chat.prompt.display,
                   what="the agent's question")


async def test_the_agents_questions_are_answered_from_the_keyboard(tmp_path):
    """The latest spec's `notification`: shown in the permission prompt's queue, answered by key."""
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "ask me to choose between tea or coffee")
        await wait_question(pilot, app)
        shown = str(chat.prompt.query_one(".permission-body").render())
        assert "1 tea" in shown and "2 coffee" in shown
        assert "The agent asks" in str(chat.prompt.query_one(".permission-title").render())
        await pilot.press("2")
        await wait_turn_done(pilot, app)
        assert "coffee" in chat.current.turn.final_text and not chat.prompt.display

        await send(pilot, app, "ask me for a title")
        await wait_question(pilot, app)
        answer = chat.prompt.query_one(".permission-answer")
        await wait_for(pilot, lambda: answer.has_focus, what="the answer field to take the keys")
        for key in "Moonrise":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_turn_done(pilot, app)
        assert "Moonrise" in chat.current.turn.final_text


def footer(app) -> list[str]:
    """The footer's keys and what they say, e.g. "y Allow once"."""
    return [f"{b.key_display or key} {b.description}" for key, (_, b, enabled, _) in app.screen.active_bindings.items()
            if b.show and enabled]


async def test_a_question_waiting_says_so_in_the_status_bar_and_footer(tmp_path):
    """Not "waiting for permission" with y/s/a/n: the status and the keys are the question's."""
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "ask me to confirm the deploy")
        await wait_question(pilot, app)
        await wait_for(pilot, lambda: chat.prompt.has_focus, what="the prompt to take focus")
        await wait_for(pilot, lambda: "waiting for your answer" in chat.status.text, what="the status of a question")
        assert "permission" not in chat.status.text
        keys = footer(app)
        assert "y Yes" in keys and "n No" in keys and "1–9 Choose" in keys, keys
        assert not any(k.endswith(("Allow once", "Session", "Always here", "Deny")) for k in keys), keys
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        assert "Yes" in chat.current.turn.final_text
        # A tool's permission right after: its own status and keys again.
        await send(pilot, app, "run `echo asked`")
        await wait_permission(pilot, app)
        await wait_for(pilot, lambda: "waiting for permission" in chat.status.text, what="the status of a permission")
        keys = footer(app)
        assert {"y Allow once", "s Session", "a Always here", "n Deny"} <= set(keys), keys
        assert not any(k.endswith(("Yes", "No", "Choose")) for k in keys), keys
        await pilot.press("n")
        await wait_turn_done(pilot, app)
