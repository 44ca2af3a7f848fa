"""The command palette's provider: every action of the key table, plus the themes."""

from __future__ import annotations

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
            if spec.id == "command_palette":
                continue
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
