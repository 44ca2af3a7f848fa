"""Run a MixerLead skill: pick it from the list, fill in its variables, `ctrl+s`; the output
(Markdown) is shown below. Network calls run in workers; errors are shown as MixerLead said them."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tui.api.mixerlead.models import Skill, SkillResult
from tui.api.mixerlead.retry import RetryNotice
from tui.screens.mixerlead_common import client_of, error_sentence, retry_sentence
from tui.themes import themes_dir
from tui.widgets.mixerlead_skill_form import FormError, SkillForm


class MixerLeadSkillsScreen(Screen[None]):
    CSS_PATH = [themes_dir() / "mixerlead.tcss"]

    HELP = """\
## Skills (MixerLead)

- the list on the left: every skill of the workspace; `enter` chooses one
- fill in its variables (when MixerLead does not say which it takes, write `name: value` lines)
- `ctrl+s` runs it; the output appears below as Markdown. Each run costs MixerLead credits
- `ctrl+r` reloads the list · `escape` goes back
"""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("ctrl+s", "run_skill", "Run"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, source: Any, *, skill_id: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client_of(source)
        self.initial_skill_id = skill_id
        self.skills: list[Skill] = []
        self.skill: Skill | None = None
        self.last_result: SkillResult | None = None
        self.status_log: list[str] = []
        self._previous_on_retry: Any = None
        self._skill_running = False

    def compose(self) -> ComposeResult:
        yield Static("Skills · MixerLead", id="ml-skills-title")
        with Horizontal(id="ml-skills-body"):
            yield OptionList(id="ml-skills")
            with Vertical(id="ml-skill-main"):
                yield Static("Choose a skill on the left.", id="ml-skill-about", markup=False)
                yield Vertical(id="ml-skill-form-slot")
                with VerticalScroll(id="ml-skill-output-box"):
                    yield Markdown("", id="ml-skill-output")
        yield Static("", id="ml-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._previous_on_retry = self.client.on_retry
        self.client.on_retry = self._on_retry
        self.query_one("#ml-skills").focus()
        self.action_reload()

    def on_unmount(self) -> None:
        if self.client.on_retry == self._on_retry:
            self.client.on_retry = self._previous_on_retry

    def _on_retry(self, notice: RetryNotice) -> None:
        self.say(retry_sentence(notice))

    def say(self, text: str, *, error: bool = False) -> None:
        self.status_log.append(text)
        status = self.query_one("#ml-status", Static)
        status.update(text)
        status.set_class(error, "ml-error")

    def action_reload(self) -> None:
        self._load()

    @work(group="ml-skills-list", exclusive=True)
    async def _load(self) -> None:
        try:
            skills = await self.client.list_skills()
        except Exception as exc:  # noqa: BLE001
            self.say(error_sentence(exc, "list the skills"), error=True)
            return
        self.skills = skills
        options = self.query_one("#ml-skills", OptionList)
        options.clear_options()
        options.add_options([Option(f"{s.label}\n  {s.category}" if s.category else s.label, id=s.id) for s in skills])
        if not skills:
            self.say("This workspace has no skills.")
            return
        self.say(f"{len(skills)} skills · enter chooses one, ctrl+s runs it")
        wanted = next((i for i, s in enumerate(skills) if s.id == self.initial_skill_id), None)
        options.highlighted = wanted if wanted is not None else 0
        if wanted is not None:
            options.highlighted = wanted
            await self.choose(skills[wanted])

    @on(OptionList.OptionSelected, "#ml-skills")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        skill = next((s for s in self.skills if s.id == event.option.id), None)
        if skill is not None:
            await self.choose(skill)

    async def choose(self, skill: Skill) -> None:
        self.skill = skill
        about = f"{skill.label} · {skill.category}\n{skill.description}" if skill.category else f"{skill.label}\n{skill.description}"
        self.query_one("#ml-skill-about", Static).update(about.strip())
        slot = self.query_one("#ml-skill-form-slot")
        await slot.remove_children()
        form = SkillForm(skill, id="ml-skill-form")
        await slot.mount(form)
        form.focus_first()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run_skill()

    def action_run_skill(self) -> None:
        if self.skill is None:
            self.say("Choose a skill first.", error=True)
            return
        if self._skill_running:
            self.say("The skill is still running.")
            return
        try:
            values = self.query_one(SkillForm).values()
        except FormError as exc:
            self.say(str(exc), error=True)
            return
        self._run(self.skill, values)

    @work(group="ml-skill-run", exclusive=True)
    async def _run(self, skill: Skill, values: dict[str, str]) -> None:
        self._skill_running = True
        self.say(f"Running {skill.label}…")
        try:
            result = await self.client.run_skill(skill.id, values)
        except Exception as exc:  # noqa: BLE001 — the form keeps what was typed
            self.say(error_sentence(exc, f"run {skill.label}"), error=True)
            return
        finally:
            self._skill_running = False
        self.last_result = result
        await self.query_one("#ml-skill-output", Markdown).update(result.output or "_The skill returned no output._")
        self.say(f"{skill.label} finished.")

    def action_close(self) -> None:
        self.dismiss(None)
