"""Pick the MixerLead model for a conversation. `ml-auto` (Auto) is the default and is always
offered, even when the list cannot be loaded; models that need a paid plan are marked."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.api.mixerlead.models import AUTO_MODEL_ID, Model
from tui.screens.mixerlead_common import client_of, error_sentence
from tui.themes import themes_dir

PAID_MARK = "★ paid plan"
AUTO = Model(id=AUTO_MODEL_ID, name="Auto", task="chat", requires_paid=False)


def model_prompt(model: Model, current: str) -> str:
    parts = [model.label]
    if model.label != model.id:
        parts.append(f"({model.id})")
    if model.is_auto:
        parts.append("· default, MixerLead picks")
    if model.requires_paid:
        parts.append(f"· {PAID_MARK}")
    if model.id == current:
        parts.append("· current")
    return " ".join(parts)


class MixerLeadModelPicker(ModalScreen[str | None]):
    """Dismisses with the chosen model id, or None when closed without choosing.

    Given a MixerLeadBackend, the choice is also applied (`set_model`) to it, and to
    `conversation_id` when one is given."""

    CSS_PATH = [themes_dir() / "mixerlead.tcss"]

    HELP = """\
## MixerLead model

- `up`/`down` then `enter` chooses the model for this conversation; `escape` keeps the current one
- Auto (`ml-auto`) is the default: MixerLead picks a model for each message
- ★ marks models that need a paid plan; on the free plan MixerLead refuses them with a 403
- only models of your workspace's plan are listed by MixerLead
"""

    BINDINGS = [Binding("escape", "close", "Keep current")]

    def __init__(self, source: Any, *, current: str | None = None, conversation_id: str | None = None) -> None:
        super().__init__(classes="ml-dialog-screen")
        self.source = source
        self.client = client_of(source)
        self.backend = source if source is not self.client else None
        self.conversation_id = conversation_id
        if current is None and self.backend is not None:
            current = self.backend.model_for(conversation_id)
        self.current = current or AUTO_MODEL_ID
        self.models: list[Model] = [AUTO]

    def compose(self) -> ComposeResult:
        with Vertical(id="ml-models-box", classes="ml-dialog"):
            yield Static("MixerLead model · enter chooses · esc keeps the current one", classes="ml-dialog-title")
            yield OptionList(*self._options(), id="ml-models")
            yield Static("Loading the models of your plan…", id="ml-models-status", markup=False)

    def _options(self) -> list[Option]:
        return [Option(model_prompt(m, self.current), id=m.id) for m in self.models]

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(group="ml-models", exclusive=True)
    async def _load(self) -> None:
        status = self.query_one("#ml-models-status", Static)
        try:
            models = await self.client.list_models()
        except Exception as exc:  # noqa: BLE001 — shown; Auto stays available
            status.update(error_sentence(exc, "list the models") + " Auto is still available.")
            status.add_class("ml-error")
            return
        if not any(m.is_auto for m in models):
            models = [AUTO, *models]  # documented as always there; never leave the user without it
        self.models = models
        if self.backend is not None:
            self.backend.models = models
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options())
        index = next((i for i, m in enumerate(models) if m.id == self.current), 0)
        options.highlighted = index
        paid = sum(1 for m in models if m.requires_paid)
        status.update(f"{len(models)} models for your plan · {paid} marked {PAID_MARK}" if paid else f"{len(models)} models for your plan")

    @on(OptionList.OptionSelected, "#ml-models")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        model_id = event.option.id or AUTO_MODEL_ID
        if self.backend is not None:
            self.backend.set_model(model_id, self.conversation_id)
        self.dismiss(model_id)

    def action_close(self) -> None:
        self.dismiss(None)
