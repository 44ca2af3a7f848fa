"""SessionController: one open session's turn, stream, permissions and sends, against the embedded
server over loopback, with no Textual anywhere (the transcript and the screen are recorded)."""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest

from tests.controllers.conftest import Clock, Display, Listener, closed_port_url
from tui.api import events as ev
from tui.api.mix import MixBackend, MixClient, ReconnectPolicy
from tui.api.turn import TurnStatus
from tui.controllers.session import SessionController

pytestmark = pytest.mark.usefixtures("server")


def test_the_controllers_run_without_textual():
    import subprocess

    code = ("import sys, tui.controllers.session, tui.controllers.session_list, tui.controllers.outbox, "
            "tui.controllers.export, tui.controllers.backend_info; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_a_sent_message_is_drawn_answered_and_finished(open_session):
    session, display, listener = await open_session("hello")
    await listener.wait(lambda: ("stream_connected", session.id) in listener.reports)
    assert session.connection == "connected"

    turn = await session.send("hi there")
    await listener.wait(lambda: "turn_finished" in listener.names())

    assert turn is session.turn and turn.status is TurnStatus.COMPLETE
    assert turn.answer == "You said: hi there" and session.answer == "You said: hi there"
    assert session.last_answer == "You said: hi there" and not session.busy
    assert display.names()[:3] == ["expect_turn", "user", "start"] and display.calls[1] == ("user", "hi there")
    assert display.names().count("finish") == 1
    assert listener.names().index("turn_started") < listener.names().index("turn_finished")
    assert listener.reports[-1] == ("turn_finished", TurnStatus.COMPLETE)


async def test_the_history_is_drawn_with_the_last_answer(open_session, backend):
    session, display, listener = await open_session("history")
    await session.send("first")
    await listener.wait(lambda: not session.busy)

    fresh_display = Display()  # the session opened again later: its history comes from the server
    fresh = SessionController(session.conversation, fresh_display, backend, Listener(), Clock())
    await fresh.load_history()

    page = fresh_display.pages[-1]
    assert [m.role for m in page.messages] == ["user", "assistant"] and page.messages[0].text == "first"
    assert fresh.history_loaded and fresh.last_answer == "You said: first"
    assert [m.text for m in await fresh.all_messages()] == ["first", "You said: first"]


async def test_a_missing_session_history_is_reported_not_raised(open_session):
    session, display, listener = await open_session("gone")
    session.conversation.id = "no-such-session"
    await session.load_history()
    assert listener.reports[-1][0] == "error" and listener.reports[-1][1].startswith("Could not load the messages:")
    assert not session.history_loaded and display.pages == []


@pytest.mark.parametrize("agent", ["writer"])
async def test_a_permission_request_is_reported_and_the_answer_ends_the_turn(open_session, backend, server):
    session, display, listener = await open_session("write")
    turn, sending = await session.start_send("note this")
    await listener.wait(lambda: "permission_arrived" in listener.names())

    request = listener.reports[listener.names().index("permission_arrived")][1]
    assert request.tool_name.lower() == "write" and session.busy  # "Write" under the latest spec
    assert session.record_permission_answer(request.id, True)
    assert not session.record_permission_answer("unknown-request", True)
    await backend.answer_permission(request.id, True)
    await session.finish_send(turn, sending)
    await listener.wait(lambda: "turn_finished" in listener.names())

    assert turn.status is TurnStatus.COMPLETE and turn.answer == "Wrote note.txt."
    assert (server.settings.storage_dir / session.id / "note.txt").read_text() == "note this"


@pytest.mark.parametrize("agent", ["slow"])
async def test_cancel_stops_the_running_turn(open_session):
    session, display, listener = await open_session("slow")
    turn, sending = await session.start_send("take your time")
    await listener.wait(lambda: turn.answer == "Working")

    await session.cancel(grace=5.0)

    assert turn.status is TurnStatus.CANCELLED and not session.busy
    assert ("turn_finished", TurnStatus.CANCELLED) in listener.reports
    sending.cancel()


async def test_a_session_deleted_on_the_server_is_reported(open_session, server):
    session, display, listener = await open_session("deleted")
    with httpx.Client(base_url=server.url) as c:
        c.delete(f"/api/sessions/{session.id}").raise_for_status()
    await listener.wait(lambda: "session_deleted" in listener.names())
    assert ("session_deleted", session.id) in listener.reports


async def test_a_send_that_never_reaches_the_server_is_undelivered(open_session):
    session, display, listener = await open_session("unreachable")
    gone = MixBackend(closed_port_url())
    session.backend = gone
    try:
        turn = await session.send("anyone there?")
    finally:
        await gone.close()

    assert turn.status is TurnStatus.ERROR and turn.error.error.startswith("Not sent:")
    assert session.turn_undelivered  # the screen puts the text back in the composer
    assert "connection_lost" in listener.names() and listener.names().count("turn_finished") == 1


async def test_a_turn_started_by_another_client_is_shown_live(open_session):
    session, display, listener = await open_session("shared")
    session.handle(ev.UserMessageCreated("m-1", "from elsewhere"))

    assert session.turn is not None and session.turn.user_text == "from elsewhere"
    assert ("turn_started", "from elsewhere") in listener.reports and ("user", "from elsewhere") in display.calls
    session.handle(ev.UserMessageCreated("m-1", "from elsewhere"))  # its own echo: no second turn
    assert [name for name, _ in display.calls].count("user") == 1


async def test_a_turn_already_running_elsewhere_is_joined_and_stragglers_are_not(open_session):
    session, display, listener = await open_session("joined")
    await session.send("asked here")
    await listener.wait(lambda: not session.busy)
    await session.load_history()  # as when the session was opened: the history's last question is known
    assert session.last_question == "asked here"

    session.handle(ev.ContentDelta("late words"))  # a straggler of the turn that just ended: no new turn
    assert listener.names().count("turn_started") == 1

    session.clock.now += 5  # later: output of a turn whose message this stream never saw
    session.handle(ev.ContentDelta("midway "))
    assert session.busy and session.joined and session.turn.user_text == "asked here"
    assert listener.names().count("turn_started") == 2 and display.names()[-1] == "start"  # no user line again
    session.handle(ev.Complete(content="the whole answer"))
    assert session.turn.answer == "the whole answer" and listener.reports[-1] == ("turn_finished", TurnStatus.COMPLETE)
    await listener.wait(lambda: display.names()[-1] == "history")  # read again: the turn whole, as stored


async def test_the_end_of_a_turn_that_ran_unseen_rereads_the_history(open_session):
    session, display, listener = await open_session("unseen")
    await session.load_history()
    reads = display.names().count("history")
    session.handle(ev.Error(error="Invalid session ID"))  # not a turn's end: nothing to read
    session.handle(ev.Complete(content="answered while this stream was away"))
    await listener.wait(lambda: display.names().count("history") == reads + 1)
    assert session.turn is None and "error" not in listener.names()


async def test_connection_changes_reach_the_listener_and_the_connected_flag(open_session):
    session, display, listener = await open_session("flaky")
    session.handle(ev.ConnectionChanged("reconnecting", attempt=1, delay=0.5, reason="the server closed the event stream"))
    assert session.connection == "reconnecting" and not session.connected.is_set()
    session.handle(ev.ConnectionChanged("connected"))
    assert session.connection == "connected" and session.connected.is_set()
    assert [v for n, v in listener.reports if n == "connection_changed"][-2:] == ["reconnecting", "connected"]


async def test_a_stream_that_gives_up_fails_the_running_turn(open_session):
    session, display, listener = await open_session("lost")
    session.new_turn("will be lost")
    # The same session's stream from a server that is not there, allowed one retry: it gives up for good.
    gone = MixBackend(MixClient(closed_port_url(), reconnect=ReconnectPolicy(base=0.01, max_attempts=1)))
    session.backend = gone
    try:
        await asyncio.wait_for(session.consume(), 10)
    finally:
        await gone.close()

    assert session.connection == "offline" and not session.connected.is_set()
    reason = next(value for name, value in listener.reports if name == "stream_lost")
    assert reason.startswith("Lost the event stream of the Mix server")
    assert session.turn.status is TurnStatus.ERROR and "Lost the connection" in session.turn.error.error
    assert listener.reports[-1] == ("turn_finished", TurnStatus.ERROR)
    assert session.turn_undelivered  # nothing was answered: the screen puts the text back


async def test_usage_is_refreshed_from_the_server(open_session):
    session, display, listener = await open_session("usage")
    session.conversation.cost = -1.0
    assert await session.refresh_usage()
    assert session.conversation.cost >= 0.0


async def test_a_turn_longer_than_ten_seconds_counts_as_long(open_session):
    session, display, listener = await open_session("long")
    session.new_turn("slowly")
    assert not session.turn_was_long
    session.clock.now += 11.0
    assert session.turn_was_long
