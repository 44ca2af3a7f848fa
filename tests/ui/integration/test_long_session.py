"""A long session in the real app over the embedded server: it opens at its last message, Home reaches
its first message, and scrolling down from there shows every message once, in order."""

from __future__ import annotations

from tests.ui.integration.harness import integrated_app, wait_for
from tui.server.settings import ServerSettings
from tui.server.store import Store
from tui.widgets import Transcript
from tui.widgets.message import AssistantMessage, UserMessage

MESSAGES = 200


def seed(data_dir, n: int) -> tuple[str, list[str]]:
    """A session of `n` messages written with the server's own store before it starts; its id and texts."""
    store = Store(ServerSettings(data_dir=data_dir).db_path)
    session = store.create_session("long session")
    texts = []
    for i in range(n):
        if i % 2 == 0:
            text = f"question {i}"
            store.add_message(session.id, "user", text)
        else:
            text = f"answer {i}\n\n```python\nprint({i})\n```\n"
            calls = [{"id": f"toolu_{i:05d}", "name": "bash", "input": "{}", "type": "tool_use", "finished": True,
                      "result": f"ran {i}", "isError": False}] if i % 4 == 1 else None
            store.add_message(session.id, "assistant", text, tool_calls=calls)
        texts.append(text)
    store.close()
    return session.id, texts


def shown(transcript: Transcript) -> list[tuple[int | None, str]]:
    out = []
    for widget in transcript.message_widgets:
        if isinstance(widget, UserMessage):
            out.append((widget.index, widget.text))
        elif isinstance(widget, AssistantMessage) and widget.message is not None:
            out.append((widget.index, widget.message.text))
    return out


def on_screen(transcript: Transcript, index: int) -> bool:
    widget = next((w for w in transcript.message_widgets if w.index == index), None)
    return widget is not None and widget.region.height > 0 and transcript.region.contains_region(widget.region)


async def test_home_reaches_the_first_message_and_scrolling_down_shows_each_message_once(tmp_path):
    sid, texts = seed(tmp_path / "server", MESSAGES)
    expected = list(enumerate(texts))
    async with integrated_app(tmp_path) as (app, pilot, _server):
        chat = app.chat
        chat.open_session(next(i.conversation for i in chat.sidebar.items if i.id == sid))
        transcript = chat.current.transcript
        await wait_for(pilot, lambda: on_screen(transcript, MESSAGES - 1), what="the last message on screen")
        assert transcript.loaded_count < MESSAGES  # only the newest page was asked for
        transcript.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: on_screen(transcript, 0) and transcript.scroll_y == 0, what="the first message at the top")
        assert transcript.loaded_count == MESSAGES
        read: set[int | None] = set()  # every message that was on screen while paging down
        for _ in range(20 * MESSAGES):  # page down, as a reader does, until the last message
            window = shown(transcript)
            assert window == expected[window[0][0]:window[-1][0] + 1]  # in order, none missing or doubled
            read |= {w.index for w in transcript.message_widgets if w.region.overlaps(transcript.region)}
            if on_screen(transcript, MESSAGES - 1):
                break
            transcript.scroll_page_down(animate=False)
            await pilot.pause()
        assert read == set(range(MESSAGES))  # the view never jumped over a message
