"""The views wired into the real app over loopback: keys open them, `/` and `@` complete in the
composer and run/attach, server commands are in the palette, the chosen model reaches the status bar."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.fixtures.mix_server import running_server
from tests.ui.shell.helpers import make_app, wait_for, wait_notified
from tests.ui.views.host import put_file
from tui.api.mix.models import MessageData
from tui.screens.credentials import CredentialsScreen
from tui.screens.files import FilesScreen
from tui.screens.models import ModelsScreen
from tui.screens.tools import ToolsScreen
from tui.widgets.completion import CompletionPopup

SIZE = (120, 36)


def ran(app, kind: str) -> bool:
    """The server answered the slash command: its card is in the current transcript."""
    from tui.widgets.command_cards import CommandCard

    view = app.chat.current
    return view is not None and any(card.kind == kind for card in view.transcript.query(CommandCard))


async def open_first_session(pilot, app) -> None:
    await wait_for(pilot, lambda: app.backend is not None and app.chat.sessions.loaded, what="the session list")
    conversations = await app.backend.list_conversations()
    app.chat.open_session(conversations[0])
    await pilot.pause()


def messages_of(server, sid: str) -> list[str]:
    with server.client() as c:
        messages = [MessageData.from_json(m) for m in c.get(f"/api/sessions/{sid}/messages").json() or []]
    return [m.user_input for m in messages if m.role == "user"]


async def test_keys_open_each_view_and_escape_returns(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        server.create_session("wired")
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, what="the backend")
            app.chat.action_new_session()
            await pilot.press("f3")
            await wait_notified(pilot, app, lambda n: "Open a session first" in n)
            await open_first_session(pilot, app)
            for key, screen in (("f3", FilesScreen), ("f4", ModelsScreen), ("f5", CredentialsScreen), ("f9", ToolsScreen)):
                await pilot.press(key)
                await wait_for(pilot, lambda: isinstance(app.screen, screen), what=screen.__name__)
                await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen is app.chat, what="back to the chat")


async def test_choosing_a_model_shows_it_in_the_status_bar(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        with server.client() as c:
            c.post("/api/auth/api-key", json={"provider": "anthropic", "api_key": "sk-ant-" + "a" * 30}).raise_for_status()
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, what="the backend")
            await wait_for(pilot, lambda: "offline-1" in app.chat.status.text, what="the model in the status bar")
            await pilot.press("f4")
            await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen) and app.screen.rows, what="the models")
            screen = app.screen
            index = next(i for i, r in enumerate(screen.rows) if r.model == "claude-4-opus")
            screen.query_one(DataTable).move_cursor(row=index)
            await pilot.press("enter")
            await wait_for(pilot, lambda: "claude-4-opus" in app.chat.status.text, what="the new model in the status bar")


async def test_slash_completes_the_servers_commands_and_runs_them(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        sid = server.create_session("cmds")["id"]
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await open_first_session(pilot, app)
            popup = app.chat.query_one(CompletionPopup)
            app.chat.composer.focus()
            await pilot.press("/", "h", "e")
            await wait_for(pilot, lambda: popup.is_open, what="the command popup")
            assert popup.items[0].value == "help" and popup.items[0].description
            await pilot.press("tab")
            assert app.chat.composer.text == "/help " and not popup.is_open
            await pilot.press("enter")
            await wait_for(pilot, lambda: ran(app, "help"), what="the command's answer")


async def test_at_completes_session_files_and_attaches_them(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        sid = server.create_session("files")["id"]
        put_file(server, sid, "notes.md", b"# notes\n")
        put_file(server, sid, "data.csv", b"a,b\n")
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await open_first_session(pilot, app)
            popup = app.chat.query_one(CompletionPopup)
            app.chat.composer.focus()
            await pilot.press(*"summarise @n")
            await wait_for(pilot, lambda: popup.is_open and popup.items[0].value == "notes.md", what="the file popup")
            await pilot.press("escape")  # closes the popup only
            assert not popup.is_open and app.chat.composer.text == "summarise @n"
            await pilot.press("o")
            await wait_for(pilot, lambda: popup.is_open, what="the popup again")
            await pilot.press("enter")  # accepts, does not send
            assert app.chat.composer.text == "summarise @notes.md "
            await pilot.press("enter")
            await wait_for(pilot, lambda: messages_of(server, sid), what="the message sent")
            assert messages_of(server, sid)[0] == "summarise @notes.md\n\n(Attached session files: ./notes.md)"


async def test_server_commands_are_in_the_palette(tmp_path: Path) -> None:
    from tui.screens.palette import ServerCommands

    with running_server(tmp_path / "server") as server:
        sid = server.create_session("palette")["id"]
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await open_first_session(pilot, app)
            provider = ServerCommands(app.screen)
            await provider.startup()
            titles = [hit.text for hit in [h async for h in provider.discover()]]
            assert any(t.startswith("/help") for t in titles)
            hits = [h async for h in provider.search("/context")]
            assert hits
            hits[0].command()
            await wait_for(pilot, lambda: ran(app, "context"), what="the command's answer")


async def test_f1_on_a_view_shows_its_keys_and_the_palette_lists_the_views(tmp_path: Path) -> None:
    from tui.screens.help import HelpScreen
    from tui.screens.palette import MixCommands

    with running_server(tmp_path / "server") as server:
        app = make_app(tmp_path / "client", server=server.url)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, what="the backend")
            await pilot.press("f9")
            await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen), what="the tools view")
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
            assert app.screen.markdown.index("## Tools and MCP servers") < app.screen.markdown.index("## Composer")
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: app.screen is app.chat, what="back to the chat")
            titles = {title: key for title, key, _ in MixCommands(app.screen)._commands()}
            assert titles["Credentials: provider sign-in and API keys"] == "F5"
            assert titles["Files: this session's files (upload, preview, save, delete)"] == "F3"
