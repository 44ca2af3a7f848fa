"""The Starlette app: sessions, messages, SSE, permissions; files and system routes live in their modules.

`create_app(settings)` wires one Store, Hub, TurnRunner and ProviderRegistry into the routes and keeps
them on `app.state` (`app.state.store`, `.hub`, `.runner`, `.settings`, `.providers`), with the
user's MCP servers (`.mcp`, started with the server and stopped with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import uuid
from datetime import datetime
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.server import catalog, commands, errors, inputs
from tui.server.hub import Hub, encode
from tui.server.protocol import Protocol, Wire, duration_ms, protocol
from tui.server.settings import ServerSettings, default_agent_factory
from tui.server.shapes import message_json, session_json, session_or_404, strict_body
from tui.server.store import SessionRow, Store
from tui.server.turns import TurnRunner

__all__ = ["ServerSettings", "create_app", "default_agent_factory", "message_json", "session_json", "strict_body"]

log = logging.getLogger("tui.server")
SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


# ---------------------------------------------------------------- request helpers


def _state(request: Request) -> Any:
    return request.app.state


def _proto(request: Request) -> Protocol:
    return request.app.state.protocol


# ---------------------------------------------------------------- sessions


async def list_sessions(request: Request) -> Response:
    proto = _proto(request)
    sessions = _state(request).store.list_sessions()  # this server makes no sub-agent sessions to hide
    return JSONResponse([session_json(s, proto, with_first_message=True) for s in sessions])


async def create_session(request: Request) -> Response:
    from tui.server.session_routes import session_options

    proto = _proto(request)
    body = await strict_body(request, proto.create_fields)
    if isinstance(body, Response):
        return body
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return errors.validation("title", "title is required")
    wd = body.get("workingDirectory", "")
    if not isinstance(wd, str):
        return errors.validation("workingDirectory", "must be a string")
    options = session_options(body, proto)
    if isinstance(options, Response):
        return options
    state = _state(request)
    session = state.store.create_session(title.strip(), working_directory=wd, options=options)
    announce_session(state.hub, session)
    return JSONResponse(session_json(session, proto), status_code=201)


def announce_session(hub: Hub, session: SessionRow) -> None:
    hub.publish_all(
        "session_created",
        {"type": "session_created", "sessionId": session.id, "title": session.title, "createdAt": int(session.created_at)},
    )


async def get_session(request: Request) -> Response:
    session = session_or_404(request)
    return session if isinstance(session, Response) else JSONResponse(session_json(session, _proto(request)))


async def rename_session(request: Request) -> Response:
    """Extension (not in the seed spec): PATCH {title}."""
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    body = await strict_body(request, {"title"})
    if isinstance(body, Response):
        return body
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return errors.validation("title", "title is required")
    state = _state(request)
    state.store.rename_session(session.id, title.strip())
    return JSONResponse(session_json(state.store.get_session(session.id), _proto(request)))


async def delete_session(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    state = _state(request)
    state.runner.cancel(session.id)
    state.store.delete_session(session.id)
    folder = state.settings.storage_dir / session.id
    if folder.is_dir() and not folder.is_symlink():
        await asyncio.to_thread(shutil.rmtree, folder, True)
    state.hub.publish_all("session_deleted", {"type": "session_deleted", "sessionId": session.id})
    state.hub.close_session(session.id)
    return Response(status_code=204)


async def fork_session(request: Request) -> Response:
    body = await strict_body(request, {"messageIndex", "title"})
    if isinstance(body, Response):
        return body
    index = body.get("messageIndex")
    if not isinstance(index, int) or isinstance(index, bool):
        return errors.validation("messageIndex", "messageIndex is required and must be an integer")
    if index < 0:
        return errors.validation("messageIndex", "message index must be >= 0")
    title = body.get("title") or "Forked Session"
    if not isinstance(title, str):
        return errors.validation("title", "must be a string")
    state = _state(request)
    forked = state.store.fork_session(request.path_params["id"], index, title)
    if forked is None:
        return errors.not_found("Session", request.path_params["id"])
    announce_session(state.hub, forked)
    return JSONResponse(session_json(forked, _proto(request)), status_code=201)


async def cancel_session(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    running = _state(request).runner.cancel(session.id)
    # The spec's {cancelled}; Go's {status, sessionId} too, for clients written against it.
    return JSONResponse({"cancelled": running, "status": "cancelled", "sessionId": session.id})


# ---------------------------------------------------------------- messages


async def list_messages(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    proto = _proto(request)
    return JSONResponse([message_json(m, proto) for m in _state(request).store.list_messages(session.id)])


def _message_text(body: dict) -> tuple[str, bool] | Response:
    if "content" in body and "text" in body:
        return errors.validation("body", "send either 'content' or 'text', not both")
    key = "text" if "text" in body else "content"
    text = body.get(key)
    if not isinstance(text, str) or not text.strip():
        return errors.validation(key, f"{key} is required")
    plan_mode = body.get("plan_mode", False)
    if not isinstance(plan_mode, bool):
        return errors.validation("plan_mode", "must be true or false")
    if body.get("thinking_level") not in THINKING_LEVELS:
        return errors.validation("thinking_level", "must be one of off, basic, medium, maximum")
    steps = body.get("max_steps", 1)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        return errors.validation("max_steps", "must be an integer >= 1")
    return text, plan_mode


THINKING_LEVELS = (None, "off", "basic", "medium", "maximum")


async def send_message(request: Request) -> Response:
    session = session_or_404(request)
    if isinstance(session, Response):
        return session
    proto = _proto(request)
    body = await strict_body(request, proto.send_fields)
    if isinstance(body, Response):
        return body
    parsed = _message_text(body)
    if isinstance(parsed, Response):
        return parsed
    text, plan_mode = parsed
    state = _state(request)
    mode = state.settings.send_mode or ("async" if proto.send_accepted else "sync")
    accepted = JSONResponse({"status": "processing", "sessionId": session.id}, status_code=202)

    if text.startswith("/"):
        outcome = commands.run_slash(state, session.id, text)
        state.hub.publish(session.id, outcome.event, outcome.data)
        if not outcome.ok and outcome.name in commands.COMMANDS:
            return errors.error(500, outcome.data["error"], "internal_error")
        if not outcome.ok:
            return errors.error(404, f"{outcome.data['error']}. Available commands: {', '.join(commands.names())}", "not_found")
        if mode == "async":
            return accepted  # the command's output went out as the `complete` event
        return JSONResponse(
            {"id": f"cmd-{outcome.name}", "sessionId": session.id, "role": "assistant", "userInput": text,
             "assistantResponse": outcome.data["content"]}
        )

    task = state.runner.submit(session.id, text, plan_mode)
    if mode == "async":
        return accepted
    result = await asyncio.shield(task)
    if not result.ok:
        return errors.error(500, str(result.data.get("error", "the turn failed")), "internal_error")
    final_id = result.data.get("messageId") or (result.message_ids[-1] if result.message_ids else str(uuid.uuid4()))
    reply: dict[str, Any] = {
        "id": final_id, "sessionId": session.id, "role": "assistant", "userInput": text,
        "assistantResponse": result.data.get("content", ""),
    }
    if result.data.get("reasoning"):
        reply["reasoning"] = result.data["reasoning"]
    if result.data.get("reasoningDuration") is not None:
        reply["reasoningDuration"] = duration_ms(float(result.data["reasoningDuration"]))
    return JSONResponse(reply)


async def message_history(request: Request) -> Response:
    limit = inputs.int_param(request, "limit", 50, 1, 1000)
    offset = inputs.int_param(request, "offset", 0, 0, 2**62)
    proto = _proto(request)
    return JSONResponse([message_json(m, proto) for m in _state(request).store.user_history(limit, offset)])


# ---------------------------------------------------------------- permissions


def _answer_permission(request: Request, granted: bool) -> Response:
    """The spec's {granted}/{denied}, plus Go's {status, id, message}; 404 (the spec's only refusal)
    when nothing waits on the id: never issued, or already answered (a permission is answered once)."""
    pid = request.path_params["id"]
    answer = _state(request).runner.permissions.resolve(pid, granted)
    if answer == "unknown":
        return errors.not_found("Permission", pid)
    if answer == "answered":
        return errors.error(404, f"Permission '{pid}' was already answered", "not_found")
    word = "granted" if granted else "denied"
    return JSONResponse({word: True, "status": word, "id": pid, "message": f"Permission {word} successfully"})


async def grant_permission(request: Request) -> Response:
    return _answer_permission(request, True)


async def deny_permission(request: Request) -> Response:
    return _answer_permission(request, False)


# ---------------------------------------------------------------- streaming


async def stream(request: Request) -> Response:
    sid = request.query_params.get("sessionId", "")
    if not sid:
        return errors.validation("sessionId", "sessionId is required")
    state = _state(request)
    if not state.store.session_exists(sid):
        return errors.not_found("Session", sid)  # both specs: 404 (Go: one `error` event, then the end)
    conn = state.hub.register(sid)
    # Only for a client that asks (`resume=1`, mix-tui's own): an SDK that knows only the spec's events
    # would stop at this one.
    asks = state.settings.extensions and request.query_params.get("resume") == "1"
    running = state.runner.in_progress(sid) if asks else None
    if running is not None:  # joined mid-turn: what already streamed, then the live events (none twice)
        for call in running["tools"]:
            call["name"] = state.protocol.tool_name(call["name"])  # as the live events name it
        conn.put("turn_in_progress", encode(running))
    return StreamingResponse(state.hub.stream(conn), media_type="text/event-stream", headers=SSE_HEADERS)


async def stream_message(request: Request) -> Response:
    """Seed-era streaming send (PROTOCOL §4.2): the turn's events go to the session's SSE connections."""
    try:
        body = await inputs.read_json(request)
    except inputs.BadInput:
        return errors.validation("body", "Invalid JSON in request body")
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, str) or not content.strip():
        return errors.validation("content", "Missing content parameter")
    sid = request.path_params["id"]
    state = _state(request)
    if not state.store.session_exists(sid):
        return errors.not_found("Session", sid)
    text, plan_mode = content, False
    with contextlib.suppress(ValueError):
        inner = inputs.decode_json(content.encode("utf-8"))
        if isinstance(inner, dict) and isinstance(inner.get("text"), str):
            text, plan_mode = inner["text"], inner.get("plan_mode") is True
    if text.startswith("/"):
        outcome = commands.run_slash(state, sid, text)
        state.hub.publish(sid, outcome.event, outcome.data)
    else:
        state.runner.submit(sid, text, plan_mode)
    return JSONResponse({"status": "broadcasted", "sessionId": sid})


# ---------------------------------------------------------------- the app


def create_app(settings: ServerSettings) -> Starlette:
    from tui.server import files, permission_rules, security, system
    from tui.server.mcp import McpManager
    from tui.server.mcp.spec import secret_lookup
    from tui.server.sandbox import Sandbox
    from tui.server.providers import service
    from tui.server.providers.registry import ProviderRegistry
    from tui.server.providers.router import ProviderRouter

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path)
    interrupted = store.close_interrupted()
    if interrupted:
        log.warning("closed %d turn(s) interrupted by the previous server's end", interrupted)
    if store.get_preferences() is None:
        store.save_preferences(catalog.default_preferences())
    providers = ProviderRegistry(catalog.secrets(settings.data_dir), settings.config)
    agent_factory = settings.agent_factory
    if agent_factory is default_agent_factory:
        # The real default: each turn runs on the provider the preferences choose (offline when none).
        service.adopt_configured_at_start(providers, store)
        agent_factory = lambda: ProviderRouter(providers, store.get_preferences, on_choice=store.set_session_model)  # noqa: E731
    proto = protocol(settings.protocol)
    hub = Hub(heartbeat=settings.heartbeat, max_age=settings.stream_max_age, wire=Wire(proto))
    runner = TurnRunner(
        store, hub, settings.storage_dir, agent_factory=agent_factory,
        chunk_delay=settings.agent_delay, permission_timeout=settings.permission_timeout,
        sandbox=Sandbox.detect(settings.config.embedded.shell_sandbox, settings.config.embedded.shell_network),
    )
    mcp = McpManager(settings.mcp_servers, secret_lookup(os.environ, catalog.secrets(settings.data_dir).get),
                     **settings.mcp_options)
    runner.external_tools = mcp
    runner.permissions.rules = permission_rules.PermissionRules(settings.data_dir / "permission_rules.json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        mcp.start()  # in the background: start-up does not wait for any MCP server
        try:
            yield
        finally:
            hub.close_all()
            await runner.shutdown()  # cancelled turns still store their partial answers
            await mcp.stop()
            await providers.aclose()
            store.close()

    from tui.server import notifications, session_routes, spec_routes

    routes = [
        Route("/api/sessions", list_sessions, methods=["GET"]),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/sessions/{id}", get_session, methods=["GET"]),
        Route("/api/sessions/{id}", delete_session, methods=["DELETE"]),
        Route("/api/sessions/{id}/cancel", cancel_session, methods=["POST"]),
        Route("/api/sessions/{id}/messages", list_messages, methods=["GET"]),
        Route("/api/sessions/{id}/messages", send_message, methods=["POST"]),
        Route("/api/messages/history", message_history, methods=["GET"]),
        Route("/api/permissions/{id}/grant", grant_permission, methods=["POST"]),
        Route("/api/permissions/{id}/deny", deny_permission, methods=["POST"]),
        Route("/stream", stream, methods=["GET"]),
        *files.routes(),
        *system.routes(),
        *session_routes.routes(proto),
        *spec_routes.routes(proto),
        *permission_rules.routes(),  # extension: standing answers (this session / this folder), F9 lists them
    ]
    if proto.has("notifications"):
        routes += notifications.routes()
    if proto.has("stream_message"):
        routes.append(Route("/stream/{id}/message", stream_message, methods=["POST"]))
    if proto.has("fork") or settings.extensions:  # fork left the latest spec; we keep it as an extension
        routes.append(Route("/api/sessions/{id}/fork", fork_session, methods=["POST"]))
    if settings.extensions:
        routes.append(Route("/api/sessions/{id}", rename_session, methods=["PATCH"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.hub = hub
    app.state.runner = runner
    app.state.providers = providers
    app.state.mcp = mcp
    app.state.protocol = proto
    app.add_middleware(inputs.InputGuard)
    app.add_middleware(security.LoopbackGuard, token=settings.token)
    return app
