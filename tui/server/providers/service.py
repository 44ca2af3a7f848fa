"""What the auth and preferences routes need from the providers, kept here so the routes stay thin.

Every function takes the server's `ProviderRegistry` (app.state.providers) and, where preferences
change, its `Store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.server.catalog import with_article
from tui.server.providers.models import ALL, DISPLAY, KEYED, OFFLINE, OFFLINE_MODEL
from tui.server.providers.registry import ProviderRegistry
from tui.server.providers.router import pick_default


def listed(registry: ProviderRegistry) -> list[str]:
    """Providers to show: the offline agent, every keyed provider (a key can be added), Ollama when configured."""
    return [name for name in ALL if name != "ollama" or registry.is_available(name)]


async def providers_json(registry: ProviderRegistry) -> dict[str, dict]:
    """`{name: {display_name, models}}`, with Ollama's installed models asked from it (cached briefly)."""
    out: dict[str, dict] = {}
    for name in listed(registry):
        models = await registry.models(name) if name == "ollama" else registry.cached_models(name)
        out[name] = {"display_name": DISPLAY[name], "models": models}
    return out


def ollama_status(registry: ProviderRegistry, preferred: str) -> dict | None:
    if not registry.is_available("ollama"):
        return None
    star = " ⭐" if preferred == "ollama" else ""
    return {"authenticated": True, "auth_method": "none", "display_name": DISPLAY["ollama"] + star}


@dataclass
class KeyOutcome:
    ok: bool
    message: str
    checked_online: bool


async def store_key(registry: ProviderRegistry, provider: str, key: str) -> KeyOutcome:
    """Check the key with one cheap call and keep it (secrets file, 0600) unless the provider refused it.
    The provider becomes available; the preferences still choose which one answers. OSError propagates."""
    result = await registry.validate(provider, key)
    name = DISPLAY.get(provider, provider)
    if result.checked_online and not result.ok:
        return KeyOutcome(False, f"{name} refused the key: {result.message}", True)
    registry.secrets.set(provider, key)
    if result.ok:
        message = f"{provider} API key stored: {name} accepted it"
    else:
        message = (f"{provider} API key stored, but only its format was checked ({result.message}); "
                   f"{name} will be asked when it can be reached")
    return KeyOutcome(True, message, result.checked_online)


def adopt(registry: ProviderRegistry, store: Any, provider: str) -> str:
    """Make `provider` the main agent's when the preferences point at the offline agent or at a provider
    that is not configured; returns the model chosen, or "" when the preferences were kept."""
    prefs = store.get_preferences() or {}
    current = prefs.get("preferred_provider", OFFLINE)
    if current != OFFLINE and registry.is_available(current):
        return ""
    model = registry.default_model(provider)
    if not model:
        return ""
    store.save_preferences({**prefs, "preferred_provider": provider, "main_agent_model": model})
    return model


def after_key_removed(registry: ProviderRegistry, store: Any, provider: str) -> bool:
    """Back to the offline agent when the removed key was the one in use (and no env key remains)."""
    prefs = store.get_preferences() or {}
    if prefs.get("preferred_provider") != provider or registry.is_available(provider):
        return False
    store.save_preferences({**prefs, "preferred_provider": OFFLINE, "main_agent_model": OFFLINE_MODEL})
    return True


def adopt_configured_at_start(registry: ProviderRegistry, store: Any) -> str:
    """On a fresh (never edited) preferences row that points at the offline agent, use the first provider
    with a key (env or file). Ollama is left to an explicit choice. Returns the provider picked or ""."""
    prefs = store.get_preferences() or {}
    if prefs.get("preferred_provider", OFFLINE) != OFFLINE or prefs.get("created_at") != prefs.get("updated_at"):
        return ""
    name = pick_default(registry)
    if name is None or name not in KEYED:
        return ""
    return name if adopt(registry, store, name) else ""


async def check_preferences(registry: ProviderRegistry, update: dict, merged: dict, current: dict) -> tuple[str, str] | None:
    """(error type, message) when the merged preferences name an unusable provider or a model it does
    not have; fills in the provider's default model when only the provider changed."""
    name = merged.get("preferred_provider")
    if name not in ALL:
        return "INVALID_PROVIDER", f"Unknown provider '{name}'"
    if not registry.is_available(name):
        how = ("set [ollama] base_url in config.toml" if name == "ollama"
               else f"add {with_article(DISPLAY[name])} API key first")
        return "INVALID_PROVIDER", f"{DISPLAY[name]} is not configured: {how}"
    models = await registry.models(name) if name == "ollama" else registry.cached_models(name)
    if name != current.get("preferred_provider"):
        # An effort chosen for one provider's models means nothing to another's (Ollama refuses it
        # for models that do not think): a new provider starts without one unless it is given.
        for key in ("main_agent_reasoning_effort", "sub_agent_reasoning_effort"):
            if key not in update:
                merged[key] = ""
    if name != current.get("preferred_provider") and "main_agent_model" not in update \
            and not registry.known_model(name, merged.get("main_agent_model", "")):
        default = registry.default_model(name) or (models[0] if models else "")
        if default:
            merged["main_agent_model"] = default
    model = merged.get("main_agent_model")
    if not isinstance(model, str) or not registry.known_model(name, model) or (name == "ollama" and models and model not in models):
        return "INVALID_MODEL", f"Unknown model '{model}' for {DISPLAY[name]}"
    return None
