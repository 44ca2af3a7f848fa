"""Which of the real pieces exist yet. A benchmark whose piece is missing reports "not available"
with the reason, never a number from a stand-in."""

from __future__ import annotations

import importlib


def _check(module: str, *names: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # ImportError, or the module is half-written
        return f"{module} cannot be imported ({type(exc).__name__}: {exc})"
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        return f"{module} has no {', '.join(missing)}"
    return None


def mix_client() -> str | None:
    return _check("tui.api.mix", "MixClient")


def mix_backend() -> str | None:
    return _check("tui.api.mix", "MixBackend")


def server() -> str | None:
    return (_check("tui.server.app", "create_app") or _check("tui.server.settings", "ServerSettings")
            or _check("tui.server.run", "MixUvicornServer", "uvicorn_config") or _check("tui.server.agent.scripted", "ScriptedAgent"))


def app() -> str | None:
    return _check("tui.app", "MixApp")


def missing(*checks: str) -> str | None:
    """The first reason a needed piece is missing, or None when all are there."""
    table = {"client": mix_client, "backend": mix_backend, "server": server, "app": app}
    for name in checks:
        reason = table[name]()
        if reason:
            return reason
    return None
