"""Provider credentials against the real embedded server over loopback; keys never reach the screen."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from tests.fixtures.mix_server import running_server
from tests.ui.views.host import Host, settle, store_key, text_of, wait_until
from tui.api.mix import MixClient
from tui.screens.confirm import ConfirmScreen
from tui.screens.credentials import CredentialsScreen, mask_in

SIZE = (110, 30)
GOOD_KEY = "sk-ant-" + "k" * 32
BAD_KEY = "not-a-real-key-1234"


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path / "server") as server:
        yield server


def rows(app: Host) -> dict[str, list[str]]:
    table = app.shown.query_one(DataTable)
    out = {}
    for i in range(table.row_count):
        cells = [str(c) for c in table.get_row_at(i)]
        out[app.shown.providers[i].provider] = cells
    return out


def status(app: Host) -> str:
    return text_of(app.shown.query_one("#creds-status", Static))


def screen_text(app: Host) -> str:
    return app.export_screenshot()


async def choose(pilot, app: Host, provider: str) -> None:
    index = next(i for i, p in enumerate(app.shown.providers) if p.provider == provider)
    app.shown.query_one(DataTable).move_cursor(row=index)
    await pilot.pause()


async def test_status_of_each_provider(server) -> None:
    store_key(server, "openai", "sk-" + "o" * 30)
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = rows(app)
        assert table["offline"] == ["Offline agent ⭐ preferred", "✓ ready", "—"]
        assert table["openai"] == ["OpenAI", "✓ ready", "API key"]
        assert table["anthropic"][1:] == ["✗ no credentials", "—"]
        assert status(app) == "2 of 4 providers ready"
    await client.aclose()


async def test_a_good_key_is_checked_stored_and_cleared(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await choose(pilot, app, "anthropic")
        await pilot.press("k")
        field = app.shown.query_one("#creds-key", Input)
        assert field.has_focus and field.password
        await pilot.press(*GOOD_KEY)
        assert GOOD_KEY not in screen_text(app)  # masked while typed
        await pilot.press("enter")
        await settle(pilot, app)
        # the server says whether the provider checked the key or only its format was (no network here)
        assert status(app).startswith("anthropic API key stored")
        assert field.value == ""
        assert rows(app)["anthropic"][1:] == ["✓ ready", "API key"]
    assert GOOD_KEY not in caplog.text
    with server.client() as c:
        assert c.get("/api/auth/status").json()["providers"]["anthropic"]["authenticated"] is True
    await client.aclose()


async def test_a_rejected_key_shows_the_servers_answer_and_stays_masked(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await choose(pilot, app, "anthropic")
        await pilot.press("k", *BAD_KEY, "enter")
        await settle(pilot, app)
        said = status(app)
        assert said.startswith("Could not store the anthropic key: Mix server at") and "400" in said
        assert "does not look like an Anthropic API key" in said
        assert "view-error" in app.shown.query_one("#creds-status").classes
        assert app.shown.query_one("#creds-key", Input).value == BAD_KEY  # kept to fix, still masked
        assert BAD_KEY not in screen_text(app)
        assert rows(app)["anthropic"][1] == "✗ no credentials"
        # a provider that takes no key: the server says so
        await choose(pilot, app, "offline")
        app.shown.query_one("#creds-key", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert "Unsupported provider 'offline'" in status(app)
    assert BAD_KEY not in caplog.text
    await client.aclose()


async def test_oauth_not_available_offline_is_shown(server) -> None:
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await choose(pilot, app, "anthropic")
        await pilot.press("o")
        await settle(pilot, app)
        said = status(app)
        assert said.startswith("Could not start the anthropic sign-in: Mix server at")
        assert "OAuth is not available in the offline server" in said
        assert not app.shown.query_one("#creds-oauth").display
    await client.aclose()


async def test_delete_asks_first(server) -> None:
    store_key(server)
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await choose(pilot, app, "anthropic")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await settle(pilot, app)
        assert rows(app)["anthropic"][1] == "✓ ready"
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, app)
        assert status(app) == "anthropic credentials removed"
        assert rows(app)["anthropic"][1] == "✗ no credentials"
    await client.aclose()


async def test_validate_reports_the_preferred_provider(server) -> None:
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("v")
        await settle(pilot, app)
        assert status(app) == "✓ offline is ready"
    await client.aclose()


async def test_validate_checks_the_highlighted_row_not_the_preferred_provider(server) -> None:
    client = MixClient(server.url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await choose(pilot, app, "anthropic")
        await pilot.press("v")
        await settle(pilot, app)
        assert "anthropic" in status(app) and "offline" not in status(app) and status(app).startswith("✗")
    await client.aclose()


async def test_unreachable_server_is_said_plainly(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        url = server.url
    client = MixClient(url)
    app = Host(lambda: CredentialsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert status(app) == (f"Could not read the sign-in status: Mix server at {url} refused the connection "
                               "while reading provider sign-in status: is it running?")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    await client.aclose()


def test_mask_in_hides_an_echoed_secret() -> None:
    assert mask_in("bad key sk-123456 given", "sk-123456") == "bad key •••••••• given"
    assert mask_in("short", "ab") == "short"


def test_snapshot_of_the_credentials_screen(snap_compare, tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        store_key(server, "openai", "sk-" + "o" * 30)
        client = MixClient(server.url)

        async def loaded(pilot) -> None:
            await settle(pilot, pilot.app)
            await pilot.press("down", "k", *"typed-secret")
            await pilot.pause()

        assert snap_compare(Host(lambda: CredentialsScreen(client)), terminal_size=SIZE, run_before=loaded)


async def test_oauth_flow_shows_the_url_and_takes_the_code() -> None:
    from tests.ui.views.oauth_server import GOOD_CODE, running_oauth_server

    with running_oauth_server() as url:
        client = MixClient(url)
        app = Host(lambda: CredentialsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await choose(pilot, app, "anthropic")
            await pilot.press("o")
            await settle(pilot, app)
            info = text_of(app.shown.query_one("#creds-oauth-info"))
            assert "https://claude.example/oauth/authorize?state=" in info
            code = app.shown.query_one("#creds-code", Input)
            assert code.has_focus
            await pilot.press(*"wrong-code", "enter")
            await settle(pilot, app)
            assert "OAuth token exchange failed: invalid_grant" in status(app)
            assert "wrong-code" not in status(app)
            code.value = GOOD_CODE
            await pilot.press("enter")
            await settle(pilot, app)
            assert status(app) == "Successfully authenticated with anthropic (valid for 60 min)"
            assert rows(app)["anthropic"][1:] == ["✓ ready", "signed in (OAuth)"]
            assert not app.shown.query_one("#creds-oauth").display
            # a provider without OAuth: the server's refusal, said plainly
            await choose(pilot, app, "openai")
            await pilot.press("o")
            await settle(pilot, app)
            assert "OAuth not supported for provider: openai" in status(app)
        await client.aclose()


async def test_the_providers_own_check_accepts_or_refuses_the_key(tmp_path: Path, monkeypatch) -> None:
    """The server asks the provider (a local fake of Anthropic's API): its refusal is shown as said."""
    from tests.fakes.anthropic_server import API_KEY, running_fake_anthropic

    with running_fake_anthropic() as fake, running_server(tmp_path / "server") as server:
        monkeypatch.setenv("MIX_TUI_ANTHROPIC_BASE_URL", fake.base_url)
        wrong = "sk-ant-api03-" + "w" * 28  # the right shape, not the fake's key
        client = MixClient(server.url)
        app = Host(lambda: CredentialsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await choose(pilot, app, "anthropic")
            await pilot.press("k", *wrong, "enter")
            await settle(pilot, app)
            said = status(app)
            assert said.startswith("Could not store the anthropic key: Mix server at") and "refused the key" in said
            assert wrong not in said and wrong not in screen_text(app)
            assert rows(app)["anthropic"][1] == "✗ no credentials"
            field = app.shown.query_one("#creds-key", Input)
            field.value = API_KEY
            field.focus()
            await pilot.press("enter")
            await settle(pilot, app)
            assert status(app).startswith("anthropic API key stored") and "accepted" in status(app)
            assert rows(app)["anthropic"][1] == "✓ ready" and field.value == ""
        await client.aclose()
