"""Command-palette entries for MixerLead: open the knowledge screen, choose the model, and run any
skill of the workspace by name (the skills screen opens at it, with its variables form).

The app registers `MixerLeadCommands` in `App.COMMANDS`. It finds MixerLead through the app:
`app.mixerlead_client` (a MixerLeadClient), or `app.mixerlead_backend` / `app.backend` when that is
a MixerLeadBackend. Without either it offers nothing. The skill list is fetched once per palette
opening (in `startup`), and a failure only means no skill entries (the others stay)."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.api.mixerlead.client import MixerLeadClient
from tui.api.mixerlead.models import Skill


def mixerlead_source(app: Any) -> Any | None:
    """The MixerLeadClient or MixerLeadBackend the app has, if any."""
    client = getattr(app, "mixerlead_client", None)
    if isinstance(client, MixerLeadClient):
        return client
    for name in ("mixerlead_backend", "backend"):
        backend = getattr(app, name, None)
        if backend is not None and getattr(backend, "name", "") == "mixerlead" and isinstance(getattr(backend, "client", None), MixerLeadClient):
            return backend
    return None


class MixerLeadCommands(Provider):
    async def startup(self) -> None:
        self.source = mixerlead_source(self.app)
        self.skills: list[Skill] = []
        if self.source is None:
            return
        from tui.screens.mixerlead_common import client_of

        try:
            self.skills = await client_of(self.source).list_skills()
        except Exception:  # noqa: BLE001 — the palette just has no skill entries
            self.skills = []

    def _open_knowledge(self) -> None:
        from tui.screens.mixerlead_knowledge import MixerLeadKnowledgeScreen

        self.app.push_screen(MixerLeadKnowledgeScreen(self.source))

    def _open_models(self) -> None:
        from tui.screens.mixerlead_models import MixerLeadModelPicker

        # With a backend, the choice also applies to the MixerLead conversation open in the chat.
        conversation_id = None
        if not isinstance(self.source, MixerLeadClient):
            try:
                current = self.app.chat.current  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 — no chat screen: the choice is the default for new ones
                current = None
            if current is not None and current.conversation.backend == "mixerlead":
                conversation_id = current.id
        self.app.push_screen(MixerLeadModelPicker(self.source, conversation_id=conversation_id))

    def _open_skill(self, skill_id: str | None) -> None:
        from tui.screens.mixerlead_skills import MixerLeadSkillsScreen

        self.app.push_screen(MixerLeadSkillsScreen(self.source, skill_id=skill_id))

    def _commands(self) -> list[tuple[str, str, Any]]:
        if getattr(self, "source", None) is None:
            return []
        out: list[tuple[str, str, Any]] = [
            ("MixerLead: knowledge sources", "list, add, turn on/off, re-index, delete", self._open_knowledge),
            ("MixerLead: choose the model", "Auto by default; ★ needs a paid plan", self._open_models),
            ("MixerLead: skills", "run a skill with its variables", partial(self._open_skill, None)),
        ]
        for skill in self.skills:
            out.append((f"MixerLead skill: {skill.label}", skill.description or skill.category, partial(self._open_skill, skill.id)))
        return out

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text or None)
