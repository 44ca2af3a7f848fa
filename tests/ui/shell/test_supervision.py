"""The app replaces the embedded server it started when that dies (issue 19, item 5): killed with
SIGKILL under a running app, with a session open and with none, the app is connected to a new server
within 10 s and the next message is answered; past the restart budget a banner says why and F10 retries."""

from __future__ import annotations

import os
import signal
import time

from tui.config import EmbeddedServerConfig
from tui.server.supervisor import RestartPolicy
from tui.widgets.server_down import ServerDownBanner

from .helpers import make_app, notifications, wait_for


def embedded_app(tmp_path):
    return make_app(tmp_path, server="", embedded=EmbeddedServerConfig(agent_delay=0.0))


async def ask(pilot, app, text: str) -> str:
    """Type `text`, send it, and wait for the answer to finish; the answer."""
    app.chat.composer.load(text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                   and app.chat.current.turn.user_text == text and app.chat.current.turn.status.finished,
                   timeout=15, what=f"the answer to {text!r}")
    return app.chat.current.turn.answer


async def kill_and_wait_for_new_server(pilot, app) -> float:
    old = app.server.pid
    started = time.monotonic()
    os.kill(old, signal.SIGKILL)
    await wait_for(pilot, lambda: app.server.pid != old and app.server.running and app.chat.connection == "connected"
                   and any("killed by SIGKILL" in n for n in notifications(app)), timeout=10, what="a new server")
    return time.monotonic() - started


async def test_server_killed_with_no_session_open_is_replaced(tmp_path):
    app = embedded_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.chat.connection == "connected", timeout=20, what="the embedded server")
        assert app.chat.current is None
        url = app.server_url
        await kill_and_wait_for_new_server(pilot, app)
        assert app.server_url == url  # same port and token: nothing to move
        line = next(n for n in notifications(app) if "killed by SIGKILL" in n)
        assert len(line.splitlines()) == 1 and "Nothing was lost" in line
        assert await ask(pilot, app, "hello after the crash")


async def test_server_killed_with_a_session_open_is_replaced_and_the_session_goes_on(tmp_path):
    app = embedded_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.chat.connection == "connected", timeout=20, what="the embedded server")
        first = await ask(pilot, app, "first question")
        session = app.chat.current
        await kill_and_wait_for_new_server(pilot, app)
        await pilot.press(*"typed after")
        assert app.chat.composer.text == "typed after"  # nothing typed is lost
        await wait_for(pilot, lambda: session.connection == "connected", timeout=10, what="the session's stream")
        assert await ask(pilot, app, "second question")
        assert app.chat.current is session
        # What was seen before the crash is still there, above the new turn (2 questions, 2 answers).
        assert first and session.transcript.loaded_count >= 4


async def test_after_too_many_restarts_a_banner_shows_the_log_and_f10_tries_again(tmp_path):
    app = embedded_app(tmp_path)
    app.restart_policy = RestartPolicy(first_delay=0.01, max_delay=0.02, max_restarts=2, poll_interval=0.05,
                                       health_interval=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.chat.connection == "connected", timeout=20, what="the embedded server")
        db = app.server.data_dir / "server.db"
        db.unlink()
        db.mkdir()  # every new server now fails at start
        os.kill(app.server.pid, signal.SIGKILL)
        await wait_for(pilot, lambda: app.query(ServerDownBanner), timeout=20, what="the banner")
        banner = app.query_one(ServerDownBanner)
        assert "keeps stopping" in banner.text and "F10" in banner.text and "log ends with" in banner.text
        db.rmdir()
        await pilot.press("f10")
        await wait_for(pilot, lambda: not app.query(ServerDownBanner) and app.chat.connection == "connected",
                       timeout=15, what="the retry")
        assert await ask(pilot, app, "back again")


async def test_the_part_of_an_answer_seen_before_the_crash_stays_on_screen(tmp_path):
    app = make_app(tmp_path, server="", embedded=EmbeddedServerConfig(agent_delay=0.05))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.chat.connection == "connected", timeout=20, what="the embedded server")
        app.chat.composer.load("hello")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                       and len(app.chat.current.turn.answer) > 30, timeout=15, what="part of the answer")
        session = app.chat.current
        seen = session.turn.answer
        await kill_and_wait_for_new_server(pilot, app)
        # The history is reloaded from the new server, and what was seen of the interrupted answer is
        # still there after the question (the new server may hold less of it than the screen showed).
        def shown() -> list[str]:
            return [w.copy_text() for w in session.transcript.message_widgets]

        await wait_for(pilot, lambda: session.turn is None or session.turn.status.finished, timeout=10,
                       what="the interrupted turn closed")
        try:
            await wait_for(pilot, lambda: len(shown()) >= 2 and shown()[-2] == "hello" and shown()[-1].startswith(seen),
                           timeout=10, what="the question and the answer seen")
        except AssertionError:
            raise AssertionError(f"{seen!r} not kept: {shown()!r}") from None
