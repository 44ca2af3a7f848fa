"""The completion popup with the real Composer (keys go to the popup while it is open) and its snapshot."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical

from tui.api.mix.models import Command, FileInfo
from tui.theme_defs import THEMES
from tui.themes import themes_dir
from tui.widgets.completion import CompletionPopup, ComposerCompletion
from tui.widgets.composer import Composer

COMMANDS = [Command("clear", "Clear the conversation"), Command("context", "Show how full the context window is"),
            Command("help", "List the commands"), Command("mcp", "Show the MCP servers")]
FILES = [FileInfo("notes.md", 120), FileInfo("numbers.csv", 4096), FileInfo("assets", is_dir=True)]


class ComposerHost(App[None]):
    CSS_PATH = [themes_dir() / "app.tcss", themes_dir() / "views.tcss"]

    def __init__(self) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"
        self.submitted: list[str] = []
        self.file_requests = 0
        self.command_requests = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield CompletionPopup(id="completion")
            yield Composer(id="composer")

    def on_mount(self) -> None:
        composer = self.query_one(Composer)
        self.completion = ComposerCompletion(composer, self.query_one(CompletionPopup),
                                             need_files=self._files, need_commands=self._commands)
        composer.completion = self.completion
        composer.focus()

    def _files(self) -> None:
        self.file_requests += 1
        self.completion.set_files(FILES, "s1")

    def _commands(self) -> None:
        self.command_requests += 1
        self.completion.set_commands(COMMANDS)

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        self.submitted.append(event.text)


async def test_slash_popup_filters_moves_and_accepts() -> None:
    app = ComposerHost()
    async with app.run_test(size=(90, 20)) as pilot:
        popup = app.query_one(CompletionPopup)
        composer = app.query_one(Composer)
        await pilot.press("/")
        assert popup.is_open and [i.value for i in popup.items] == ["clear", "context", "help", "mcp"]
        assert app.command_requests == 1
        await pilot.press("c")
        assert [i.value for i in popup.items] == ["clear", "context", "mcp"]  # prefixes first, then "mcp"
        await pilot.press("down", "enter")
        assert composer.text == "/context " and not popup.is_open and app.submitted == []
        await pilot.press("enter")
        assert app.submitted == ["/context "]


async def test_at_popup_lists_files_not_folders_and_escape_only_closes_it() -> None:
    app = ComposerHost()
    async with app.run_test(size=(90, 20)) as pilot:
        popup = app.query_one(CompletionPopup)
        composer = app.query_one(Composer)
        await pilot.press(*"see @")
        assert popup.is_open and [i.value for i in popup.items] == ["notes.md", "numbers.csv"]
        assert popup.items[1].description == "4.0 KB"
        await pilot.press("u")
        assert [i.value for i in popup.items] == ["numbers.csv"]
        await pilot.press("escape")
        assert not popup.is_open and composer.text == "see @u"
        composer.prompt_history = ["an earlier prompt"]
        await pilot.press("backspace", "up")  # the popup comes back; up moves in it, not in the history
        assert popup.is_open and popup.current.value == "numbers.csv"
        await pilot.press("tab")
        assert composer.text == "see @numbers.csv " and not popup.is_open
        assert app.file_requests >= 1
        assert app.completion.attach("read @notes.md", "s1").endswith("(Attached session files: ./notes.md)")
        assert app.completion.attach("read @notes.md", "other session") == "read @notes.md"


def test_snapshot_of_the_completion_popup(snap_compare) -> None:
    async def typed(pilot) -> None:
        await pilot.press("/")
        await pilot.pause()

    assert snap_compare(ComposerHost(), terminal_size=(90, 16), run_before=typed)


async def test_a_key_typed_just_before_tab_is_part_of_what_is_completed() -> None:
    """The terminal delivers `a` and Tab in one read: Tab is handled before the text's Changed message."""
    app = ComposerHost()
    async with app.run_test(size=(90, 20)) as pilot:
        composer = app.query_one(Composer)
        await pilot.press(*"read @")
        await pilot.pause()
        assert app.query_one(CompletionPopup).is_open
        composer.insert("nu")  # typed; the popup has not seen it yet
        assert app.completion.handle_key("tab")
        assert composer.text == "read @numbers.csv "
