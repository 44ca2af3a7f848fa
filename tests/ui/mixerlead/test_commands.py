"""Skills (and the other MixerLead screens) from the command palette, against the fake."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tests.ui.mixerlead.host import fake_client, settle, wait_until
from tui.screens.mixerlead_commands import MixerLeadCommands
from tui.screens.mixerlead_knowledge import MixerLeadKnowledgeScreen
from tui.screens.mixerlead_skills import MixerLeadSkillsScreen
from tui.theme_defs import THEMES
from tui.themes import themes_dir


class PaletteHost(App[None]):
    CSS_PATH = [themes_dir() / "app.tcss"]
    COMMANDS = {MixerLeadCommands}

    def __init__(self, client) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"
        self.mixerlead_client = client

    def compose(self) -> ComposeResult:
        yield Static("chat would be here")


async def test_run_a_skill_from_the_palette() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        app = PaletteHost(client)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"headl")
            await wait_until(pilot, lambda: "MixerLead skill: Headlines" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt)
                             if app.screen.query("CommandList") and app.screen.query("CommandList").first().option_count else False)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, MixerLeadSkillsScreen))
            await settle(pilot, app)
            screen = app.screen
            assert screen.skill is not None and screen.skill.id == "headline-v2"
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            assert fake.skill_runs == [{"skillId": "headline-v2", "vars": {}}]
            assert screen.last_result is not None and screen.last_result.output.startswith("# Headlines")
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"know")
            await wait_until(pilot, lambda: bool(app.screen.query("CommandList")) and app.screen.query("CommandList").first().option_count > 0)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, MixerLeadKnowledgeScreen))
        await client.aclose()
