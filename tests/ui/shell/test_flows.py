"""Every chat flow, driven with Pilot against the real embedded server over loopback HTTP."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("tui.api.mix.backend", reason="the Mix client (tui/api/mix) has not landed yet")

from tui.api.turn import ToolStatus, TurnStatus
from tui.store import ClientStore

from .helpers import make_app, notifications, wait_for, wait_notified
from .live import live_app, send, start_on_port, wait_turn_done


async def test_first_send_creates_a_session_and_streams_to_the_end(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        assert chat.current is None
        await send(pilot, app, "hello there")
        await wait_for(pilot, lambda: chat.current is not None, what="a session")
        await wait_turn_done(pilot, app)
        turn = chat.current.turn
        assert turn.status is TurnStatus.COMPLETE, turn.error
        assert turn.answer.strip()
        assert chat.composer.text == ""
        # The sidebar lists the new session, newest first, and it is the open one.
        assert chat.sidebar.items[0].id == chat.current.id
        # The transcript shows the user's text and the answer.
        await pilot.pause(0.1)
        shown = " ".join(str(w.render()) for w in chat.current.transcript.query("*") if hasattr(w, "render"))
        assert "hello there" in shown or chat.current.transcript.loaded_count >= 2
        assert "idle" not in chat.status.text and "done" in chat.status.text
        # The server has it too.
        with server.client() as c:
            sessions = c.get("/api/sessions").json()
        assert [s["id"] for s in sessions] == [chat.current.id]


async def test_keys_typed_while_the_first_send_creates_its_session_stay_in_the_composer(tmp_path):
    """The first message of a new session waits for the session to be created: what the user types
    meanwhile is the next message's start, not a draft left behind (it was wiped)."""
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        created = asyncio.Event()
        create = chat.sessions.create

        async def slow_create(text: str):  # type: ignore[no-untyped-def]
            await created.wait()
            return await create(text)

        chat.sessions.create = slow_create  # type: ignore[method-assign]
        chat.composer.focus()
        chat.composer.load("hello there")
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.composer.text == "", what="the composer emptied by the send")
        await pilot.press(*"and then")
        created.set()
        await wait_for(pilot, lambda: chat.current is not None, what="the new session")
        await wait_turn_done(pilot, app)
        assert chat.composer.text == "and then"
        assert chat.current.turn.user_text == "hello there"


async def test_the_next_answer_widget_waits_mounted_while_the_user_writes_and_the_send_shows_it(tmp_path):
    """Text in the composer mounts the next answer's widget, hidden: the send shows that one (no
    mount where the first words arrive), and only one answer widget is there per turn."""
    from tui.widgets.message import AssistantMessage

    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "first one")
        await wait_turn_done(pilot, app)
        transcript = chat.current.transcript
        assert [w for w in transcript.query(AssistantMessage) if not w.display] == []
        chat.composer.focus()
        await pilot.press(*"second")
        await wait_for(pilot, lambda: any(not w.display for w in transcript.query(AssistantMessage)),
                       what="the hidden answer widget")
        (waiting,) = [w for w in transcript.query(AssistantMessage) if not w.display]
        assert transcript.children[-1] is waiting  # at the bottom, below every message
        await pilot.press("enter")
        await wait_turn_done(pilot, app)
        assert chat.current.turn.user_text == "second"
        assert transcript.message_widgets[-1] is waiting and waiting.display and waiting.turn is chat.current.turn
        assert waiting.copy_text() == chat.current.turn.answer != ""
        assert all(w.display for w in transcript.query(AssistantMessage))
        assert [type(w).__name__ for w in transcript.message_widgets] == ["UserMessage", "AssistantMessage"] * 2


async def test_ctrl_n_then_send_makes_a_second_session_on_top(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "first one")
        await wait_turn_done(pilot, app)
        first = chat.current.id
        await pilot.press("ctrl+n")
        assert chat.current is None
        await send(pilot, app, "second one")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != first, what="second session")
        await wait_turn_done(pilot, app)
        assert [i.id for i in chat.sidebar.items][1] == first
        assert chat.sidebar.items[0].id == chat.current.id


