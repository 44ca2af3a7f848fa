"""A small local server with the Go Mix server's OAuth wire format (PROTOCOL §3.2, rows 7–9), for the
sign-in flow our offline embedded server does not offer: start → {auth_url, state}; the callback
takes {provider, code, state} once (400 INVALID_STATE otherwise) and then reports the provider signed in."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tui.server.run import MixUvicornServer, uvicorn_config

GOOD_CODE = "code-from-the-browser"


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "type": kind}}, status_code=status)


def make_app() -> Starlette:
    states: set[str] = set()
    signed_in: set[str] = set()

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"providers": {
            name: {"authenticated": name in signed_in, "auth_method": "oauth" if name in signed_in else "none",
                   "display_name": label}
            for name, label in (("anthropic", "Anthropic"), ("openai", "OpenAI"))}})

    async def start(request: Request) -> JSONResponse:
        provider = request.path_params["provider"]
        if provider != "anthropic":
            return _error(400, f"OAuth not supported for provider: {provider}", "OAUTH_NOT_SUPPORTED")
        state = secrets.token_hex(8)
        states.add(state)
        return JSONResponse({"auth_url": f"https://claude.example/oauth/authorize?state={state}", "state": state,
                             "message": "Visit the URL to authenticate"})

    async def callback(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("state") not in states:
            return _error(400, "Invalid or expired OAuth state", "INVALID_STATE")
        if body.get("code") != GOOD_CODE:
            return _error(500, "OAuth token exchange failed: invalid_grant", "OAUTH_ERROR")
        states.discard(body["state"])
        signed_in.add(body["provider"])
        return JSONResponse({"status": "success", "provider": body["provider"],
                             "message": "Successfully authenticated with anthropic", "expires_in": 3600})

    return Starlette(routes=[
        Route("/api/auth/status", status, methods=["GET"]),
        Route("/api/auth/oauth/{provider}", start, methods=["POST"]),
        Route("/api/auth/oauth-callback", callback, methods=["POST"]),
    ])


@contextlib.contextmanager
def running_oauth_server() -> Iterator[str]:
    ready = threading.Event()
    server = MixUvicornServer(uvicorn_config(make_app(), "127.0.0.1", 0), on_ready=lambda port: ready.set())
    thread = threading.Thread(target=server.run, name="oauth-fake", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not ready.wait(0.01):
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the OAuth fake did not start")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
