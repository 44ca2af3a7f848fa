"""The shell without a reachable server: first paint, composer keys, drafts, settings, help, palette.

These run the real app against a loopback port where nothing listens, so every network call
fails the way it does when a server is down.
"""

from __future__ import annotations

from tui.store import ClientStore
from tui.widgets.composer import Composer

from .helpers import dead_url, make_app, notifications, wait_for, wait_notified


async def test_composer_is_usable_at_once_and_sending_offline_keeps_the_text(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.focused, Composer)
        await pilot.press(*"hello")
        await wait_for(pilot, lambda: app.chat.connection == "offline", what="offline state")
        await pilot.press("enter")
        await wait_notified(pilot, app, lambda n: "Not sent" in n)
        assert app.chat.composer.text == "hello"
        assert app.chat.banner.display and "unreachable" in app.chat.banner.text.lower()


async def test_ctrl_j_adds_a_line_and_enter_does_not(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.chat.composer
        await pilot.press("a", "ctrl+j", "b")
        assert composer.text == "a\nb"
        await wait_for(pilot, lambda: app.chat.connection == "offline", what="offline state")
        await pilot.press("enter")  # a send attempt (refused offline), never a newline
        assert composer.text == "a\nb"


async def test_draft_is_saved_as_typed_and_restored_after_restart(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"unsent idea")
        # Written to disk shortly after typing (a 300 ms debounce), before quitting: a crash would not lose it.
        def on_disk() -> str:
            store = ClientStore(tmp_path / "client.db")
            try:
                return store.draft("mix:new")
            finally:
                store.close()

        await wait_for(pilot, lambda: on_disk() == "unsent idea", what="the draft on disk")
    again = make_app(tmp_path, server=dead_url())
    async with again.run_test(size=(100, 30)) as pilot:
        assert again.chat.composer.text == "unsent idea"


async def test_prompt_history_recall_with_up_and_down(tmp_path):
    store = ClientStore(tmp_path / "client.db")
    store.add_prompt("mix", "first")
    store.add_prompt("mix", "second")
    store.close()
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.chat.composer
        await pilot.press(*"typed")
        await pilot.press("up")
        assert composer.text == "second"
        await pilot.press("up")
        assert composer.text == "first"
        await pilot.press("down")
        assert composer.text == "second"
        await pilot.press("down")
        assert composer.text == "typed"  # what was being typed comes back


async def test_theme_toggle_is_remembered_and_cli_theme_wins(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "mix-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "mix-light"
    again = make_app(tmp_path, server=dead_url())
    async with again.run_test(size=(100, 30)):
        assert again.theme == "mix-light"
    forced = make_app(tmp_path, server=dead_url(), theme="textual-dark")
    async with forced.run_test(size=(100, 30)):
        assert forced.theme == "textual-dark"


async def test_sidebar_toggle_is_remembered(tmp_path):
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.chat.sidebar.display
        await pilot.press("ctrl+b")
        assert not app.chat.sidebar.display
    again = make_app(tmp_path, server=dead_url())
    async with again.run_test(size=(100, 30)):
        assert not again.chat.sidebar.display


async def test_help_lists_keys_including_overrides(tmp_path):
    app = make_app(tmp_path, server=dead_url(), keys={"new_session": "alt+n"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        text = app.screen.markdown
        assert "Alt+N" in text and "Composer" in text and "Permission request" in text
        await pilot.press("escape")
        assert type(app.screen).__name__ == "ChatScreen"


async def test_keymap_override_rebinds_the_action(tmp_path):
    # f11 is free (f9 is the tools view's: see test_keymap_table for what a clash does).
    app = make_app(tmp_path, server=dead_url(), keys={"toggle_sidebar": "f11", "no_such_action": "f10"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+b")
        assert app.chat.sidebar.display  # the old key no longer does it
        await pilot.press("f11")
        assert not app.chat.sidebar.display
        await wait_notified(pilot, app, lambda n: "no_such_action" in n)
        assert not any("bound to" in n for n in notifications(app))  # no clash to report


async def test_palette_lists_every_action(tmp_path):
    from tui.keymap import ACTIONS
    from tui.screens.palette import MixCommands

    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"
        provider = MixCommands(app.screen, None)
        titles = [title for title, _key, _cb in provider._commands()]
        for spec in ACTIONS:
            if spec.id != "command_palette" and spec.scope != "integration":  # those: IntegrationCommands
                assert any(title.startswith(spec.description + ":") for title in titles), spec.id
        assert "Theme: mix-light" in titles
