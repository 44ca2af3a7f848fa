"""Provider names, display names and model lists: plain data, cheap to import (no httpx)."""

from __future__ import annotations

OFFLINE = "offline"
OFFLINE_MODEL = "offline-1"
KEYED = ("anthropic", "openai", "openrouter")  # providers that take an API key
ALL = (OFFLINE, *KEYED, "ollama")

DISPLAY = {OFFLINE: "Offline agent", "anthropic": "Anthropic", "openai": "OpenAI", "openrouter": "OpenRouter",
           "ollama": "Ollama (local)"}

# Offered without asking the API (the APIs' own lists are added once a key is checked).
STATIC_MODELS: dict[str, tuple[str, ...]] = {
    OFFLINE: (OFFLINE_MODEL,),
    "anthropic": ("claude-4-sonnet", "claude-4-opus", "claude-3-5-haiku"),  # Mix's names, see ANTHROPIC_ALIASES
    "openai": ("gpt-4.1", "gpt-4.1-mini", "o3"),
    "openrouter": ("anthropic/claude-sonnet-4", "openai/gpt-4.1"),
    "ollama": (),  # whatever is installed: asked from the server
}
# Mix's own names (its preferences defaults) and the Anthropic API ids they stand for.
ANTHROPIC_ALIASES = {"claude-4-sonnet": "claude-sonnet-4-0", "claude-4-opus": "claude-opus-4-0",
                     "claude-3-5-haiku": "claude-3-5-haiku-latest"}
DEFAULT_MODEL = {OFFLINE: OFFLINE_MODEL, "anthropic": "claude-4-sonnet", "openai": "gpt-4.1",
                 "openrouter": "anthropic/claude-sonnet-4"}
CONTEXT_LIMIT = {OFFLINE: 32_000, "anthropic": 200_000, "openai": 128_000, "openrouter": 128_000, "ollama": 32_000}

KEY_HELP = ("To use a real model: set ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENROUTER_API_KEY, add a key in the "
            "app's credentials view, or set `[ollama] base_url` in config.toml for a local Ollama.")
CHOOSE_HELP = "{names} can be used: choose one of its models in the models view (or the preferences) to use a real model."
