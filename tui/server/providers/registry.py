"""Which model providers this server can use right now, their models, and the provider objects.

Keys come from `tui.config.Secrets` (ANTHROPIC_API_KEY / OPENAI_API_KEY / OPENROUTER_API_KEY first,
then the server's secrets file, mode 0600). Base URLs, first found wins: MIX_TUI_<PROVIDER>_BASE_URL
(ours; tests point them at local fakes), then for Ollama `[ollama] base_url` in config.toml, then the
variables other tools already read (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, OPENROUTER_BASE_URL,
OLLAMA_HOST), then the provider's own address. Ollama is available when any of its is set. The
offline agent is always listed and is the default when nothing else is configured.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from tui.config import Config, Secrets
from tui.server.providers.models import ALL, DEFAULT_MODEL, DISPLAY, KEYED, OFFLINE, STATIC_MODELS

if TYPE_CHECKING:
    from tui.server.providers.base import Provider, ValidationResult

MODEL_CACHE_SECONDS = 60.0
DEFAULT_BASE_URL = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1",
                    "openrouter": "https://openrouter.ai/api/v1", "ollama": ""}  # Ollama: only when configured


# The variables the providers' own SDKs and CLIs read, so a proxy or gateway set up for them is used here too.
FIELD_ENV = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL", "openrouter": "OPENROUTER_BASE_URL",
             "ollama": "OLLAMA_HOST"}
OLLAMA_PORT = 11434


def base_url_env(name: str) -> str:
    return f"MIX_TUI_{name.upper()}_BASE_URL"


def ollama_host_url(value: str) -> str:
    """OLLAMA_HOST as Ollama's CLI reads it: `host`, `host:port`, `:port` or a URL; http and port 11434
    unless given (443 for https)."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "http", value
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not colon:
        host, port = hostport, ""
    host = host or "127.0.0.1"
    port = port or ("443" if scheme == "https" else str(OLLAMA_PORT))
    return f"{scheme}://{host}:{port}" + (f"/{path}" if slash and path else "")


@dataclass
class ProviderStatus:
    name: str
    display_name: str
    available: bool  # a key or base URL is configured (not a promise that it works)
    source: str  # env, file, config, builtin or "" (not configured)
    needs_key: bool
    base_url: str
    models: list[str] = field(default_factory=list)


class ProviderRegistry:
    def __init__(self, secrets: Secrets, config: Config | None = None, env: Mapping[str, str] | None = None) -> None:
        self.secrets = secrets
        self.config = config or Config()
        self.env = os.environ if env is None else env
        self._providers: dict[tuple, Provider] = {}
        self._models: dict[str, tuple[float, list[str]]] = {}  # learned from the APIs, with when

    # ------------------------------------------------------------------ configuration

    def base_url(self, name: str) -> str:
        override = self.env.get(base_url_env(name), "").strip()
        if override:
            return override.rstrip("/")
        if name == "ollama":
            configured = self.config.ollama_base_url.strip().rstrip("/") or ollama_host_url(self.env.get(FIELD_ENV[name], ""))
            if configured and not configured.endswith("/v1"):
                configured += "/v1"  # people paste Ollama's own address; chat completions live under /v1
            return configured
        return self.env.get(FIELD_ENV[name], "").strip().rstrip("/") or DEFAULT_BASE_URL[name]

    def base_url_source(self, name: str) -> str:
        """Where the base URL comes from: env (ours or the field's variable), config, or "" (the default)."""
        if self.env.get(base_url_env(name), "").strip():
            return "env"
        if name == "ollama" and self.config.ollama_base_url.strip():
            return "config"
        return "env" if self.env.get(FIELD_ENV[name], "").strip() else ""

    def key(self, name: str) -> str | None:
        return self.secrets.get(name) if name in KEYED else None

    def is_available(self, name: str) -> bool:
        if name == OFFLINE:
            return True
        if name == "ollama":
            return bool(self.base_url("ollama"))
        return name in KEYED and bool(self.key(name))

    def status(self, name: str) -> ProviderStatus:
        if name == OFFLINE:
            source = "builtin"
        elif name == "ollama":
            source = self.base_url_source("ollama")
        else:
            source = self.secrets.source(name) or ""
        return ProviderStatus(name, DISPLAY[name], self.is_available(name), source, name in KEYED,
                              "" if name == OFFLINE else self.base_url(name), self.cached_models(name))

    def available(self) -> list[str]:
        return [name for name in ALL if self.is_available(name)]

    # ------------------------------------------------------------------ providers

    def build(self, name: str, *, key: str | None = None) -> Provider:
        """The provider object for `name` (cached per key and base URL); `key` overrides the stored one."""
        if name not in ALL or name == OFFLINE:
            raise KeyError(name)
        api_key = key if key is not None else (self.key(name) or "")
        base = self.base_url(name)
        cache_key = (name, api_key, base)
        provider = self._providers.get(cache_key)
        if provider is None:
            # imported here: httpx and the wire code load only when a provider is used
            from tui.server.providers import anthropic, openai_compat

            if name == "anthropic":
                provider = anthropic.AnthropicProvider(api_key, base)
            else:
                provider = openai_compat.OpenAICompatProvider(openai_compat.FLAVORS[name], api_key, base)
            if key is None:
                self._providers[cache_key] = provider
        return provider

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()

    # ------------------------------------------------------------------ models

    def cached_models(self, name: str) -> list[str]:
        """Models to offer without a network call: the static list plus whatever the API told us."""
        learned = self._models.get(name, (0.0, []))[1]
        out = list(STATIC_MODELS.get(name, ()))
        out += [m for m in learned if m not in out]
        return out

    async def models(self, name: str) -> list[str]:
        """Like cached_models, refreshed from the API when it lists installed models (Ollama)."""
        if name == "ollama" and self.is_available(name):
            stamp, _ = self._models.get(name, (0.0, []))
            if time.monotonic() - stamp > MODEL_CACHE_SECONDS:
                try:
                    self.learn_models(name, await self.build(name).list_models())
                except Exception:  # unreachable now: offer what we knew
                    self._models[name] = (time.monotonic(), self._models.get(name, (0.0, []))[1])
        return self.cached_models(name)

    def learn_models(self, name: str, models: list[str]) -> None:
        self._models[name] = (time.monotonic(), list(models))

    def known_model(self, name: str, model: str) -> bool:
        if name == "ollama":
            return bool(model) and model != DEFAULT_MODEL[OFFLINE]  # installed models change; let Ollama judge
        return model in self.cached_models(name)

    def default_model(self, name: str) -> str:
        models = self.cached_models(name)
        return DEFAULT_MODEL.get(name) or (models[0] if models else "")

    # ------------------------------------------------------------------ validation

    async def validate(self, name: str, key: str | None = None) -> ValidationResult:
        """One cheap call with `key` (or the stored key); learns the models on success."""
        result = await self.build(name, key=key).validate()
        if result.ok and result.models:
            self.learn_models(name, result.models)
        return result
