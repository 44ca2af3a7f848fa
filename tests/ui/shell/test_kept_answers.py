"""What arrived stays, and says how it ended (issue 19, items 4 and 7): an answer cut short by a server
killed mid-turn or by Esc is shown after a reload with the text that was kept and a mark, not as a
finished answer."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from tests.fixtures.mix_server import async_running_server
from tests.support.serve_process import answering, start_serve
from tui.api.turn import TurnStatus
from tui.config import EmbeddedServerConfig
from tui.server.drafts import FLUSH_INTERVAL
from tui.widgets.message import AssistantMessage, CancelledMark

from .helpers import make_app, wait_for
from .live import cancel_all, send, wait_turn_done


def marks(app) -> list[str]:
    return [str(mark.render()) for mark in app.chat.current.transcript.query(CancelledMark)]


def history_answers(app) -> list[AssistantMessage]:
    return [w for w in app.chat.current.transcript.query(AssistantMessage) if w.message is not None]


async def reopen(pilot, app, session_id: str) -> None:
    """Open the session from the sidebar, as a person would after starting the app again."""
    chat = app.chat
    await wait_for(pilot, lambda: chat.connection == "connected" and any(i.id == session_id for i in chat.sidebar.items),
                   timeout=20, what="the app to list the session")
    chat.open_session(next(i.conversation for i in chat.sidebar.items if i.id == session_id))
    await wait_for(pilot, lambda: chat.current is not None and chat.current.history_loaded and history_answers(app),
                   timeout=10, what="the history")


def crash_mid_turn(data) -> tuple[str, str]:
    """A real `mix-tui serve` killed with SIGKILL while it streams an answer: the session and the text a
    client had seen a flush interval before the kill (what the server must have kept)."""
    server = start_serve(data, agent_delay=0.02)
    try:
        sid, events = answering(server, "crash")
        killed_at = time.monotonic()
        server.kill()
        events.close()
        return sid, events.text("content", before=killed_at - FLUSH_INTERVAL - 0.1)
    finally:
        server.stop()


async def test_an_answer_interrupted_by_a_killed_server_is_reopened_with_its_text_and_marked(tmp_path):
    sid, seen = await asyncio.to_thread(crash_mid_turn, tmp_path / "data")
    assert seen
    again = await asyncio.to_thread(start_serve, tmp_path / "data", agent_delay=0.02)
    try:
        app = make_app(tmp_path / "client", server=again.url)
        async with app.run_test(size=(110, 32)) as pilot:
            await reopen(pilot, app, sid)
            [answer] = history_answers(app)
            assert answer.message.text.startswith(seen.strip()[:200])
            assert answer.has_class("-interrupted")
            assert marks(app) == ["⚠ interrupted: the server stopped"]
            assert not app.chat.current.busy  # closed: nothing looks as if it still ran
    finally:
        await asyncio.to_thread(again.stop)


async def test_an_answer_cancelled_with_escape_is_reloaded_with_its_text_and_marked(tmp_path):
    async with async_running_server(tmp_path / "server", agent_delay=0.02) as server:
        try:
            app = make_app(tmp_path / "client", server=server.url)
            async with app.run_test(size=(110, 32)) as pilot:
                chat = app.chat
                await wait_for(pilot, lambda: chat.connection == "connected" and chat.sessions.loaded, what="the app")
                await send(pilot, app, "hello there, what can you do?")
                await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                               and len(chat.current.turn.answer) > 40, timeout=10, what="part of the answer")
                chat.composer.focus()
                await pilot.press("escape")
                await wait_turn_done(pilot, app, timeout=6)
                assert chat.current.turn.status is TurnStatus.CANCELLED
                seen, sid = chat.current.turn.answer, chat.current.id

            reloaded = make_app(tmp_path / "client-again", server=server.url)
            async with reloaded.run_test(size=(110, 32)) as pilot:
                await reopen(pilot, reloaded, sid)
                [answer] = history_answers(reloaded)
                assert answer.message.text == seen  # all that was shown, nothing that was not
                assert answer.has_class("-cancelled")
                assert marks(reloaded) == ["⏹ cancelled by you"]
        finally:
            await asyncio.to_thread(cancel_all, server)


async def test_a_turn_cut_by_the_supervised_server_dying_ends_marked_and_keeps_what_was_seen(tmp_path):
    app = make_app(tmp_path, server="", embedded=EmbeddedServerConfig(agent_delay=0.02))
    async with app.run_test(size=(110, 32)) as pilot:
        chat = app.chat
        await wait_for(pilot, lambda: chat.connection == "connected", timeout=20, what="the embedded server")
        await send(pilot, app, "hello there, what can you do?")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                       and len(chat.current.turn.answer) > 40, timeout=10, what="part of the answer")
        session, turn = chat.current, chat.current.turn
        old = app.server.pid
        os.kill(old, signal.SIGKILL)
        await wait_for(pilot, lambda: app.server.pid != old and session.connection == "connected"
                       and turn.status.finished, timeout=15, what="a new server and the turn ended")
        seen = turn.answer
        # Whether the server had stored all of it (then the history is drawn) or up to a flush interval
        # less (then the turn as it was seen stays): the same text, the same mark, no error card.
        await wait_for(pilot, lambda: marks(app) == ["⚠ interrupted: the server stopped"], timeout=5, what="the mark")
        assert not session.transcript.query("ErrorCard")
        [answer] = session.transcript.query(AssistantMessage)
        shown = answer.message.text if answer.message is not None else answer.turn.answer
        assert shown.startswith(seen)  # nothing that was seen is gone


async def test_reopening_a_session_while_its_turn_runs_shows_the_live_answer_once(tmp_path):
    """The app starts while the server streams an answer (sent by another client): the question shows
    once, the answer so far at once (not only its next words), and it ends as the stored answer."""
    from tests.server.sse import SSEReader
    from tui.widgets.message import UserMessage

    question = "hello there, what can you do?"
    async with async_running_server(tmp_path / "server", agent_delay=0.03, send_mode="async") as server:
        store = server.app.state.store
        sid = server.create_session()["id"]
        try:
            async with server.async_client() as c, SSEReader(c, sid) as sse:
                await sse.next()
                assert (await c.post(f"/api/sessions/{sid}/messages", json={"content": question})).status_code == 202
                sse_text = ""
                while len(sse_text) < 60:  # part of the answer has gone out
                    frame = await sse.next()
                    assert frame is not None, "the answer did not start"
                    if frame.event == "content":
                        sse_text += frame.data["content"]
                app = make_app(tmp_path / "client", server=server.url)
                async with app.run_test(size=(110, 32)) as pilot:
                    chat = app.chat
                    await wait_for(pilot, lambda: chat.connection == "connected"
                                   and any(i.id == sid for i in chat.sidebar.items), timeout=20, what="the session")
                    chat.open_session(next(i.conversation for i in chat.sidebar.items if i.id == sid))
                    await wait_for(pilot, lambda: chat.current.turn is not None, timeout=10, what="the running turn")
                    joined = chat.current.turn
                    assert joined.answer.startswith(sse_text)  # what had streamed before the app came
                    await wait_turn_done(pilot, app, timeout=30)
                    await wait_for(pilot, lambda: chat.current.history_loaded, what="the history")
                    stored = [m for m in store.list_messages(sid) if m.role == "assistant"]
                    assert [m.finish_reason for m in stored] == ["end_turn"]
                    assert joined.answer == stored[0].text  # nothing missed between the two, nothing twice
                    await pilot.pause(0.1)
                    transcript = chat.current.transcript
                    assert [str(w.render()) for w in transcript.query(UserMessage)] == [question]
                    assert len(transcript.query(AssistantMessage)) == 1
        finally:
            await asyncio.to_thread(cancel_all, server)
