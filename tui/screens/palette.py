"""The command palette's provider: every action of the key table, plus the themes."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keymap import ACTIONS, display_key, key_for
from tui.theme_defs import THEME_NAMES


class MixCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        keymap = dict(getattr(app, "keymap_overrides", {}) or {})
        out: list[tuple[str, str, object]] = []
        for spec in ACTIONS:
            if spec.id == "command_palette" or spec.scope == "integration":
                continue  # the integration's entries come from tui/integration.py (it knows when they apply)
            title = f"{spec.description}: {spec.help}"
            out.append((title, display_key(key_for(spec.id, keymap)), partial(app.run_action, spec.action if spec.scope == "app" else f"screen.{spec.action}")))
        for name in THEME_NAMES:
            out.append((f"Theme: {name}", "", partial(app.set_theme_named, name)))  # type: ignore[attr-defined]
        return out

    async def discover(self) -> Hits:
        for title, key, callback in self._commands():
            yield DiscoveryHit(title, callback, help=key or None)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=key or None)  # type: ignore[arg-type]


class ServerCommands(Provider):
    """The Mix server's slash commands; choosing one sends it as a message in the current session."""

    async def startup(self) -> None:
        self.server_commands: list = []
        try:
            from tui.screens.files import mix_client_of

            backend = await asyncio.wait_for(self.app.wait_backend(), 3)  # type: ignore[attr-defined]
            self.server_commands = await mix_client_of(backend).list_commands()
        except Exception:  # noqa: BLE001 — no server commands in the palette then
            self.server_commands = []

    def _entries(self) -> list[tuple[str, str, object]]:
        run = getattr(self.app, "run_slash_command", None)
        if run is None:
            return []
        return [(f"/{c.name}", c.description, partial(run, c.name)) for c in getattr(self, "server_commands", [])]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text or None)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(f"{title} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text or None)  # type: ignore[arg-type]
