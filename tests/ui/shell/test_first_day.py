"""Defects a new user hit in a real terminal (issue 18), each driven with Pilot against the real
embedded server. Keys are sent the way a terminal sends them where that differs from Pilot's."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, AsyncIterator

from textual.widgets import Input, Static

from tests.fixtures.mix_server import async_running_server
from tui.app import MixApp

from .helpers import make_app, wait_for
from .live import cancel_all


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