async def test_tool_card_and_permission_allowed_by_key(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "run `echo shell-works`")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                       and chat.current.turn.pending_permissions, what="a permission request")
        assert chat.prompt.display
        assert chat.sidebar.state_of(chat.current.id) == "permission"
        assert "waiting for permission" in chat.status.text
        await wait_for(pilot, lambda: chat.prompt.has_focus, what="the prompt to take focus")
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        turn = chat.current.turn
        tools = turn.tool_calls
        assert tools and tools[0].status is ToolStatus.DONE and tools[0].permission.answer is True
        assert not chat.prompt.display
        assert chat.sidebar.state_of(chat.current.id) == ""
        assert chat.focused is chat.composer


async def test_permission_denied_by_key(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "run `echo never`")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                       and chat.current.turn.pending_permissions, what="a permission request")
        await wait_for(pilot, lambda: chat.prompt.has_focus, what="the prompt to take focus")
        await pilot.press("n")
        await wait_turn_done(pilot, app)
        tools = chat.current.turn.tool_calls
        assert tools[0].permission.answer is False
        assert tools[0].status is ToolStatus.FAILED


async def test_permission_while_unfocused_rings(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        app.app_focus = False  # what Textual sets on AppBlur (a key press would set it back)
        chat._send("run `echo ring`")
        await wait_for(pilot, lambda: app.alert_log, what="an alert")
        assert "permission" in app.alert_log[0]
        app.app_focus = True
        await pilot.press("n")
        await wait_turn_done(pilot, app)


async def test_escape_cancels_the_running_turn_and_keeps_the_partial_answer(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "run `sleep 5`")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                       and chat.current.turn.pending_permissions, what="a permission request")
        await wait_for(pilot, lambda: chat.prompt.has_focus, what="the prompt to take focus")
        await pilot.press("y")
        await wait_for(pilot, lambda: chat.current.turn.tool_calls[0].status is ToolStatus.RUNNING, what="the command to run")
        chat.composer.focus()
        await pilot.press("escape")
        await wait_turn_done(pilot, app, timeout=6)
        turn = chat.current.turn
        assert turn.status is TurnStatus.CANCELLED
        assert "cancelled" in chat.status.text
        assert chat.current.transcript.loaded_count >= 2  # the user's message and the partial turn stay


async def test_rename_and_delete_with_confirmation(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "name me")
        await wait_turn_done(pilot, app)
        sid = chat.current.id
        await pilot.press("f2")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen", what="rename dialog")
        box = app.screen.query_one("#rename-input")
        box.value = ""
        await pilot.press(*"Renamed here", "enter")
        await wait_for(pilot, lambda: chat.sidebar.items[0].title == "Renamed here", what="the new title")
        assert "Renamed here" in chat.status.text
        # It survives a reload of the list (kept by the server or, failing that, locally).
        reload = chat._load_sessions()
        await wait_for(pilot, lambda: reload.is_finished, what="the reloaded session list")
        assert chat.sidebar.items[0].title == "Renamed here"

        await pilot.press("f8")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="confirmation")
        await pilot.press("n")  # cancel first: nothing happens
        await pilot.pause(0.1)
        assert chat.sidebar.items and chat.current is not None
        await pilot.press("f8")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: not chat.sidebar.items, what="the session to go")
        assert chat.current is None
        with server.client() as c:
            assert c.get(f"/api/sessions/{sid}").status_code == 404


async def test_fork_at_a_message_opens_the_new_session(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "first question")
        await wait_turn_done(pilot, app)
        await send(pilot, app, "second question")
        await wait_for(pilot, lambda: chat.current.turn.user_text == "second question", what="second turn")
        await wait_turn_done(pilot, app)
        original = chat.current.id
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ForkPickerScreen", timeout=5, what="fork picker")
        options = app.screen.query_one("#fork-list")
        options.highlighted = 0  # the first message: the question
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != original, what="the fork to open")
        assert len(chat.sidebar.items) == 2
        with server.client() as c:
            messages = c.get(f"/api/sessions/{chat.current.id}/messages").json()
        assert len(messages) == 1 and "first question" in str(messages[0])


