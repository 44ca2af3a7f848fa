"""Defects a new user hit in a real terminal (issue 18), each driven with Pilot against the real
embedded server. Keys are sent the way a terminal sends them where that differs from Pilot's."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, AsyncIterator

from textual import events
from textual.widgets import Input, Static

from tests.fixtures.mix_server import async_running_server
from tui.app import MixApp

from .helpers import make_app, notifications, wait_for
from .live import cancel_all, live_app, send, wait_turn_done


@contextlib.asynccontextmanager
async def app_with_sessions(tmp_path: Path, titles: list[str]) -> AsyncIterator[tuple[MixApp, Any]]:
    """The app on a server that already holds sessions with these titles."""
    async with async_running_server(tmp_path / "server") as server:
        for title in titles:
            server.create_session(title)
        app = make_app(tmp_path / "client", server=server.url)
        try:
            async with app.run_test(size=(110, 32)) as pilot:
                await wait_for(pilot, lambda: app.chat.connection == "connected" and len(app.chat.sidebar.items) == len(titles),
                               what="the sessions listed")
                yield app, pilot
        finally:
            await asyncio.to_thread(cancel_all, server)


def shown_titles(app: MixApp) -> list[str]:
    sidebar = app.chat.sidebar
    return [sidebar._items[i].title for i in sidebar.visible_ids]


async def test_backspace_in_the_session_list_edits_the_filter_and_a_leftover_filter_says_how_to_clear(tmp_path):
    async with app_with_sessions(tmp_path, ["alpha notes", "beta notes"]) as (app, pilot):
        sidebar = app.chat.sidebar
        box = sidebar.query_one("#session-filter", Input)
        await pilot.press("ctrl+s", *"alx")
        await wait_for(pilot, lambda: not sidebar.visible_ids, what="no match")
        hint = str(sidebar.query_one("#sidebar-empty", Static).render())
        assert "alx" in hint and "esc" in hint
        await pilot.press("ctrl+l", "ctrl+s")  # back later: the leftover filter is where the focus lands
        assert box.has_focus
        await pilot.press("backspace")
        await wait_for(pilot, lambda: shown_titles(app) == ["alpha notes"], what="the filter edited")
        await pilot.press("down")  # into the list, then Backspace there still edits the filter
        assert not box.has_focus
        await pilot.press("backspace", "backspace")
        await wait_for(pilot, lambda: box.value == "" and len(shown_titles(app)) == 2, what="the filter emptied")


def titles(app: MixApp) -> list[str]:
    return [n.title for n in app._notifications]


def terminal_alt(letter: str) -> events.Key:
    """What Textual makes of the ESC-then-letter a terminal sends for Alt+letter: the Alt chord, but
    carrying the letter as its character (Pilot's press("alt+k") carries none, so it never typed)."""
    return events.Key(f"alt+{letter}", letter)


async def test_alt_keys_from_a_terminal_run_their_action_in_the_composer_and_the_filter(tmp_path):
    async with app_with_sessions(tmp_path, ["alpha"]) as (app, pilot):
        chat = app.chat
        assert chat.composer.has_focus
        app.post_message(terminal_alt("k"))
        await wait_for(pilot, lambda: "Mixpeek is not configured" in titles(app), what="the Mixpeek action")
        assert chat.composer.text == ""  # not typed
        await pilot.press("ctrl+s", *"al")
        box = chat.sidebar.query_one("#session-filter", Input)
        assert box.has_focus and box.value == "al"
        app.clear_notifications()
        app.post_message(terminal_alt("m"))
        await wait_for(pilot, lambda: "MixerLead is not configured" in titles(app), what="the MixerLead action")
        assert box.value == "al"


async def test_keys_rebound_in_the_config_work_while_the_composer_has_focus(tmp_path):
    """The README's own example: F6 and F7 are also the composer's select-line / select-all keys."""
    async with async_running_server(tmp_path / "server") as server:
        app = make_app(tmp_path / "client", server=server.url, keys={"toggle_sidebar": "f6", "files": "f7"})
        try:
            async with app.run_test(size=(110, 32)) as pilot:
                await wait_for(pilot, lambda: app.chat.connection == "connected", what="connected")
                assert app.chat.composer.has_focus and app.chat.sidebar.display
                await pilot.press(*"typed", "f6")
                await wait_for(pilot, lambda: not app.chat.sidebar.display, what="the sidebar hidden by F6")
                await pilot.press("f7")  # no session open: the files view says so
                await wait_for(pilot, lambda: any("files belong to a session" in m for m in notifications(app)),
                               what="the files action by F7")
                assert app.chat.composer.text == "typed"
        finally:
            await asyncio.to_thread(cancel_all, server)


def waiting(app: MixApp) -> bool:
    chat = app.chat
    return chat.current is not None and chat.current.turn is not None and bool(chat.current.turn.pending_permissions)


def footer_keys(app: MixApp) -> list[str]:
    return [b.action for (_, b, enabled, _) in app.screen.active_bindings.values() if b.show and enabled]


async def test_the_permission_prompt_is_reachable_again_by_a_key_shown_in_the_footer(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        assert "focus_permission" not in footer_keys(app)  # nothing waits: not offered
        await send(pilot, app, "run `echo again`")
        await wait_for(pilot, lambda: waiting(app), timeout=30, what="a permission request")
        await wait_for(pilot, lambda: chat.prompt.has_focus, what="the prompt to take focus")
        assert "focus_permission" in footer_keys(app)
        await pilot.press("ctrl+l", "tab", "tab")  # away from it, as the user did
        assert not chat.prompt.has_focus
        await pilot.press("ctrl+y")
        assert chat.prompt.has_focus
        await pilot.press("s")  # allowed for the rest of this session
        await wait_turn_done(pilot, app)
        assert chat.current.turn.tool_calls[0].permission.answer is True and chat.composer.text == ""
        assert any("for the rest of this session" in m for m in notifications(app))
        await send(pilot, app, "run `echo no-question`")  # the same tool again: no prompt this time
        await wait_turn_done(pilot, app)
        assert not chat.current.turn.pending_permissions and chat.current.turn.tool_calls[0].status.value == "done"


async def test_a_request_does_not_take_the_focus_from_someone_typing(tmp_path, monkeypatch):
    # A slow agent: the words before its request take longer than typing the next message, also under
    # load (with 0.03 s the request could come mid-typing, take the focus, and the rest answered it);
    # and a long typing pause, so the slow request still finds the user "typing".
    from tui.screens import chat_permissions

    monkeypatch.setattr(chat_permissions, "TYPING_PAUSE", 60.0)
    async with live_app(tmp_path, agent_delay=0.15) as (app, pilot, _server):
        chat = app.chat
        await send(pilot, app, "run `echo typing`")
        await pilot.press(*"and then")  # the next message, typed while the agent works
        await wait_for(pilot, lambda: waiting(app), timeout=30, what="a permission request")
        await pilot.pause(0.1)
        assert chat.composer.has_focus and chat.composer.text == "and then"
        assert any("Ctrl+Y answers it" in m for m in notifications(app))
        await pilot.press("ctrl+y", "y")
        await wait_turn_done(pilot, app)
        assert chat.current.turn.tool_calls[0].permission.answer is True and chat.composer.text == "and then"


def store_state(path: Path, **drafts: str) -> None:
    """Drafts (keyed backend:id) and the last open session, as a previous run left them."""
    from tui.store import ClientStore

    store = ClientStore(path / "client.db")
    for key, text in drafts.items():
        if key == "last":
            store.set_setting("mix:last_session", text)
        else:
            store.set_draft(key, text)
    store.flush()
    store.close()


async def test_the_last_sessions_draft_does_not_leak_into_a_new_session(tmp_path):
    async with async_running_server(tmp_path / "server") as server:
        sid = server.create_session("earlier work")["id"]
        (tmp_path / "client").mkdir()
        store_state(tmp_path / "client", **{f"mix:{sid}": "line one\nline two", "last": sid})
        app = make_app(tmp_path / "client", server=server.url)
        try:
            async with app.run_test(size=(110, 32)) as pilot:
                chat = app.chat
                await wait_for(pilot, lambda: chat.current is not None and chat.current.id == sid, what="the last session")
                assert chat.composer.text == "line one\nline two"
                await pilot.press("ctrl+n")
                assert chat.composer.text == ""
                await pilot.press(*"search for hello", "enter")
                await wait_for(pilot, lambda: chat.current is not None and chat.current.id != sid
                               and chat.current.turn is not None, what="the new session's turn")
                assert chat.current.turn.user_text == "search for hello"
                chat.open_session(next(i.conversation for i in chat.sidebar.items if i.id == sid))
                await pilot.pause()
                assert chat.composer.text == "line one\nline two"  # still that session's draft
        finally:
            await asyncio.to_thread(cancel_all, server)


async def test_a_draft_of_a_session_not_listed_is_not_sent_into_a_new_one(tmp_path):
    async with async_running_server(tmp_path / "server") as server:
        (tmp_path / "client").mkdir()
        store_state(tmp_path / "client", **{"mix:hidden-mixerlead-1": "for the other backend", "last": "hidden-mixerlead-1"})
        app = make_app(tmp_path / "client", server=server.url)
        try:
            async with app.run_test(size=(110, 32)) as pilot:
                chat = app.chat
                await wait_for(pilot, lambda: chat.sessions.loaded, what="the session list")
                await wait_for(pilot, lambda: chat.composer.text == "", what="the composer to hold the new-session draft")
                assert chat.current is None and chat.sessions.draft("hidden-mixerlead-1") == "for the other backend"
        finally:
            await asyncio.to_thread(cancel_all, server)


async def test_a_message_sent_while_the_agent_works_is_queued_editable_and_sent_after(tmp_path):
    from tui.widgets.queued import QueuedMessages

    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        queued = chat.query_one(QueuedMessages)
        await send(pilot, app, "run `echo first`")
        await wait_for(pilot, lambda: waiting(app), timeout=30, what="a permission request")
        for text in ("list files", "a typo'd one", "read notes.md"):
            await send(pilot, app, text)
        assert queued.display and queued.option_count == 3 and chat.composer.text == ""
        queued.focus()
        await pilot.press("down", "x")  # drop the second
        assert chat.queue_of(chat.current.id).texts == ["list files", "read notes.md"]
        await pilot.press("e")  # take "read notes.md" back to edit it
        assert chat.composer.text == "read notes.md" and chat.composer.has_focus and queued.option_count == 1
        await pilot.press("ctrl+y", "y")
        # The first answer ends; "list files" goes out by itself.
        await wait_for(pilot, lambda: chat.current.turn.user_text == "list files" and chat.current.turn.status.finished,
                       what="the queued message answered")
        assert not queued.display
        with server.client() as c:
            users = [m["userInput"] for m in c.get(f"/api/sessions/{chat.current.id}/messages").json() if m["role"] == "user"]
        assert users == ["run `echo first`", "list files"]


async def test_a_server_that_answers_404_is_not_called_unreachable(tmp_path):
    from starlette.applications import Starlette

    from tests.api.mix.loopback import serve

    with serve(Starlette()) as url:  # answers every request with 404
        app = make_app(tmp_path / "client", server=url)
        async with app.run_test(size=(110, 32)) as pilot:
            await wait_for(pilot, lambda: app.chat.banner.display, what="the banner")
            text = app.chat.banner.text
            assert "unreachable" not in text.lower() and "answered with an error" in text, text
