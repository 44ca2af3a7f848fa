"""Drive the real app into each main state (shared by the snapshot tests and the screenshot writer).

Everything that moves with time is pinned: the app's clock is frozen, the random port is shown as
8088, and the banner's retry delay is fixed, so two runs draw the same screen.
"""

from __future__ import annotations

from tui.app import MixApp

from .helpers import wait_for

FROZEN = 1000.0
SHOWN_URL = "http://127.0.0.1:8088"


def freeze(app: MixApp) -> None:
    app.clock = lambda: FROZEN


async def settle(pilot, app: MixApp) -> None:
    await wait_for(pilot, lambda: app.chat.connection == "connected" and app.chat.sessions.loaded, what="connected")
    app.chat.status.set(server=SHOWN_URL)
    app.chat.composer.cursor_blink = False
    await pilot.pause(0.05)


async def send(pilot, app: MixApp, text: str) -> None:
    app.chat.composer.load(text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None, what="a turn")


def drawn(app: MixApp) -> bool:
    """Every answer on screen shows all the text it was given (drawing catches up over frames)."""
    from tui.widgets.streaming_markdown import StreamingMarkdown

    return not any(md.behind for md in app.screen.query(StreamingMarkdown))


async def empty(pilot, app: MixApp) -> None:
    await settle(pilot, app)
    await pilot.pause(0.1)


async def done_turn(pilot, app: MixApp, text: str) -> None:
    await settle(pilot, app)
    await send(pilot, app, text)
    await wait_for(pilot, lambda: app.chat.current.turn.status.finished, timeout=10, what="the answer")
    app.chat.status.set(server=SHOWN_URL)
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: drawn(app), what="the answer drawn")
    await pilot.pause(0.2)


def at_bottom(app: MixApp) -> bool:
    transcript = app.chat.current.transcript
    return transcript.scroll_y >= transcript.max_scroll_y


async def tool_card(pilot, app: MixApp) -> None:
    await settle(pilot, app)
    await send(pilot, app, "run `echo hello from mix-tui`")
    await wait_for(pilot, lambda: app.chat.prompt.display, timeout=10, what="the permission prompt")
    await pilot.press("y")
    await wait_for(pilot, lambda: app.chat.current.turn.status.finished, timeout=10, what="the answer")
    await pilot.pause(0.3)
    import re

    from tui.widgets.tool_card import ToolCard

    # The server reports the measured run time ("Completed bash tool in 806.6ms"): pin it.
    for tool in app.chat.current.turn.tool_calls:
        tool.progress = re.sub(r"[0-9.]+(?:ms|µs|s)\b", "12ms", tool.progress)
    for card in app.chat.current.transcript.query(ToolCard):
        card.collapsed = False
        await card.refresh_view()
    await pilot.pause(0.3)


async def streaming(pilot, app: MixApp) -> None:
    """Needs a server running tests.ui.shell.agents.HoldingAgent."""
    await settle(pilot, app)
    await send(pilot, app, "How do I build and test this project?")
    await wait_for(pilot, lambda: app.chat.current.turn.answer.endswith("the"), timeout=10, what="the partial answer")
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: drawn(app), what="the answer drawn")
    await pilot.pause(0.2)


async def error(pilot, app: MixApp) -> None:
    """Needs a server running tests.ui.shell.agents.RateLimitedAgent."""
    await done_turn(pilot, app, "Summarise the repository layout")
    await wait_for(pilot, lambda: app.chat.rate_limit_banner.display and drawn(app), what="the banner and the answer")
    app.clear_notifications()
    await pilot.pause(0.1)


async def permission(pilot, app: MixApp) -> None:
    await settle(pilot, app)
    await send(pilot, app, "run `make test`")
    await wait_for(pilot, lambda: app.chat.current.turn.pending_permissions and app.chat.prompt.display,
                   timeout=10, what="the permission prompt")
    await pilot.pause(0.3)


async def queued(pilot, app: MixApp) -> None:
    """A message typed while the agent waits for permission: queued above the composer."""
    await permission(pilot, app)
    await pilot.press("ctrl+l")
    app.chat.composer.load("and then list the files")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.chat.query_one("#queued").display, what="the queue")
    app.clear_notifications()
    await pilot.pause(0.3)


async def help_screen(pilot, app: MixApp) -> None:
    await settle(pilot, app)
    await pilot.press("f1")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="help")
    await pilot.pause(0.2)


async def reconnecting(pilot, app: MixApp, stop_server) -> None:
    """`stop_server` is an async callable that takes the server down."""
    await done_turn(pilot, app, "hello")
    await stop_server()
    await wait_for(pilot, lambda: app.chat.banner.display, timeout=10, what="the banner")
    # Freeze: no further retries (their count and jittered delays would differ between runs).
    app.chat.current.consumer.cancel()
    await pilot.pause(0.1)
    app.chat._set_connection("reconnecting", attempt=2, delay=4.0,
                             reason=f"Mix server at {app.server_url} refused the connection")
    app.chat.status.set(server=SHOWN_URL)
    app.clear_notifications()
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: at_bottom(app), what="the view back at the bottom under the banner")
    # The scrollbar's thumb lands a fraction of a line apart depending on the tests run before (seen only
    # in whole-suite runs); the picture is of the banner and the view, so the transcript's bar is hidden.
    app.chat.current.transcript.styles.scrollbar_size_vertical = 0
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: at_bottom(app), what="the view at the bottom without its scrollbar")


async def main(pilot, app: MixApp) -> None:
    """The README picture: a few sessions on the left, an answer with a tool card on the right."""
    await settle(pilot, app)
    for text in ("What can you do?", "list the files"):
        await send(pilot, app, text)
        await wait_for(pilot, lambda: app.chat.current.turn.status.finished, timeout=10, what="the answer")
        await pilot.press("ctrl+n")
    await tool_card(pilot, app)
