"""Providers, their models and the agent preferences of a Mix server.

The table lists every model of every provider the server offers, with whether it is usable now
(signed in, an API key stored, or a provider that needs none such as the offline agent). `enter`
or `m` makes the highlighted model the main agent's, `b` the sub-agent's; the form edits max
tokens and reasoning effort; `x` resets everything (asks first). Every save posts
`PreferencesChanged`, which the app uses to show the model in the status bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from tui.api.mix.models import AuthStatus, Preferences, ProviderAuth, ProviderInfo
from tui.screens.confirm import ConfirmScreen
from tui.screens.files import error_text, mix_client_of
from tui.themes import themes_dir

EFFORTS = [("default", ""), ("low", "low"), ("medium", "medium"), ("high", "high")]


@dataclass(frozen=True)
class ModelRow:
    provider: str
    provider_name: str
    model: str
    usable: bool
    how: str  # why it is usable or what is missing


def usability(provider: str, auth: ProviderAuth | None) -> tuple[bool, str]:
    if auth is None:
        return False, "no sign-in status from the server"
    if auth.authenticated:
        return True, {"oauth": "signed in", "api_key": "API key stored"}.get(auth.auth_method, "needs no key")
    return False, "needs a key"


def model_rows(providers: dict[str, ProviderInfo], auth: AuthStatus) -> list[ModelRow]:
    rows = []
    for pid, info in providers.items():
        usable, how = usability(pid, auth.providers.get(pid))
        for model in info.models:
            rows.append(ModelRow(pid, info.display_name or pid, model, usable, how))
    return rows


def model_label(prefs: Preferences | None) -> str:
    """What the status bar shows for these preferences."""
    if prefs is None:
        return ""
    return prefs.main_agent_model


class ModelsScreen(Screen[None]):
    HELP = """\
## Models and preferences

- the table lists every provider's models; ✓ marks the ones usable now (signed in, key stored, or no key needed);
  ✗ needs a key: add one in Credentials
