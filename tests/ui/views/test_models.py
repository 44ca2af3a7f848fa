"""Providers, models and preferences against the real embedded server over loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from tests.fixtures.mix_server import running_server
from tests.ui.views.host import Host, settle, store_key, text_of, wait_until
from tui.api.mix import MixClient
from tui.screens.confirm import ConfirmScreen
from tui.screens.models import ModelsScreen

SIZE = (120, 32)


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path / "server") as server:
        yield server


def rows(app: Host) -> list[list[str]]:
    table = app.shown.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def status(app: Host) -> str:
    return text_of(app.shown.query_one("#models-status", Static))


def prefs(server) -> dict:
    with server.client() as c:
        return c.get("/api/preferences").json()["preferences"]


def row_index(app: Host, model: str) -> int:
    return next(i for i, r in enumerate(app.shown.rows) if r.model == model)


async def test_lists_every_providers_models_with_whether_each_is_usable(server) -> None:
    store_key(server)
    client = MixClient(server.url)
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = {r[1]: r for r in rows(app)}
        assert table["offline-1"][2] == "✓ needs no key" and table["offline-1"][3] == "main · sub"
        assert table["claude-4-opus"][0] == "Anthropic" and table["claude-4-opus"][2] == "✓ API key stored"
        assert table["gpt-4.1"][2] == "✗ needs a key"
        assert status(app).endswith("models, 4 usable now")
    await client.aclose()


async def test_choose_the_main_and_the_sub_agent_model(server) -> None:
    store_key(server)
    client = MixClient(server.url)
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.shown.query_one(DataTable).move_cursor(row=row_index(app, "claude-4-opus"))
        await pilot.press("enter")
        await settle(pilot, app)
        assert status(app) == "Main agent now uses claude-4-opus (Anthropic)"
        assert app.models_shown == ["claude-4-opus"]  # the status bar's model
        app.shown.query_one(DataTable).move_cursor(row=row_index(app, "claude-3-5-haiku"))
        await pilot.press("b")
        await settle(pilot, app)
        assert status(app) == "Sub-agent now uses claude-3-5-haiku"
        assert rows(app)[row_index(app, "claude-4-opus")][3] == "main"
        assert rows(app)[row_index(app, "claude-3-5-haiku")][3] == "sub"
    stored = prefs(server)
    assert (stored["preferred_provider"], stored["main_agent_model"], stored["sub_agent_model"]) == (
        "anthropic", "claude-4-opus", "claude-3-5-haiku")
    await client.aclose()


async def test_edit_max_tokens_and_reasoning_effort(server) -> None:
    client = MixClient(server.url)
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.shown
        assert screen.query_one("#main-max-tokens", Input).value == "4096"
        screen.query_one("#main-max-tokens", Input).value = "8000"
        screen.query_one("#sub-effort", Select).value = "high"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert status(app) == "Preferences saved"
        stored = prefs(server)
        assert stored["main_agent_max_tokens"] == 8000 and stored["sub_agent_reasoning_effort"] == "high"
        # a bad value is refused before anything is sent
        screen.query_one("#sub-max-tokens", Input).value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert status(app) == "Not saved: Max tokens of the sub-agent must be more than 0."
        assert "view-error" in screen.query_one("#models-status").classes
        assert prefs(server)["sub_agent_max_tokens"] == 2048
    await client.aclose()


async def test_the_servers_refusal_is_shown(server) -> None:
    client = MixClient(server.url)
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.shown._save({"main_agent_model": "no-such-model"}, "saved")
        await settle(pilot, app)
        said = status(app)
        assert said.startswith("Could not save the preferences: Mix server at") and "400" in said
        assert "no-such-model" in said
        assert app.models_shown == []
    await client.aclose()


async def test_reset_asks_first(server) -> None:
    client = MixClient(server.url)
    with server.client() as c:
        c.post("/api/preferences", json={"main_agent_max_tokens": 999}).raise_for_status()
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await settle(pilot, app)
        assert prefs(server)["main_agent_max_tokens"] == 999
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, app)
        assert status(app) == "Preferences reset to the server's defaults"
        assert app.shown.query_one("#main-max-tokens", Input).value == "4096"
    assert prefs(server)["main_agent_max_tokens"] == 4096
    await client.aclose()


async def test_unreachable_server_is_said_plainly(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        url = server.url
    client = MixClient(url)
    app = Host(lambda: ModelsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert status(app) == (f"Could not load the providers: Mix server at {url} refused the connection "
                               "while listing providers and models: is it running?")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    await client.aclose()


def test_snapshot_of_the_models_screen(snap_compare, tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        store_key(server)
        client = MixClient(server.url)

        async def loaded(pilot) -> None:
            await settle(pilot, pilot.app)

        assert snap_compare(Host(lambda: ModelsScreen(client)), terminal_size=SIZE, run_before=loaded)
