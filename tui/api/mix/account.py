"""Typed wire objects of the Mix REST API: model preferences, providers and provider sign-in.
Re-exported by tui.api.mix.models (import them from there or from tui.api.mix)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.api.mix.coerce import _bool, _int, _list, _obj, _opt_str, _str, parse_time


# ---------------------------------------------------------------- preferences and providers


@dataclass
class Preferences:
    preferred_provider: str = ""
    main_agent_model: str = ""
    main_agent_max_tokens: int = 0
    main_agent_reasoning_effort: str = ""
    sub_agent_model: str = ""
    sub_agent_max_tokens: int = 0
    sub_agent_reasoning_effort: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    WRITABLE = (
        "preferred_provider", "main_agent_model", "main_agent_max_tokens", "main_agent_reasoning_effort",
        "sub_agent_model", "sub_agent_max_tokens", "sub_agent_reasoning_effort",
    )

    @classmethod
    def from_json(cls, data: Any) -> "Preferences":
        d = _obj(data)
        return cls(
            preferred_provider=_str(d.get("preferred_provider")),
            main_agent_model=_str(d.get("main_agent_model")),
            main_agent_max_tokens=_int(d.get("main_agent_max_tokens")),
            main_agent_reasoning_effort=_str(d.get("main_agent_reasoning_effort")),
            sub_agent_model=_str(d.get("sub_agent_model")),
            sub_agent_max_tokens=_int(d.get("sub_agent_max_tokens")),
            sub_agent_reasoning_effort=_str(d.get("sub_agent_reasoning_effort")),
            created_at=parse_time(d.get("created_at")),
            updated_at=parse_time(d.get("updated_at")),
        )


@dataclass
class ProviderInfo:
    id: str
    display_name: str = ""
    models: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, provider_id: str, data: Any) -> "ProviderInfo":
        d = _obj(data)
        models = []
        for m in _list(d.get("models")):
            if isinstance(m, dict):
                models.append(_str(m.get("id", m.get("name"))))
            else:
                models.append(_str(m))
        return cls(id=provider_id, display_name=_str(d.get("display_name"), provider_id), models=models)


def providers_from_json(data: Any) -> dict[str, ProviderInfo]:
    return {str(k): ProviderInfo.from_json(str(k), v) for k, v in _obj(data).items()}


@dataclass
class PreferencesResponse:
    preferences: Preferences | None
    available_providers: dict[str, ProviderInfo] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> "PreferencesResponse":
        d = _obj(data)
        prefs = d.get("preferences")
        return cls(
            preferences=Preferences.from_json(prefs) if isinstance(prefs, dict) else None,
            available_providers=providers_from_json(d.get("available_providers")),
        )


# ---------------------------------------------------------------- auth


@dataclass
class ProviderAuth:
    provider: str
    authenticated: bool = False
    auth_method: str = "none"  # oauth | api_key | none
    display_name: str = ""

    @property
    def preferred(self) -> bool:
        return self.display_name.endswith("⭐")


@dataclass
class AuthStatus:
    providers: dict[str, ProviderAuth] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> "AuthStatus":
        out = {}
        for name, value in _obj(_obj(data).get("providers")).items():
            v = _obj(value)
            out[str(name)] = ProviderAuth(
                provider=str(name), authenticated=_bool(v.get("authenticated")),
                auth_method=_str(v.get("auth_method"), "none"), display_name=_str(v.get("display_name"), str(name)),
            )
        return cls(providers=out)


@dataclass
class AuthResult:
    """api-key store, oauth callback, delete: `{status, provider, message, expires_in?}`."""

    status: str = ""
    provider: str = ""
    message: str = ""
    expires_in: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> "AuthResult":
        d = _obj(data)
        exp = d.get("expires_in")
        return cls(status=_str(d.get("status")), provider=_str(d.get("provider")), message=_str(d.get("message")),
                   expires_in=None if exp is None else _int(exp))

    @property
    def ok(self) -> bool:
        return self.status.lower() in ("success", "ok", "")


@dataclass
class OAuthStart:
    auth_url: str = ""
    state: str = ""
    message: str = ""

    @classmethod
    def from_json(cls, data: Any) -> "OAuthStart":
        d = _obj(data)
        return cls(auth_url=_str(d.get("auth_url")), state=_str(d.get("state")), message=_str(d.get("message")))


@dataclass
class AuthValidation:
    valid: bool = False
    provider: str | None = None
    auth_method: str | None = None
    message: str = ""
    error: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> "AuthValidation":
        d = _obj(data)
        return cls(valid=_bool(d.get("valid")), provider=_opt_str(d.get("provider")), auth_method=_opt_str(d.get("auth_method")),
                   message=_str(d.get("message")), error=_opt_str(d.get("error")))