- `enter` or `m`: use the highlighted model for the main agent · `b`: for the sub-agent
- the form edits each agent's max tokens and reasoning effort; `ctrl+s` or Save stores them
- `x` resets every preference to the server's defaults (asks first)
- `r` reloads · `escape` goes back; the main agent's model shows in the status bar
"""

    CSS_PATH = [themes_dir() / "views.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("m", "use_for('main')", "Main agent"),
        Binding("b", "use_for('sub')", "Sub-agent"),
        Binding("ctrl+s", "save", "Save"),
        Binding("x", "reset", "Reset"),
        Binding("r", "refresh", "Reload"),
    ]

    class PreferencesChanged(Message):
        """The server stored new preferences (bubbles to the app: the status bar shows the model)."""

        def __init__(self, preferences: Preferences) -> None:
            super().__init__()
            self.preferences = preferences

        @property
        def model(self) -> str:
            return model_label(self.preferences)

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = mix_client_of(client)
        self.rows: list[ModelRow] = []
        self.preferences: Preferences | None = None

    def compose(self) -> ComposeResult:
        yield Static("Models and preferences", id="models-title", classes="view-title")
        with Horizontal(id="models-body"):
            yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="models-form"):
                yield Static("", id="models-current", markup=False)
                yield Label("Main agent · max tokens")
                yield Input(id="main-max-tokens", type="integer", placeholder="e.g. 4096", compact=True)
                yield Label("Main agent · reasoning effort")
                yield Select(EFFORTS, id="main-effort", allow_blank=False, value="", compact=True)
                yield Label("Sub-agent · max tokens")
                yield Input(id="sub-max-tokens", type="integer", placeholder="e.g. 2048", compact=True)
                yield Label("Sub-agent · reasoning effort")
                yield Select(EFFORTS, id="sub-effort", allow_blank=False, value="", compact=True)
                with Horizontal(id="models-buttons"):
                    yield Button("Save", id="models-save", variant="primary")
                    yield Button("Reset…", id="models-reset", variant="error")
        yield Static("Loading providers and models…", id="models-status", classes="view-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Provider", key="provider")
        table.add_column("Model", key="model")
        table.add_column("Usable", key="usable")
        table.add_column("Role", key="role")
        table.focus()
        self.action_refresh()

    def say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#models-status", Static)
        status.update(text)
        status.set_class(error, "view-error")

    # ------------------------------------------------------------------ load

    def action_refresh(self) -> None:
        self._load()

    @work(group="models-load", exclusive=True)
    async def _load(self) -> None:
        try:
            providers = await self.client.list_providers()
            auth = await self.client.auth_status()
            prefs = (await self.client.get_preferences()).preferences
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, "load the providers"), error=True)
            return
        self.rows = model_rows(providers, auth)
        usable = sum(1 for r in self.rows if r.usable)
        self._show(prefs)
        self.say(f"{len(providers)} providers · {len(self.rows)} models, {usable} usable now")

    def _show(self, prefs: Preferences | None) -> None:
        self.preferences = prefs
        table = self.query_one(DataTable)
        row_before = table.cursor_row
        table.clear()
        for r in self.rows:
            roles = []
            if prefs and prefs.preferred_provider == r.provider and prefs.main_agent_model == r.model:
                roles.append("main")
            if prefs and prefs.sub_agent_model == r.model:
                roles.append("sub")
            table.add_row(r.provider_name, r.model, ("✓ " if r.usable else "✗ ") + r.how, " · ".join(roles),
                          key=f"{r.provider}/{r.model}")
        if self.rows:
            table.move_cursor(row=max(0, min(row_before, len(self.rows) - 1)))
        current = self.query_one("#models-current", Static)
        if prefs is None:
            current.update("No preferences stored yet: the server's defaults apply.")
            return
        current.update(f"Provider: {prefs.preferred_provider}\nMain agent: {prefs.main_agent_model}\n"
                       f"Sub-agent: {prefs.sub_agent_model}")
        self.query_one("#main-max-tokens", Input).value = str(prefs.main_agent_max_tokens or "")
        self.query_one("#sub-max-tokens", Input).value = str(prefs.sub_agent_max_tokens or "")
        self.query_one("#main-effort", Select).value = prefs.main_agent_reasoning_effort or ""
        self.query_one("#sub-effort", Select).value = prefs.sub_agent_reasoning_effort or ""

    # ------------------------------------------------------------------ choose and save

    @property
    def highlighted(self) -> ModelRow | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#models-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_use_for("main")

    def action_use_for(self, role: str) -> None:
        row = self.highlighted
        if row is None:
            return
        if not row.usable:
            self.say(f"{row.provider_name} is not usable yet ({row.how}); the server will likely refuse it.", error=True)
        if role == "main":
            self._save({"preferred_provider": row.provider, "main_agent_model": row.model},
                       f"Main agent now uses {row.model} ({row.provider_name})")
        else:
            self._save({"sub_agent_model": row.model}, f"Sub-agent now uses {row.model}")

    def form_changes(self) -> dict[str, Any] | str:
        """The form's values as preference changes, or a sentence saying what is wrong."""
        changes: dict[str, Any] = {}
        for role in ("main", "sub"):
            raw = self.query_one(f"#{role}-max-tokens", Input).value.strip()
            who = "main agent" if role == "main" else "sub-agent"
            if raw:
                try:
                    value = int(raw)
                except ValueError:
                    return f"Max tokens of the {who} must be a whole number"
                if value <= 0:
                    return f"Max tokens of the {who} must be more than 0"
                changes[f"{role}_agent_max_tokens"] = value
            effort = self.query_one(f"#{role}-effort", Select).value
            changes[f"{role}_agent_reasoning_effort"] = effort if isinstance(effort, str) else ""
        return changes

    @on(Button.Pressed, "#models-save")
    def action_save(self) -> None:
        changes = self.form_changes()
        if isinstance(changes, str):
            self.say(f"Not saved: {changes}.", error=True)
            return
        self._save(changes, "Preferences saved")

    @work(group="models-save", exclusive=True)
    async def _save(self, changes: dict[str, Any], done: str) -> None:
        try:
            prefs = await self.client.update_preferences(changes)
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, "save the preferences"), error=True)
            return
        self._show(prefs)
        self.say(done)
        self.post_message(self.PreferencesChanged(prefs))

    # ------------------------------------------------------------------ reset

    @on(Button.Pressed, "#models-reset")
    def action_reset(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._reset()

        self.app.push_screen(ConfirmScreen("Reset every model preference to the server's defaults?",
                                           confirm_label="Reset"), answered)

    @work(group="models-save", exclusive=True)
    async def _reset(self) -> None:
        try:
            prefs = await self.client.reset_preferences()
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, "reset the preferences"), error=True)
            return
        self._show(prefs)
        self.say("Preferences reset to the server's defaults")
        self.post_message(self.PreferencesChanged(prefs))

    def action_back(self) -> None:
        self.dismiss(None)
