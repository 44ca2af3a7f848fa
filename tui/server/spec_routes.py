"""Latest-spec system routes: system info, OAuth health and token refresh, the LLM tool list and the
tool credentials status. This server signs in with API keys only, so the OAuth routes report that
no OAuth credentials exist rather than pretend."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.server import catalog
from tui.server.protocol import Protocol


async def system_info(request: Request) -> Response:
    """Where session files live; `server` and `protocol` say which server this is (extension keys)."""
    from tui import __version__

    state = request.app.state
    return JSONResponse({"storageBasePath": str(state.settings.storage_dir.resolve()),
                         "server": f"mix-tui {__version__}", "protocol": state.protocol.name})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def oauth_health(request: Request) -> Response:
    """No provider here holds OAuth tokens: each is `not_found`, which is healthy (nothing expires)."""
    providers = {name: {"provider": name, "status": "not_found"}
                 for name, spec in catalog.available_providers().items() if spec.key_pattern is not None}
    return JSONResponse({"status": "healthy", "providers": providers, "timestamp": _now()})


async def refresh_tokens(request: Request) -> Response:
    return JSONResponse({"status": "success", "message": "No OAuth tokens to refresh: this server uses API keys only"})


async def llm_tools(request: Request) -> Response:
    from tui.server.agent.tools import SPECS_BY_NAME

    proto = request.app.state.protocol
    tools = []
    for tool in catalog.agent_tools(request.app.state.runner.agent):
        spec = SPECS_BY_NAME.get(tool["name"])
        schema = spec.input_schema if spec is not None else {"type": "object", "properties": {}}
        tools.append({"name": proto.tool_name(tool["name"]), "description": tool["description"],
                      "parameters": schema, "required": list(schema.get("required", []))})
    return JSONResponse({"tools": tools})


async def credentials_status(request: Request) -> Response:
    """The provider keys the agent's models use; the offline agent's own tools need none."""
    state = request.app.state
    status = catalog.auth_status(state.settings.data_dir, "")
    providers = catalog.available_providers()
    keyed = [name for name in status if providers[name].key_pattern is not None]
    return JSONResponse({"categories": {
        "llm": {
            "display_name": "Model providers", "description": "API keys of hosted model providers", "icon": "key",
            "tools": [{"provider": name, "display_name": providers[name].display_name,
                       "description": f"{providers[name].display_name} models", "api_key_required": True,
                       "authenticated": status[name]["authenticated"]} for name in keyed],
        },
    }})


def routes(proto: Protocol) -> list[Route]:
    out = []
    if proto.has("system_info"):
        out.append(Route("/api/system/info", system_info, methods=["GET"]))
    if proto.has("oauth_health"):
        out += [Route("/health/auth", oauth_health, methods=["GET"]),
                Route("/internal/auth/refresh-tokens", refresh_tokens, methods=["POST"])]
    if proto.has("llm_tools"):
        out += [Route("/api/tools", llm_tools, methods=["GET"]),
                Route("/api/tools/credentials-status", credentials_status, methods=["GET"])]
    return out
