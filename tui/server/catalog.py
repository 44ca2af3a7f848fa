"""Providers, models, credentials and tools this server knows about — one place to extend.

The model lists come from tui.server.providers.models; what is configured right now (keys, Ollama,
the models a key may use) is the ProviderRegistry's (app.state.providers) business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.config import Secrets
from tui.server.providers.models import STATIC_MODELS

OFFLINE = "offline"
OFFLINE_MODEL = "offline-1"
OFFLINE_CONTEXT_LIMIT = 32_000  # tokens; used by /context


@dataclass(frozen=True)
class Provider:
    name: str
    display_name: str
    models: tuple[str, ...]
    key_pattern: re.Pattern[str] | None  # None: needs no key
    key_format: str = ""  # what a key looks like, for humans
    context_limit: int = 200_000


PROVIDERS: tuple[Provider, ...] = (
    Provider(OFFLINE, "Offline agent", (OFFLINE_MODEL,), None, "", OFFLINE_CONTEXT_LIMIT),
    Provider("anthropic", "Anthropic", STATIC_MODELS["anthropic"],
             re.compile(r"^sk-ant-[A-Za-z0-9_\-]{20,}$"), "sk-ant-…"),
    Provider("openai", "OpenAI", STATIC_MODELS["openai"],
             re.compile(r"^sk-(?!ant-)(?!or-)[A-Za-z0-9_\-]{20,}$"), "sk-…", 128_000),
    Provider("openrouter", "OpenRouter", STATIC_MODELS["openrouter"],
             re.compile(r"^sk-or-[A-Za-z0-9_\-]{20,}$"), "sk-or-…", 128_000),
)
KEYED_PROVIDERS = tuple(p.name for p in PROVIDERS if p.key_pattern is not None)


def available_providers() -> dict[str, Provider]:
    """Every provider this server lists, by name (the extension point for real providers)."""
    return {p.name: p for p in PROVIDERS}


def providers_json() -> dict[str, dict]:
    return {name: {"display_name": p.display_name, "models": list(p.models)} for name, p in available_providers().items()}


def default_preferences() -> dict[str, Any]:
    return {
        "preferred_provider": OFFLINE,
        "main_agent_model": OFFLINE_MODEL,
        "main_agent_max_tokens": 4096,
        "main_agent_reasoning_effort": "",
        "sub_agent_model": OFFLINE_MODEL,
        "sub_agent_max_tokens": 2048,
        "sub_agent_reasoning_effort": "",
    }


# ---------------------------------------------------------------- credentials


def secrets(data_dir: Path) -> Secrets:
    # Only the file: the server reports what was stored through its API, and env keys of the
    # process that launched it are picked up by the same Secrets lookup.
    return Secrets(data_dir / "secrets.json")


def with_article(name: str) -> str:
    """"an Anthropic", "an OpenAI", "a Mixpeek": the provider names read as they are spelled."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def key_problem(provider: str, key: str) -> str | None:
    """None when the key looks right for the provider, else a sentence saying what is wrong."""
    spec = available_providers().get(provider)
    if spec is None or spec.key_pattern is None:
        return f"{provider} does not take an API key"
    if not spec.key_pattern.match(key.strip()):
        return f"That does not look like {with_article(spec.display_name)} API key (expected {spec.key_format})"
    return None


def auth_status(data_dir: Path, preferred: str) -> dict[str, dict]:
    store = secrets(data_dir)
    out: dict[str, dict] = {}
    for name, spec in available_providers().items():
        if spec.key_pattern is None:
            entry = {"authenticated": True, "auth_method": "none", "display_name": spec.display_name}
        else:
            has_key = store.get(name) is not None
            entry = {"authenticated": has_key, "auth_method": "api_key" if has_key else "none", "display_name": spec.display_name}
        if name == preferred:
            entry["display_name"] += " ⭐"
        out[name] = entry
    return out


# ---------------------------------------------------------------- the agent's tools


def agent_tools(agent: Any = None, extra: Any = ()) -> list[dict]:
    """The tools the offline agent really has, then `extra` (the MCP servers' tool specs), with whether
    each one asks before running."""
    specs = getattr(agent, "tool_specs", None)
    if specs is None:
        from tui.server.agent.tools import TOOL_SPECS

        specs = TOOL_SPECS
    return [
        {"name": s.name, "description": s.description, "readOnly": bool(s.read_only),
         "requiresPermission": not s.read_only, "available": True}
        for s in [*specs, *extra]
    ]
