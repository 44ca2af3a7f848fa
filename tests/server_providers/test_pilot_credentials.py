"""The real app: a key typed into the credentials view, a model chosen, and the answer comes from the fake."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from tests.fakes import anthropic_server as fa
from tests.fixtures.mix_server import running_server
from tests.ui.shell.helpers import make_app, wait_for
from tui.screens.credentials import CredentialsScreen
from tui.screens.models import ModelsScreen

SIZE = (120, 36)


def status_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_a_key_added_in_the_credentials_view_gets_answers_from_the_provider(tmp_path: Path, monkeypatch) -> None:
    with fa.running_fake_anthropic() as fake:
        monkeypatch.setenv("MIX_TUI_ANTHROPIC_BASE_URL", fake.base_url)
        fake.script(fa.Reply.think("A greeting.", "Hello from the fake Claude."))
        with running_server(tmp_path / "server") as server:
            server.create_session("real model")
            app = make_app(tmp_path / "client", server=server.url)
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: app.backend is not None and app.chat.sessions.loaded,
                               what="the session list")
                app.chat.open_session((await app.backend.list_conversations())[0])
                await pilot.pause()

                app.push_screen(CredentialsScreen(app.backend))
                await wait_for(pilot, lambda: isinstance(app.screen, CredentialsScreen) and app.screen.providers,
                               what="the credentials")
                creds = app.screen
                row = next(i for i, p in enumerate(creds.providers) if p.provider == "anthropic")
                creds.query_one(DataTable).move_cursor(row=row)
                await pilot.press("k")
                await pilot.press(*fa.API_KEY)
                await pilot.press("enter")
                await wait_for(pilot, lambda: "Anthropic accepted it" in status_text(creds, "#creds-status"),
                               what="the key accepted")
                assert creds.query_one("#creds-key", Input).value == ""
                assert fa.API_KEY not in app.export_screenshot()
                await pilot.press("escape")

                app.push_screen(ModelsScreen(app.backend))
                await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen) and app.screen.rows, what="the models")
                models = app.screen
                row = next(i for i, r in enumerate(models.rows) if r.provider == "anthropic" and r.model == "claude-4-sonnet")
                models.query_one(DataTable).move_cursor(row=row)
                await pilot.press("enter")
                await wait_for(pilot, lambda: "Main agent now uses claude-4-sonnet" in status_text(models, "#models-status"),
                               what="the model chosen")
                await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen is app.chat, what="back to the chat")

                app.chat.composer.load("hi")
                await pilot.press("enter")
                await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                               and app.chat.current.turn.status.finished, timeout=10, what="the answer")
                turn = app.chat.current.turn
                assert turn.final_text == "Hello from the fake Claude." and turn.thinking == "A greeting."
    assert fake.requests[-1].headers["x-api-key"] == fa.API_KEY
    assert fake.requests[-1].body["messages"][-1]["content"][0]["text"] == "hi"