async def test_without_fork_the_session_is_rewound_to_the_message(tmp_path):
    """A server that follows the latest spec strictly has no fork route: the app offers rewind."""
    async with live_app(tmp_path, extensions=False) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "first question")
        await wait_turn_done(pilot, app)
        await send(pilot, app, "second question")
        await wait_for(pilot, lambda: chat.current.turn.user_text == "second question", what="second turn")
        await wait_turn_done(pilot, app)
        original = chat.current.id
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ForkPickerScreen", timeout=5, what="fork picker")
        app.screen.query_one("#fork-list").highlighted = 0  # the first question
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="the rewind offer")
        await pilot.press("y")
        with server.client() as c:
            await wait_for(pilot, lambda: len(c.get(f"/api/sessions/{original}/messages").json()) == 1,
                           what="the session to be rewound")
        assert chat.current.id == original and len(chat.sidebar.items) == 1


async def test_switching_sessions_keeps_each_draft(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "one")
        await wait_turn_done(pilot, app)
        first = chat.current.conversation
        await pilot.press("ctrl+n")
        await send(pilot, app, "two")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != first.id, what="second session")
        await wait_turn_done(pilot, app)
        await pilot.press(*"draft for two")
        chat.open_session(first)
        await pilot.pause()
        assert chat.composer.text == ""
        second = chat.sidebar.items[0].conversation
        chat.open_session(second)
        await pilot.pause()
        assert chat.composer.text == "draft for two"


async def test_draft_of_an_open_session_survives_restart(tmp_path):
    server_dir = tmp_path / "server"
    async with live_app(tmp_path, server_dir=server_dir) as (app, pilot, server):
        await send(pilot, app, "keep this session")
        await wait_turn_done(pilot, app)
        sid = app.chat.current.id
        await pilot.press(*"not sent yet")
        await pilot.pause(0.4)
        # Written as typed, before quitting.
        assert ClientStore(tmp_path / "client" / "client.db").draft(f"mix:{sid}") == "not sent yet"
    # A new app instance on the same data dir and the same server data: the session reopens with its draft.
    async with live_app(tmp_path, server_dir=server_dir) as (app, pilot, server):
        await wait_for(pilot, lambda: app.chat.current is not None, what="the last session to reopen")
        assert app.chat.current.id == sid
        assert app.chat.composer.text == "not sent yet"


async def test_export_writes_markdown_and_copy_uses_the_clipboard(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "export me")
        await wait_turn_done(pilot, app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: any("Exported to" in n for n in notifications(app)), what="export")
        files = list(app.export_dir.glob("*.md"))
        assert len(files) == 1
        text = files[0].read_text()
        assert "export me" in text and "## Assistant" in text
        await pilot.press("ctrl+g")
        assert app.last_copied and app.last_copied == chat.current.turn.answer


async def test_reconnect_banner_when_the_server_stops_and_its_removal_when_it_returns(tmp_path):
    from tests.fixtures.mix_server import running_server
    import contextlib

    stack = contextlib.ExitStack()
    server = await asyncio.to_thread(stack.enter_context, running_server(tmp_path / "server"))
    app = make_app(tmp_path / "client", server=server.url)
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            chat = app.chat
            await wait_for(pilot, lambda: chat.connection == "connected", what="connected")
            await send(pilot, app, "before the outage")
            await wait_turn_done(pilot, app)
            await asyncio.to_thread(stack.close)  # the server goes away
            await wait_for(pilot, lambda: chat.banner.display, timeout=10, what="the banner")
            assert chat.connection in ("reconnecting", "offline")
            assert "Connection lost" in chat.banner.text or "unreachable" in chat.banner.text
            # Sending now keeps the text and says why.
            await send(pilot, app, "during the outage")
            await wait_notified(pilot, app, lambda n: "Not sent" in n)
            assert chat.composer.text == "during the outage"
            transcript_entries = chat.current.transcript.loaded_count
            stack, server = await start_on_port(tmp_path / "server", server.port)
            await wait_for(pilot, lambda: not chat.banner.display, timeout=15, what="the banner to go")
            assert chat.connection == "connected"
            assert chat.current.transcript.loaded_count >= transcript_entries  # nothing lost
            await pilot.press("enter")
            await wait_for(pilot, lambda: chat.current.turn.user_text == "during the outage", what="the resend")
            await wait_turn_done(pilot, app)
            assert chat.current.turn.status is TurnStatus.COMPLETE
    finally:
        await asyncio.to_thread(stack.close)


