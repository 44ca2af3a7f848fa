"""What the app adds for MixerLead and Mixpeek: the backend chooser, the model picker, the knowledge
screens, and attached context. `MixApp` mixes `IntegrationActions` in; the command palette gets
`IntegrationCommands`. Everything heavy is imported when used, never at first paint.

MixerLead and Mixpeek need API keys. Without one, their commands stay visible and say how to add
the key instead of failing later.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keymap import bindings, display_key, key_for

NEW_BACKEND_SETTING = "new_conversation_backend"

# The keys live in the app's key table (tui/keymap.py, scope "integration"): rebindable under [keys]
# and listed by F1. MixApp binds them with the actions below; the palette entries are IntegrationCommands'.
INTEGRATION_BINDINGS = bindings("integration")


def _key(app: Any, action_id: str) -> str:
    """The key an integration action has now (after the config's [keys]), for display."""
    return display_key(key_for(action_id, getattr(app, "keymap_overrides", None)))


class IntegrationActions:
    """App actions for the backends beside Mix. Mixed into MixApp (needs .config, .paths, .store, .backend, .chat)."""

    HELP = """\
## MixerLead and Mixpeek

- `ctrl+n`: with MixerLead configured, asks which backend the new conversation is on (Mix or MixerLead);
  the palette (`ctrl+p`, "New conversation") always offers the choice. The sidebar marks each
  conversation's backend (`mx`, `ML`)
- `alt+m`: the MixerLead model (Auto by default; ★ needs a paid plan); shown in the status bar
- palette: "MixerLead: knowledge sources", "MixerLead: skills" (and each skill by name)
- `alt+k`: your Mixpeek files (knowledge); in the results `a` attaches one to the next message, shown above the
  composer; `ctrl+r` removes it
- keys: `MIXERLEAD_API_KEY` / `MIXPEEK_API_KEY`, or `"mixerlead"` / `"mixpeek"` in the secrets file
"""

    mixerlead_backend: Any = None  # the MixerLeadBackend inside the router, when configured (palette reads it)

    # ------------------------------------------------------------ helpers

    def _secrets(self) -> Any:
        from tui.config import Secrets

        return Secrets(self.paths.secrets_file)  # type: ignore[attr-defined]

    def _router(self) -> Any | None:
        backend = getattr(self, "backend", None)
        return backend if backend is not None and hasattr(backend, "choose_for_new") else None

    def attach_router(self, router: Any) -> None:
        """Called once the backends are built: remember the MixerLead one and the last chosen backend."""
        from tui.backends import MIXERLEAD

        self.mixerlead_backend = router.backend(MIXERLEAD)
        wanted = self.store.setting(NEW_BACKEND_SETTING)  # type: ignore[attr-defined]
        if wanted and wanted in router.backends:
            router.choose_for_new(wanted)

    def backend_choices(self) -> list[Any]:
        from tui.backends import backend_options

        router = self._router()
        available = router.names if router is not None else []
        labels = {n: router.label_of(n) for n in available} if router is not None else {}
        return backend_options(available, self.paths.secrets_file, labels=labels)  # type: ignore[attr-defined]

    def _say_not_configured(self, service: str, what: str) -> None:
        from tui.backends import key_hint

        self.notify(key_hint(service, self.paths.secrets_file), title=f"{what} is not configured",  # type: ignore[attr-defined]
                    severity="warning", timeout=15)

    # ------------------------------------------------------------ new conversation

    def offer_backends(self, then: Callable[[], None], *, always: bool = False) -> bool:
        """Ask which backend the next conversation is on, then call `then`. Returns False (and asks
        nothing) when there is no choice to make, unless `always`."""
        from tui.screens.new_conversation import NewConversationScreen

        router = self._router()
        if router is None:
            if always:
                self.notify("The backends are still starting; try again in a moment.")  # type: ignore[attr-defined]
            return False
        options = self.backend_choices()
        if not always and sum(1 for o in options if o.available) < 2:
            return False

        def chosen(name: str | None) -> None:
            if not name:
                return
            router.choose_for_new(name)
            self.store.set_setting(NEW_BACKEND_SETTING, name)  # type: ignore[attr-defined]
            then()

        self.push_screen(NewConversationScreen(options, router.new_backend), chosen)  # type: ignore[attr-defined]
        return True

    def action_new_conversation(self) -> None:
        chat = self.chat  # type: ignore[attr-defined]
        self.offer_backends(chat.start_new_session, always=True)

    # ------------------------------------------------------------ MixerLead

    def _current_on_mixerlead(self) -> str | None:
        """The open conversation's id when it is on MixerLead (the picker then applies to it too)."""
        router = self._router()
        try:
            current = self.chat.current  # type: ignore[attr-defined]
        except LookupError:
            return None
        if router is None or current is None:
            return None
        return current.id if router.backend_of(current.id) is self.mixerlead_backend else None

    def action_choose_model(self) -> None:
        if self.mixerlead_backend is None:
            self._say_not_configured("mixerlead", "MixerLead")
            return
        from tui.screens.mixerlead_models import MixerLeadModelPicker

        conversation_id = self._current_on_mixerlead()

        def chosen(model_id: str | None) -> None:
            if not model_id:
                return
            self.chat.refresh_model(force=True)  # type: ignore[attr-defined]
            if conversation_id is None:
                self.notify(f"MixerLead model for new conversations: {model_id}")  # type: ignore[attr-defined]

        self.push_screen(MixerLeadModelPicker(self.mixerlead_backend, conversation_id=conversation_id), chosen)  # type: ignore[attr-defined]

    def action_mixerlead_knowledge(self) -> None:
        if self.mixerlead_backend is None:
            self._say_not_configured("mixerlead", "MixerLead")
            return
        from tui.screens.mixerlead_knowledge import MixerLeadKnowledgeScreen

        self.push_screen(MixerLeadKnowledgeScreen(self.mixerlead_backend))  # type: ignore[attr-defined]

    def action_mixerlead_skills(self) -> None:
        if self.mixerlead_backend is None:
            self._say_not_configured("mixerlead", "MixerLead")
            return
        from tui.screens.mixerlead_skills import MixerLeadSkillsScreen

        self.push_screen(MixerLeadSkillsScreen(self.mixerlead_backend))  # type: ignore[attr-defined]

    # ------------------------------------------------------------ Mixpeek and attached context

    def action_mixpeek_knowledge(self) -> None:
        if any(type(s).__name__ == "KnowledgeScreen" for s in self.screen_stack):  # type: ignore[attr-defined]
            return
        if not self._secrets().get("mixpeek"):
            self._say_not_configured("mixpeek", "Mixpeek")
            return
        from tui.screens.knowledge_mixpeek import KnowledgeScreen

        self.push_screen(KnowledgeScreen())  # type: ignore[attr-defined]  # builds its client from config + secrets

    def on_attach_context(self, message: Any) -> None:
        """A search result attached on the Knowledge screen waits above the composer for the next message."""
        text = getattr(message, "text", "")
        if not text or not text.strip():
            return
        source = getattr(message, "source", "") or "attachment"
        self.chat.attached.add(text, source)  # type: ignore[attr-defined]
        self.notify(f"Attached {source}: it goes with your next message ({_key(self, 'remove_attachment')} removes it).")  # type: ignore[attr-defined]

    def action_remove_attachment(self) -> None:
        try:
            removed = self.chat.attached.remove_last()  # type: ignore[attr-defined]
        except Exception:  # no chat screen: nothing to remove
            return
        if removed is not None:
            self.notify(f"Removed the context from {removed.source}.")  # type: ignore[attr-defined]


class IntegrationCommands(Provider):
    """Palette entries: the backend chooser, Mixpeek files, and (when not configured) how to add keys."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        app: Any = self.app
        out: list[tuple[str, str, Any]] = [
            ("New conversation: choose the backend (Mix, MixerLead)", "", app.action_new_conversation),
            ("Knowledge (Mixpeek): browse, upload, search your files, attach one to the next message", _key(app, "mixpeek_knowledge"),
             app.action_mixpeek_knowledge),
        ]
        if getattr(app, "mixerlead_backend", None) is None:
            why = "not configured: shows how to add a key"
            out += [("MixerLead: choose the model", f"{_key(app, 'choose_model')} · {why}", app.action_choose_model),
                    ("MixerLead: knowledge sources", why, app.action_mixerlead_knowledge),
                    ("MixerLead: skills", why, app.action_mixerlead_skills)]
        try:
            attached = app.chat.attached.attachments
        except Exception:  # no chat screen (yet): nothing attached
            attached = []
        if attached:
            out.append(("Remove the attached context", _key(app, "remove_attachment"), app.action_remove_attachment))
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


def integration_commands() -> type:
    return IntegrationCommands


__all__ = ["INTEGRATION_BINDINGS", "IntegrationActions", "IntegrationCommands", "integration_commands"]
