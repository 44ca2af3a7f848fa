"""Token usage and cost of the open session in the status bar: read from the real embedded server's
session (its store holds what a real provider reported), refreshed when a session is opened and
after each finished turn; nothing shown when there is none (the offline agent, MixerLead)."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("tui.api.mix.backend", reason="the Mix client (tui/api/mix) has not landed yet")

from tui.api.turn import TurnStatus

from .helpers import dead_url, make_app, notifications, wait_for
from .live import live_app, send, wait_turn_done


def _usage_shown(app) -> bool:
    text = app.chat.status.text
    return " tok" in text or "$" in text


async def test_usage_appears_after_a_finished_turn(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "first")
        await wait_turn_done(pilot, app)
        await pilot.pause(0.2)
        assert not _usage_shown(app)  # the offline agent costs nothing: nothing shown
        # A real provider's report, as the server records it (tokens of the last request, cost adds up).
        server.app.state.store.add_usage(chat.current.id, 12_345, 1_100, 0.042)
        await send(pilot, app, "second")
        await wait_for(pilot, lambda: chat.current.turn.user_text == "second" and chat.current.turn.status.finished,
                       timeout=10, what="the second turn")
        await wait_for(pilot, lambda: "12.3k→1.1k tok · $0.042" in chat.status.text, what="the usage in the status bar")
        assert chat.current.conversation.cost == pytest.approx(0.042)


async def test_usage_follows_the_session_that_is_opened(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "the expensive one")
        await wait_turn_done(pilot, app)
        expensive = chat.current.conversation
        await pilot.press("ctrl+n")
        await send(pilot, app, "the free one")
        await wait_for(pilot, lambda: chat.current is not None and chat.current.id != expensive.id, what="a second session")
        await wait_turn_done(pilot, app)
        free = chat.current.conversation
        store = server.app.state.store
        store.add_usage(expensive.id, 2_500_000, 999_999, 1.0)
        store.add_usage(expensive.id, 2_500_000, 999_999, 0.5)  # cost accumulates: $1.50
        chat.open_session(expensive)
        await wait_for(pilot, lambda: "2.5M→1.0M tok · $1.50" in chat.status.text, what="the opened session's usage")
        chat.open_session(free)
        await wait_for(pilot, lambda: not _usage_shown(app), what="no usage for the free session")
        await pilot.press("ctrl+n")  # no session open: nothing to show either
        chat.open_session(expensive)
        await wait_for(pilot, lambda: "$1.50" in chat.status.text, what="the usage again")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not _usage_shown(app), what="usage cleared with no session")


async def test_a_failed_usage_fetch_is_silent(tmp_path, caplog):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "soon gone")
        await wait_turn_done(pilot, app)
        view = chat.current
        server.app.state.store.add_usage(view.id, 10, 20, 0.5)
        chat._refresh_usage(view)
        await wait_for(pilot, lambda: "10→20 tok · $0.500" in chat.status.text, what="the usage")
        # The session disappears from the server without an event: the next GET is a 404.
        assert server.app.state.store.delete_session(view.id)
        before = list(notifications(app))
        with caplog.at_level(logging.DEBUG, logger="tui.controllers.session"):
            chat._refresh_usage(view)
            await wait_for(pilot, lambda: any("not refreshed" in r.getMessage() for r in caplog.records),
                           what="the failure logged at debug")
        assert "10→20 tok · $0.500" in chat.status.text  # what was shown stays
        assert notifications(app) == before  # and nobody was bothered


async def test_the_format_in_the_status_bar(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(140, 30)) as pilot:
        status = app.chat.status
        cases = [
            ((950, 12, 0.0), "950→12 tok"),
            ((1_000, 0, 0.0), "1.0k→0 tok"),
            ((12_345, 1_100, 0.042), "12.3k→1.1k tok · $0.042"),
            ((123_456, 99_949, 12.345), "123k→99.9k tok · $12.35"),
            ((999_999, 4_500_000, 250.4), "1.0M→4.5M tok · $250"),
            ((0, 0, 0.0004), "<$0.001"),
            ((0, 0, 3.0), "$3.00"),
        ]
        for (prompt, completion, cost), expected in cases:
            status.set_usage(prompt, completion, cost)
            await pilot.pause()
            assert expected in status.text, (expected, status.text)
            assert status.text.count("tok") <= 1
        status.set_usage(950, 12, 0.0)
        assert "$" not in status.text  # no cost part without a cost
        status.set_usage(0, 0, 0.0)
        await pilot.pause()
        assert " tok" not in status.text and "$" not in status.text and "││" not in status.text.replace(" ", "")


async def test_mixerlead_conversations_show_no_usage(tmp_path):
    from tests.fakes.mixerlead_server import running_fake_mixerlead
    from tui.api.mixerlead import MixerLeadClient
    from tui.api.mixerlead.backend import MixerLeadBackend
    from tui.app import MixApp
    from tui.config import Config, resolve_paths

    with running_fake_mixerlead() as (_url, fake):
        backend = MixerLeadBackend(MixerLeadClient(fake.api_key, base_url=fake.base_url), tmp_path / "ml.db")
        app = MixApp(Config(), resolve_paths(tmp_path / "client"), backend=backend)
        try:
            async with app.run_test(size=(120, 30)) as pilot:
                chat = app.chat
                await wait_for(pilot, lambda: chat.connection == "connected", what="ready")
                chat.composer.load("hello mixerlead")
                await pilot.press("enter")
                await wait_turn_done(pilot, app)
                assert chat.current.turn.status is TurnStatus.COMPLETE
                await pilot.pause(0.2)
                assert not _usage_shown(app)
                assert chat.status.session  # the bar shows the conversation, only without usage
        finally:
            await backend.close()
