"""A slash command's card is kept by the client (neither the embedded server nor Mix store command
answers in the history): it comes back in its place after a restart and is part of the export."""

from __future__ import annotations

from tui.widgets.command_cards import CommandCard
from tui.widgets.message import AssistantMessage, UserMessage

from .helpers import notifications, wait_for
from .live import live_app, send, wait_turn_done


def _shown(transcript) -> list[str]:
    """What the transcript shows, top to bottom: `you: …`, `card: /kind` or `answer`."""
    rows = []
    for widget in transcript.children:
        if isinstance(widget, UserMessage):
            rows.append(f"you: {widget.text}")
        elif isinstance(widget, AssistantMessage):
            cards = list(widget.query(CommandCard))
            rows.append(f"card: /{cards[0].kind}" if cards else "answer")
    return rows


async def test_help_card_comes_back_in_place_after_a_restart_and_is_exported(tmp_path):
    server_dir = tmp_path / "server"
    expected = ["you: before the command", "answer", "you: /help", "card: /help", "you: after the command", "answer"]
    async with live_app(tmp_path, server_dir=server_dir) as (app, pilot, _server):
        for text in ("before the command", "/help", "after the command"):
            await send(pilot, app, text)
            await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                           and app.chat.current.turn.user_text == text, what=f"the turn of {text!r}")
            await wait_turn_done(pilot, app)
        transcript = app.chat.current.transcript
        await wait_for(pilot, lambda: _shown(transcript) == expected, what="the live card")
        sid = app.chat.current.id
        # Reopening the session (another one in between) reads the history again.
        await pilot.press("ctrl+n")
        await send(pilot, app, "another session")
        await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.id != sid, what="a second session")
        await wait_turn_done(pilot, app)
        app.chat.open_session(next(i.conversation for i in app.chat.sidebar.items if i.id == sid))
        await wait_for(pilot, lambda: app.chat.current.id == sid, what="the first session again")
    # A new app on the same data: the session reopens from the server's history, the card in its place.
    async with live_app(tmp_path, server_dir=server_dir) as (app, pilot, _server):
        await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.history_loaded,
                       what="the last session to reopen")
        assert app.chat.current.id == sid
        transcript = app.chat.current.transcript
        await wait_for(pilot, lambda: _shown(transcript) == expected, what="the card after the restart")
        card = transcript.query_one(CommandCard)
        assert "/session" in card.text and "/help" in card.text  # the commands it lists, drawn again
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: any("Exported to" in n for n in notifications(app)), what="export")
        [exported] = list(app.export_dir.glob("*.md"))
        text = exported.read_text()
        assert text.index("before the command") < text.index("/help") < text.index("after the command")
        assert "Commands" in text and "/session" in text  # the card's content, not only the command
