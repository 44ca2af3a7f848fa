"""Two clients on one server (two `mix-tui web` tabs, two terminals with `--server URL`): the open
session is live in both, and sessions made elsewhere reach the list."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from tests.support.host import text_of
from tui.api.turn import ToolStatus, TurnStatus

from .helpers import make_app, wait_for
from .live import live_app, send, wait_turn_done


@contextlib.asynccontextmanager
async def second_app(tmp_path, server):
    other = make_app(tmp_path / "other-client", server=server.url)
    async with other.run_test(size=(110, 32)) as pilot:
        await wait_for(pilot, lambda: other.chat.connection == "connected" and other.chat.sessions.loaded,
                       what="the second app to connect")
        yield other, pilot


async def first_turn(pilot, app, text: str = "first"):
    """A session with one answered turn, open in `app`: its SessionController."""
    await send(pilot, app, text)
    await wait_turn_done(pilot, app)
    return app.chat.current


async def open_there(pilot, app, session_id: str):
    """Open in `app` the session another app made (as a click in the list does)."""
    await wait_for(pilot, lambda: any(i.id == session_id for i in app.chat.sidebar.items), timeout=10,
                   what="the session listed")
    view = app.chat.open_session(next(i.conversation for i in app.chat.sidebar.items if i.id == session_id))
    await wait_for(pilot, lambda: view.history_loaded and view.connection == "connected", what="the session open")
    return view


async def test_a_turn_sent_by_another_client_shows_live_in_the_open_session(tmp_path):
    async with live_app(tmp_path, agent_delay=0.01) as (app, pilot, server):
        here = await first_turn(pilot, app, "first from here")
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as other:
            r = await other.post(f"/api/sessions/{here.id}/messages", json={"content": "typed in the other tab"})
            assert r.status_code in (200, 202), r.text
        await wait_for(pilot, lambda: here.turn.user_text == "typed in the other tab", timeout=10,
                       what="the other tab's message here")
        await wait_for(pilot, lambda: here.turn.status.finished, timeout=10, what="its answer to finish")
        assert here.turn.status is TurnStatus.COMPLETE and here.turn.answer


async def test_two_apps_see_each_others_turns(tmp_path):
    async with live_app(tmp_path, agent_delay=0.01) as (app, pilot, server):
        here = await first_turn(pilot, app, "first from here")
        async with second_app(tmp_path, server) as (other, other_pilot):
            there = await open_there(other_pilot, other, here.id)
            assert server.app.state.hub.listeners(here.id) == 2  # one stream per app that has it open
            await send(pilot, app, "second from here")
            await wait_for(other_pilot, lambda: there.turn is not None and there.turn.user_text == "second from here",
                           timeout=10, what="the first app's message in the second")
            await wait_for(other_pilot, lambda: there.turn.status.finished, timeout=10, what="its answer to finish")
            await wait_turn_done(pilot, app)
            await send(other_pilot, other, "from the other app")
            await wait_for(pilot, lambda: here.turn.user_text == "from the other app", timeout=10,
                           what="the second app's message in the first")
            await wait_for(pilot, lambda: here.turn.status.finished, timeout=10, what="its answer to finish")
            await wait_for(other_pilot, lambda: there.turn.status.finished, timeout=10, what="its answer there")
            # Nothing doubled where the message was typed (its echo), nor where it was not: three questions,
            # three answers in each.
            assert here.transcript.loaded_count == there.transcript.loaded_count == 6


async def test_sessions_made_or_renamed_elsewhere_reach_the_list(tmp_path, monkeypatch):
    monkeypatch.setattr("tui.screens.chat.RELIST_EVERY", 0.2)  # the quiet listing, sooner than a person waits
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        titles = lambda: [item.title for item in chat.sidebar.items]  # noqa: E731
        assert chat.current is None and not chat.sidebar.items  # no session open: no stream brings news
        made = await asyncio.to_thread(server.create_session, "made in the other tab")
        await wait_for(pilot, lambda: titles() == ["made in the other tab"], timeout=5, what="the new session listed")
        assert server.app.state.hub.listeners(made["id"]) == 0  # listed, not open: no stream
        view = chat.open_session(chat.sidebar.items[0].conversation)
        await wait_for(pilot, lambda: server.app.state.hub.listeners(made["id"]) == 1, what="its one stream")
        with server.client() as c:
            assert c.patch(f"/api/sessions/{made['id']}", json={"title": "renamed there"}).status_code == 200
        await wait_for(pilot, lambda: titles() == ["renamed there"], timeout=5, what="the new title listed")
        await wait_for(pilot, lambda: view.title == "renamed there" and "renamed there" in chat.status.text,
                       what="the open session's new title")


async def test_with_a_session_open_a_session_made_elsewhere_comes_by_its_event(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await first_turn(pilot, app, "here")
        await asyncio.to_thread(server.create_session, "made in the other tab")  # session_created on the open stream
        await wait_for(pilot, lambda: "made in the other tab" in [i.title for i in chat.sidebar.items], timeout=3,
                       what="the new session listed")


async def test_a_session_opened_while_another_client_runs_a_turn_follows_it(tmp_path):
    async with live_app(tmp_path, agent_delay=0.02) as (app, pilot, server):
        chat = app.chat
        await first_turn(pilot, app)
        await send(pilot, app, "What can you do?")  # a long answer, streamed slowly
        here = chat.current
        await wait_for(pilot, lambda: len(here.turn.answer) > 20, timeout=10, what="the answer to start here")
        async with second_app(tmp_path, server) as (other, other_pilot):
            conversation = next(i.conversation for i in other.chat.sidebar.items if i.id == here.id)
            there = other.chat.open_session(conversation)
            reread: list[int] = []
            first_read = there.load_history

            async def read_again() -> None:
                reread.append(there.transcript.loaded_count)
                await first_read()

            there.load_history = read_again  # type: ignore[method-assign]
            # Opened midway: no user_message_created comes any more, yet the turn is followed from here on.
            await wait_for(other_pilot, lambda: there.busy, timeout=10, what="the running turn joined")
            assert there.turn.user_text == "What can you do?"
            await wait_for(other_pilot, lambda: other.chat.sidebar.state_of(there.id) == "busy", timeout=5,
                           what="the session marked as answering")
            await wait_for(other_pilot, lambda: there.turn.status.finished, timeout=20, what="the joined turn to end")
            assert there.turn.status is TurnStatus.COMPLETE
            assert there.turn.answer == here.turn.answer  # the complete event's text is the whole answer
            # Our server opens the stream with the turn so far (turn_in_progress, resume=1), so the whole
            # turn is on screen without reading the history again; a server without it gets one reread
            # (tests/controllers/test_session.py). Either way the question shows once.
            assert len(reread) <= 1
            shown = [w.copy_text() for w in there.transcript.message_widgets]
            assert shown.count("What can you do?") == 1, shown


async def test_a_permission_asked_by_a_turn_from_elsewhere_can_be_answered_here(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        here = await first_turn(pilot, app)
        async with second_app(tmp_path, server) as (other, other_pilot):
            there = await open_there(other_pilot, other, here.id)
            await send(pilot, app, "run `echo answered-there`")
            await wait_for(other_pilot, lambda: there.turn is not None and there.turn.pending_permissions, timeout=10,
                           what="the request in the other app")
            await wait_for(pilot, lambda: here.turn.pending_permissions and chat.prompt.display, what="the request here")
            await wait_for(other_pilot, lambda: other.chat.prompt.has_focus, what="the other app's prompt")
            await other_pilot.press("y")  # answered in the other app
            await wait_for(pilot, lambda: here.turn.status.finished, timeout=10, what="the turn to end here")
            assert here.turn.tool_calls[0].status is ToolStatus.DONE and "answered-there" in here.turn.answer
            await wait_for(pilot, lambda: not chat.prompt.display, what="the prompt here to close")
            await wait_for(other_pilot, lambda: there.turn.status.finished, timeout=10, what="the turn to end there")
            assert there.turn.tool_calls[0].permission.answer is True