async def test_a_failed_send_puts_the_text_back(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "first")
        await wait_turn_done(pilot, app)
        # The session vanishes from the server's database without any event: the next send gets a 404.
        assert server.app.state.store.delete_session(chat.current.id)
        await send(pilot, app, "this cannot be delivered")
        await wait_for(pilot, lambda: chat.composer.text == "this cannot be delivered", timeout=6, what="the text back")
        assert chat.current.turn.user_text == "this cannot be delivered"
        assert chat.current.turn.status is TurnStatus.ERROR
        await wait_notified(pilot, app, lambda n: "Not sent" in n and "put back" in n)


async def test_a_session_deleted_elsewhere_is_closed(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "soon gone")
        await wait_turn_done(pilot, app)
        await pilot.press(*"draft")
        with server.client() as c:
            assert c.delete(f"/api/sessions/{chat.current.id}").status_code == 204
        await wait_for(pilot, lambda: chat.current is None and not chat.sidebar.items, timeout=6, what="the session to close")
        assert chat.composer.text == "draft"  # the user's text is never lost
        await wait_for(pilot, lambda: any("deleted" in n for n in notifications(app)), what="a notice")


async def test_sidebar_marks_busy_permission_and_unseen_sessions(tmp_path):
    async with live_app(tmp_path, agent_delay=0.01) as (app, pilot, _server):
        chat = app.chat
        # A session waiting for permission while another one is open.
        await send(pilot, app, "run `echo marked`")
        await wait_for(pilot, lambda: chat.current.turn is not None and chat.current.turn.pending_permissions, what="permission")
        waiting = chat.current.conversation
        await pilot.press("ctrl+n")
        assert chat.sidebar.state_of(waiting.id) == "permission"
        assert not chat.prompt.display  # the prompt belongs to the other session
        # A session that finishes while the user is elsewhere.
        await send(pilot, app, "What can you do?")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != waiting.id, what="second session")
        answering = chat.current.conversation
        assert chat.sidebar.state_of(answering.id) == "busy"
        chat.open_session(waiting)
        await pilot.pause()
        assert chat.prompt.display
        await wait_for(pilot, lambda: chat.sidebar.state_of(answering.id) == "unseen", timeout=10, what="unseen mark")
        assert f"mix:{answering.id}" in app.store.unseen()
        await wait_for(pilot, lambda: chat.prompt.has_focus or chat.prompt.display, what="prompt")
        chat.prompt.focus()
        await pilot.press("y")
        await wait_turn_done(pilot, app)
        assert chat.sidebar.state_of(waiting.id) == ""
        chat.open_session(answering)
        await pilot.pause()
        assert chat.sidebar.state_of(answering.id) == ""
        assert f"mix:{answering.id}" not in app.store.unseen()


async def test_typing_in_the_session_list_filters_it(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        for text in ("alpha topic", "beta topic"):
            await pilot.press("ctrl+n")
            await send(pilot, app, text)
            await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                           and chat.current.turn.status.finished, what="answer")
        await pilot.press("ctrl+s")
        await pilot.press(*"alp")
        await pilot.pause()
        titles = [chat.sidebar._items[i].title for i in chat.sidebar.visible_ids]
        assert titles == ["alpha topic"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.current.conversation.title == "alpha topic", what="opened by filter")


async def test_a_long_turn_finishing_while_unfocused_rings(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        now = [1000.0]
        app.clock = lambda: now[0]
        await send(pilot, app, "run `echo slow`")
        await wait_for(pilot, lambda: chat.current.turn is not None and chat.current.turn.pending_permissions, what="permission")
        now[0] += 11.0  # the turn has taken longer than LONG_TURN
        app.app_focus = False
        chat.prompt.action_allow()  # not a key press: that would give the focus back
        await wait_turn_done(pilot, app)
        await wait_for(pilot, lambda: any("finished" in a for a in app.alert_log), what="the alert")
        assert chat.sidebar.state_of(chat.current.id) == "unseen"  # finished while the user looked away
