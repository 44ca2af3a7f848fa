"""Provider credentials on a Mix server: sign-in status, API keys, the OAuth flow, removal.

Keys are typed into a masked input, sent once to the server (which checks them before storing),
and cleared from the screen once stored. A key is never shown, logged, or kept by this screen;
if a server's answer ever echoed it, the echo is masked before it is displayed.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from tui.api.mix.models import OAuthStart, ProviderAuth
from tui.screens.confirm import ConfirmScreen
from tui.screens.files import error_text, mix_client_of
from tui.themes import themes_dir

METHODS = {"api_key": "API key", "oauth": "signed in (OAuth)", "none": "—"}


def mask_in(text: str, secret: str) -> str:
    """`text` with any copy of `secret` replaced by dots (servers should never echo keys; if one does)."""
    secret = secret.strip()
    return text.replace(secret, "••••••••") if len(secret) >= 4 else text


class CredentialsScreen(Screen[None]):
    HELP = """\
## Credentials

- the table shows each provider's sign-in status; `↑`/`↓` chooses the provider the keys below act on
- `k` (or tab to the key field): type an API key, `enter` sends it; the server checks it before storing it.
  The key stays masked and is cleared once stored
- `o` starts the provider's OAuth sign-in: open the URL shown, then paste the code and press `enter`
- `d` removes the provider's stored credentials (asks first) · `v` checks the highlighted provider's credentials
- `r` reloads · `escape` goes back
"""

    CSS_PATH = [themes_dir() / "views.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("k", "enter_key", "API key"),
        Binding("o", "oauth", "OAuth"),
        Binding("d", "delete", "Delete"),
        Binding("v", "validate", "Check"),
        Binding("r", "refresh", "Reload"),
    ]

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = mix_client_of(client)
        self.providers: list[ProviderAuth] = []
        self.oauth: tuple[str, OAuthStart] | None = None  # (provider, the server's start answer)

    def compose(self) -> ComposeResult:
        yield Static("Credentials", id="creds-title", classes="view-title")
        yield DataTable(id="creds-table", cursor_type="row", zebra_stripes=True)
        with Vertical(id="creds-form"):
            yield Label("API key for the highlighted provider (masked; enter sends it to be checked)", id="creds-key-label")
            yield Input(id="creds-key", password=True, placeholder="paste the key here", compact=True)
        with Vertical(id="creds-oauth"):
            yield Static("", id="creds-oauth-info", markup=False)
            yield Input(id="creds-code", placeholder="paste the sign-in code here and press enter", compact=True)
        yield Static("Loading the providers' sign-in status…", id="creds-status", classes="view-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Provider", key="provider")
        table.add_column("Status", key="status")
        table.add_column("How", key="how")
        self.query_one("#creds-oauth").display = False
        table.focus()
        self.action_refresh()

    def say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#creds-status", Static)
        status.update(text)
        status.set_class(error, "view-error")

    @property
    def highlighted(self) -> ProviderAuth | None:
        table = self.query_one(DataTable)
        if not self.providers or not 0 <= table.cursor_row < len(self.providers):
            return None
        return self.providers[table.cursor_row]

    # ------------------------------------------------------------------ status

    def action_refresh(self) -> None:
        self._load()

    @work(group="creds-load", exclusive=True)
    async def _load(self, message: str | None = None) -> None:
        try:
            status = await self.client.auth_status()
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, "read the sign-in status"), error=True)
            return
        self.providers = list(status.providers.values())
        table = self.query_one(DataTable)
        before = table.cursor_row
        table.clear()
        for p in self.providers:
            name = p.display_name.replace("⭐", "").strip() or p.provider
            star = " ⭐ preferred" if p.preferred else ""
            table.add_row(name + star, "✓ ready" if p.authenticated else "✗ no credentials",
                          METHODS.get(p.auth_method, p.auth_method) if p.authenticated else "—", key=p.provider)
        if self.providers:
            table.move_cursor(row=max(0, min(before, len(self.providers) - 1)))
        ready = sum(1 for p in self.providers if p.authenticated)
        self.say(message or f"{ready} of {len(self.providers)} providers ready")

    @on(DataTable.RowHighlighted, "#creds-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        p = self.highlighted
        if p is not None:
            label = p.display_name.replace("⭐", "").strip() or p.provider
            self.query_one("#creds-key-label", Label).update(f"API key for {label} (masked; enter sends it to be checked)")

    # ------------------------------------------------------------------ API keys

    def action_enter_key(self) -> None:
        self.query_one("#creds-key", Input).focus()

    @on(Input.Submitted, "#creds-key")
    def _key_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        provider = self.highlighted
        key = event.value.strip()
        if provider is None:
            self.say("Choose a provider in the table first.", error=True)
            return
        if not key:
            self.say("Type or paste a key first.", error=True)
            return
        self._store_key(provider.provider, key)

    @work(group="creds-change", exclusive=True)
    async def _store_key(self, provider: str, key: str) -> None:
        self.say(f"Sending the {provider} key to the server to be checked…")
        try:
            result = await self.client.store_api_key(provider, key)
        except Exception as exc:  # noqa: BLE001 — the server's refusal, shown; the key stays (masked) to fix
            self.say(mask_in(error_text(exc, f"store the {provider} key"), key), error=True)
            return
        if not result.ok:
            self.say(mask_in(result.message or f"The server did not store the {provider} key ({result.status})", key), error=True)
            return
        self.query_one("#creds-key", Input).value = ""
        self.query_one(DataTable).focus()
        self._load(mask_in(result.message or f"{provider} key stored", key))

    # ------------------------------------------------------------------ OAuth

    def action_oauth(self) -> None:
        provider = self.highlighted
        if provider is None:
            return
        self._start_oauth(provider.provider)

    @work(group="creds-change", exclusive=True)
    async def _start_oauth(self, provider: str) -> None:
        self.say(f"Asking the server to start the {provider} sign-in…")
        try:
            start = await self.client.start_oauth(provider)
        except Exception as exc:  # noqa: BLE001
            self.oauth = None
            self.query_one("#creds-oauth").display = False
            self.say(error_text(exc, f"start the {provider} sign-in"), error=True)
            return
        if not start.auth_url:
            self.say(f"The server started no {provider} sign-in (it sent no URL). {start.message}".strip(), error=True)
            return
        self.oauth = (provider, start)
        box = self.query_one("#creds-oauth")
        box.display = True
        self.query_one("#creds-oauth-info", Static).update(
            f"Open this address in a browser and sign in to {provider}:\n{start.auth_url}\n"
            "Then paste the code it shows below and press enter."
        )
        self.query_one("#creds-code", Input).focus()
        self.say(start.message or f"Waiting for the {provider} sign-in code")

    @on(Input.Submitted, "#creds-code")
    def _code_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        code = event.value.strip()
        if self.oauth is None:
            self.say("Start the sign-in first (o).", error=True)
            return
        if not code:
            self.say("Paste the code the sign-in page showed.", error=True)
            return
        provider, start = self.oauth
        self._finish_oauth(provider, code, start.state)

    @work(group="creds-change", exclusive=True)
    async def _finish_oauth(self, provider: str, code: str, state: str) -> None:
        try:
            result = await self.client.oauth_callback(provider, code, state)
        except Exception as exc:  # noqa: BLE001
            self.say(mask_in(error_text(exc, f"finish the {provider} sign-in"), code), error=True)
            return
        self.oauth = None
        self.query_one("#creds-code", Input).value = ""
        self.query_one("#creds-oauth").display = False
        expiry = f" (valid for {result.expires_in // 60} min)" if result.expires_in else ""
        self._load((result.message or f"Signed in to {provider}") + expiry)

    # ------------------------------------------------------------------ delete and check

    def action_delete(self) -> None:
        provider = self.highlighted
        if provider is None:
            return
        name = provider.provider

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(name)

        self.app.push_screen(ConfirmScreen(f"Remove the stored {name} credentials from the server?",
                                           confirm_label="Remove"), answered)

    @work(group="creds-change", exclusive=True)
    async def _delete(self, provider: str) -> None:
        try:
            result = await self.client.delete_credentials(provider)
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, f"remove the {provider} credentials"), error=True)
            return
        self._load(result.message or f"{provider} credentials removed")

    def action_validate(self) -> None:
        self._validate()

    @work(group="creds-change", exclusive=True)
    async def _validate(self) -> None:
        row = self.highlighted
        asked = row.provider if row is not None else None
        try:
            answer = await self.client.validate_auth(asked)
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, "check the credentials"), error=True)
            return
        other = f"This server checks only the preferred provider, {answer.provider}: " \
            if asked and answer.provider and answer.provider != asked else ""
        if answer.valid:
            self.say(f"{other}✓ {answer.message or (answer.provider or 'the preferred provider') + ' is ready'}")
        else:
            self.say(f"{other}✗ {answer.error or 'not ready'}: {answer.message}".rstrip(": "), error=True)

    def action_back(self) -> None:
        self.dismiss(None)
