"""Choosing the agent of each turn: the provider and model in the preferences when that provider is
configured, else the offline agent (whose help answer then says how to add a key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from tui.server.agent.tools import TOOL_SPECS
from tui.server.providers.models import ALL, CHOOSE_HELP, DISPLAY, KEY_HELP, OFFLINE, OFFLINE_MODEL
from tui.server.providers.registry import ProviderRegistry

log = logging.getLogger("tui.server.providers")


@dataclass(frozen=True)
class Choice:
    provider: str
    model: str
    note: str = ""  # why the preference was not followed, for the log


async def choose(registry: ProviderRegistry, prefs: dict | None) -> Choice:
    """The provider and model a turn runs on, given the stored preferences."""
    prefs = prefs or {}
    name = str(prefs.get("preferred_provider") or OFFLINE)
    model = str(prefs.get("main_agent_model") or "")
    if name == OFFLINE or name not in ALL:
        return Choice(OFFLINE, OFFLINE_MODEL)
    if not registry.is_available(name):
        return Choice(OFFLINE, OFFLINE_MODEL, f"{name} is preferred but not configured")
    if name == "ollama":
        installed = await registry.models(name)
        if not model or model == OFFLINE_MODEL:
            model = installed[0] if installed else ""
        if not model:
            return Choice(OFFLINE, OFFLINE_MODEL, "Ollama has no model installed (or did not answer)")
        return Choice(name, model)
    if not registry.known_model(name, model):
        model = registry.default_model(name)
    return Choice(name, model)


def pick_default(registry: ProviderRegistry) -> str | None:
    """The first configured provider, in the order Anthropic, OpenAI, OpenRouter, Ollama (None: offline only)."""
    for name in ALL[1:]:
        if registry.is_available(name):
            return name
    return None


class ProviderRouter:
    """An Agent (see tui.server.agent.base) that hands each turn to the agent the preferences choose."""

    def __init__(self, registry: ProviderRegistry, preferences: Callable[[], dict | None],
                 on_choice: Callable[[str, str, str], None] | None = None) -> None:
        self.registry = registry
        self.preferences = preferences
        self.on_choice = on_choice  # (session_id, provider, model): remember what a session used
        self.tool_specs = TOOL_SPECS

    async def agent_for(self, prefs: dict | None) -> tuple[Choice, Any]:
        from tui.server.agent import OfflineAgent
        from tui.server.providers.agent import ProviderAgent

        choice = await choose(self.registry, prefs)
        if choice.note:
            log.info("using the offline agent: %s", choice.note)
        if choice.provider == OFFLINE:
            return choice, _offline_agent(OfflineAgent, self.hint())
        prefs = prefs or {}
        max_tokens = prefs.get("main_agent_max_tokens")
        effort = prefs.get("main_agent_reasoning_effort") or ""
        agent = ProviderAgent(self.registry.build(choice.provider), choice.model,
                              max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 4096,
                              reasoning_effort=effort if effort in ("low", "medium", "high") else "")
        return choice, agent

    def hint(self) -> str:
        """The offline agent's one line on real models: how to add a key, or that one can be chosen."""
        usable = [DISPLAY[name] for name in ALL[1:] if self.registry.is_available(name)]
        return CHOOSE_HELP.format(names=" and ".join(usable)) if usable else KEY_HELP

    async def run_turn(self, ctx: Any, text: str) -> None:
        choice, agent = await self.agent_for(self.preferences())
        if self.on_choice is not None:
            try:
                self.on_choice(ctx.session_id, choice.provider, choice.model)
            except Exception:  # bookkeeping only
                log.exception("could not record the session's model")
        await agent.run_turn(ctx, text)


def _offline_agent(cls: Any, hint: str) -> Any:
    try:
        return cls(key_hint=hint)
    except TypeError:  # an OfflineAgent without the hint parameter
        return cls()
