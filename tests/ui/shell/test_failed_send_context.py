"""A failed send puts back what the user typed, not the message as sent: the attached context (a
Mixpeek result) is attached again instead of landing in the composer, and `@` file paths are not
written into the text. Against the real embedded server, whose session vanishes so the send fails."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("tui.api.mix.backend", reason="the Mix client (tui/api/mix) has not landed yet")

from tui.api.turn import TurnStatus

from .helpers import wait_for, wait_notified
from .live import live_app, send, wait_turn_done

NOTES = "Turbine blades are inspected every 500 hours."


async def test_a_failed_send_puts_back_the_typed_text_and_reattaches_the_context(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        await send(pilot, app, "first")
        await wait_turn_done(pilot, app)
        view = chat.current
        # The session's files, as the `@` completion knows them (so `@notes.md` is named as a path on send).
        chat.completion.set_files([SimpleNamespace(name="notes.md", size=12)], session_id=view.id)
        chat.attached.add(NOTES, "docs/turbines.md")
        # The session vanishes from the server's database without any event: the next send gets a 404.
        assert server.app.state.store.delete_session(view.id)
        typed = "see @notes.md and summarise them"  # (the cursor past the @ word: Enter sends)
        await send(pilot, app, typed)
        await wait_for(pilot, lambda: view.turn.user_text != "first" and view.turn.status.finished, timeout=6,
                       what="the failed send")
        # What went out had the context and the path folded in...
        assert view.turn.status is TurnStatus.ERROR
        assert NOTES in view.turn.user_text and "./notes.md" in view.turn.user_text
        # ...what comes back is what the user typed, with the context attached again.
        await wait_for(pilot, lambda: chat.composer.text == typed, timeout=6, what="the typed text back")
        assert [(a.source, a.text) for a in chat.attached.attachments] == [("docs/turbines.md", NOTES)]
        assert chat.attached.display
        await wait_notified(pilot, app, lambda n: "Not sent" in n and "attached context were put back" in n)
        assert len(chat.unsent) == 0  # nothing kept once it is back


async def test_a_delivered_message_leaves_nothing_attached(tmp_path):
    async with live_app(tmp_path) as (app, pilot, server):
        chat = app.chat
        chat.attached.add(NOTES, "docs/turbines.md")
        await send(pilot, app, "what do the notes say?")
        await wait_turn_done(pilot, app)
        assert chat.current.turn.status is TurnStatus.COMPLETE
        assert chat.attached.attachments == [] and not chat.attached.display  # used once
        assert chat.composer.text == ""
        assert len(chat.unsent) == 0  # delivered: the typed text is not kept
        async with server.async_client() as c:
            messages = (await c.get(f"/api/sessions/{chat.current.id}/messages")).json()
        stored = [m["userInput"] for m in messages if m["role"] == "user"]
        assert NOTES in stored[0] and stored[0].endswith("what do the notes say?")


async def test_history_recalls_what_was_typed_not_the_context(tmp_path):
    async with live_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        chat.attached.add(NOTES, "docs/turbines.md")
        await send(pilot, app, "what do the notes say?")
        await wait_turn_done(pilot, app)
        assert NOTES in chat.current.turn.user_text  # the context went out with the message
        assert chat.composer.prompt_history[-1] == "what do the notes say?"
        chat.composer.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: chat.composer.text == "what do the notes say?", what="the recalled prompt")
        assert app.store.prompts("mix")[-1] == "what do the notes say?"
