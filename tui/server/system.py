"""System, auth and preferences routes (PROTOCOL §3.1–§3.3). Error types here are upper-case codes,
as the Go handlers use for these endpoints."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui import __version__
from tui.config import SECRET_ENV_VARS
from tui.server import catalog, commands, inputs
from tui.server.errors import error
from tui.server.providers import service

PREF_KEYS = (
    "preferred_provider", "main_agent_model", "main_agent_max_tokens", "main_agent_reasoning_effort",
    "sub_agent_model", "sub_agent_max_tokens", "sub_agent_reasoning_effort",
)
REASONING_EFFORTS = ("", "low", "medium", "high")


async def _lenient_json(request: Request) -> dict | Response:
    try:
        body = await inputs.read_json(request, empty={})
    except inputs.BadInput:
        return error(400, "Invalid JSON in request body", "INVALID_JSON")
    if not isinstance(body, dict):
        return error(400, "Request body must be a JSON object", "INVALID_JSON")
    return body


# ---------------------------------------------------------------- system


async def health(request: Request) -> Response:
    return JSONResponse({
        "status": "ok", "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__, "environment": os.environ.get("ENV", ""),
        "services": {"backend": "healthy", "database": "connected"},
    })


async def list_commands(request: Request) -> Response:
    return JSONResponse([commands.command_json(c) for c in commands.COMMANDS.values()])


async def get_command(request: Request) -> Response:
    name = request.path_params["name"].lstrip("/").lower()
    command = commands.COMMANDS.get(name)
    if command is None:
        return error(404, f"Command '{name}' not found", "not_found")
    return JSONResponse(commands.command_json(command))


async def list_mcp(request: Request) -> Response:
    """The spec's fields and ours: command, url, error, stderr, readOnly, retryIn. Go sends `tools: null`
    when not connected; the specs are OpenAPI 3.1, where null is not an array, so the key is left out
    instead (it is not required)."""
    servers = commands.mcp_servers(request.app.state)
    return JSONResponse([{k: v for k, v in s.items() if not (k == "tools" and v is None)} for s in servers])


async def restart_mcp(request: Request) -> Response:
    """Extension: stop the named MCP server (if running) and start it again now."""
    name = request.path_params["name"]
    if not request.app.state.mcp.restart(name):
        return error(404, f"MCP server '{name}' not found", "not_found")
    return JSONResponse({"name": name, "status": "restarting"}, status_code=202)


async def tools_status(request: Request) -> Response:
    """Seed-spec shape: categories with a `tools` array. The offline agent's own tools come first;
    the provider keys form the second category (what `authenticated` means in Go)."""
    state = request.app.state
    tools = catalog.agent_tools(state.runner.agent)
    status = catalog.auth_status(state.settings.data_dir, "")
    providers = catalog.available_providers()
    return JSONResponse({
        "categories": {
            "agent": {
                "display_name": "Offline agent tools", "description": "Tools the built-in agent runs in the session folder",
                "icon": "tool",
                "tools": [{"provider": t["name"], "display_name": t["name"], "description": t["description"],
                           "api_key_required": False, "authenticated": True,
                           "requires_permission": t["requiresPermission"], "available": t["available"]} for t in tools],
            },
            "llm": {
                "display_name": "Model providers", "description": "API keys of hosted model providers", "icon": "key",
                "tools": [{"provider": name, "display_name": providers[name].display_name,
                           "description": f"{providers[name].display_name} models",
                           "api_key_required": providers[name].key_pattern is not None,
                           "authenticated": entry["authenticated"]} for name, entry in status.items()],
            },
        },
        # An extension: how the shell tool is confined (tui.server.sandbox), for the F9 tools view.
        "sandbox": {"active": state.runner.sandbox.active, "network": state.runner.sandbox.network,
                    "description": state.runner.sandbox.describe()},
    })


# ---------------------------------------------------------------- auth


def _preferred(request: Request) -> str:
    prefs = request.app.state.store.get_preferences() or catalog.default_preferences()
    return prefs.get("preferred_provider", catalog.OFFLINE)


async def store_api_key(request: Request) -> Response:
    body = await _lenient_json(request)
    if isinstance(body, Response):
        return body
    provider, key = body.get("provider"), body.get("api_key")
    if not isinstance(provider, str) or not provider:
        return error(400, "provider is required", "MISSING_PROVIDER")
    if not isinstance(key, str) or not key.strip():
        return error(400, "api_key is required", "MISSING_API_KEY")
    if provider not in catalog.KEYED_PROVIDERS:
        return error(400, f"Unsupported provider '{provider}' (supported: {', '.join(catalog.KEYED_PROVIDERS)})", "INVALID_PROVIDER")
    problem = catalog.key_problem(provider, key)
    if problem:
        return error(400, problem, "INVALID_API_KEY_FORMAT")
    state = request.app.state
    try:
        outcome = await service.store_key(state.providers, provider, key.strip())
    except OSError as exc:
        return error(500, f"Could not store the key: {exc.strerror}", "STORAGE_ERROR")
    if not outcome.ok:
        return error(400, outcome.message, "INVALID_API_KEY")
    # Whether the provider itself checked the key is said in the message (the seed shape has no field for it).
    return JSONResponse({"status": "success", "provider": provider, "message": outcome.message})


async def oauth_start(request: Request) -> Response:
    return error(400, "OAuth is not available in the offline server; store an API key instead", "OAUTH_NOT_SUPPORTED")


async def oauth_callback(request: Request) -> Response:
    return error(400, "OAuth is not available in the offline server; store an API key instead", "OAUTH_NOT_SUPPORTED")


async def auth_status(request: Request) -> Response:
    preferred = _preferred(request)
    providers = catalog.auth_status(request.app.state.settings.data_dir, preferred)
    ollama = service.ollama_status(request.app.state.providers, preferred)
    if ollama is not None:
        providers["ollama"] = ollama
    return JSONResponse({"providers": providers})


async def auth_validate(request: Request) -> Response:
    # `?provider=` checks that provider (an extension of this server; the Mix API checks only the
    # preferred one, which is also the answer without it or for a name it does not know).
    asked = request.query_params.get("provider", "")
    preferred = asked if asked in catalog.available_providers() else _preferred(request)
    entry = catalog.auth_status(request.app.state.settings.data_dir, preferred).get(preferred)
    if entry is None:
        return JSONResponse({"valid": False, "error": "No preferred provider set", "message": "Choose a provider in preferences"})
    valid = entry["authenticated"]
    return JSONResponse({
        "valid": valid, "provider": preferred, "auth_method": entry["auth_method"],
        "message": f"{preferred} is ready" if valid else f"No credentials stored for {preferred}",
    })


async def delete_credentials(request: Request) -> Response:
    provider = request.path_params["provider"]
    if provider not in catalog.KEYED_PROVIDERS:
        return error(400, f"Unsupported provider '{provider}'", "INVALID_PROVIDER")
    state = request.app.state
    try:
        removed = state.providers.secrets.delete(provider)
    except OSError as exc:
        return error(500, f"Could not delete the key: {exc.strerror}", "DELETION_ERROR")
    message = f"{provider} credentials removed" if removed else f"No stored {provider} credentials"
    if service.after_key_removed(state.providers, state.store, provider):
        message += "; new messages use the offline agent"
    elif removed and state.providers.is_available(provider):
        message += f" (a key from the environment, {SECRET_ENV_VARS.get(provider, '')}, is still in use)"
    return JSONResponse({"status": "success", "provider": provider, "message": message})


# ---------------------------------------------------------------- preferences


async def get_preferences(request: Request) -> Response:
    state = request.app.state
    return JSONResponse({"preferences": state.store.get_preferences(),
                         "available_providers": await service.providers_json(state.providers)})


async def providers(request: Request) -> Response:
    return JSONResponse(await service.providers_json(request.app.state.providers))


async def _validated(registry: Any, update: dict, current: dict) -> dict | Response:
    merged = dict(current)
    for key, value in update.items():
        if key not in PREF_KEYS:
            continue  # lenient decoding, as Go
        merged[key] = value
    problem = await service.check_preferences(registry, update, merged, current)
    if problem is not None:
        return error(400, problem[1], problem[0])
    known_models = {m for name in service.listed(registry) for m in registry.cached_models(name)}
    sub = merged.get("sub_agent_model")
    if not isinstance(sub, str) or not (sub in known_models or registry.known_model(merged["preferred_provider"], sub)):
        return error(400, f"Unknown model '{sub}' for sub_agent_model", "INVALID_MODEL")
    for key in ("main_agent_max_tokens", "sub_agent_max_tokens"):
        value = merged.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return error(400, f"{key} must be a positive integer", "INVALID_TOKEN_COUNT")
    for key in ("main_agent_reasoning_effort", "sub_agent_reasoning_effort"):
        if merged.get(key) not in REASONING_EFFORTS:
            return error(400, f"{key} must be one of low, medium, high or empty", "INVALID_REASONING_EFFORT")
    return merged


async def update_preferences(request: Request) -> Response:
    body = await _lenient_json(request)
    if isinstance(body, Response):
        return body
    store = request.app.state.store
    current = store.get_preferences() or catalog.default_preferences()
    merged = await _validated(request.app.state.providers, body, current)
    if isinstance(merged, Response):
        return merged
    return JSONResponse(store.save_preferences(merged))


async def reset_preferences(request: Request) -> Response:
    return JSONResponse(request.app.state.store.save_preferences(catalog.default_preferences()))


def routes() -> list[Route]:
    return [
        Route("/health", health, methods=["GET", "HEAD"]),
        Route("/api/commands", list_commands, methods=["GET"]),
        Route("/api/commands/{name}", get_command, methods=["GET"]),
        Route("/api/mcp", list_mcp, methods=["GET"]),
        Route("/api/mcp/{name}/restart", restart_mcp, methods=["POST"]),
        Route("/api/tools/status", tools_status, methods=["GET"]),
        Route("/api/auth/api-key", store_api_key, methods=["POST"]),
        Route("/api/auth/oauth/{provider}", oauth_start, methods=["POST"]),
        Route("/api/auth/oauth-callback", oauth_callback, methods=["POST"]),
        Route("/api/auth/status", auth_status, methods=["GET"]),
        Route("/api/auth/validate", auth_validate, methods=["GET"]),
        Route("/api/auth/{provider}", delete_credentials, methods=["DELETE"]),
        Route("/api/preferences", get_preferences, methods=["GET"]),
        Route("/api/preferences", update_preferences, methods=["POST"]),
        Route("/api/preferences/providers", providers, methods=["GET"]),
        Route("/api/preferences/reset", reset_preferences, methods=["POST"]),
    ]
