"""Who may talk to the server: loopback only, no DNS rebinding, no cross-site calls, optional token.

The server's agent can write files and run commands, so a web page in the user's browser must not
reach it:
- the Host header must name the loopback address and port this server listens on (a rebinding
  attack arrives with the attacker's host name) -> else 403;
- an Origin header, when present, must be that same loopback origin -> else 403;
- no CORS headers at all (Go answers `Access-Control-Allow-Origin: *`; we deliberately do not);
- with a token configured, every request needs `Authorization: Bearer <token>` -> else 401.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def allowed_hosts(port: int) -> set[str]:
    return {f"{h}:{port}" for h in LOOPBACK_HOSTS}


class LoopbackGuard:
    def __init__(self, app: Any, token: str | None = None) -> None:
        self.app = app
        self.token = token
        self._expected_auth = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_headers = scope.get("headers") or []
        server = scope.get("server") or ("", 0)
        port = server[1] if server else 0
        hosts = allowed_hosts(port)
        host_values = [v.decode("latin-1").lower() for k, v in raw_headers if k == b"host"]
        # Exactly one Host, and it names us: with two, a proxy and this server may each read a different one.
        if len(host_values) != 1 or host_values[0] not in hosts:
            await _reject(send, 403, "forbidden", "Host not allowed: this server only answers on its loopback address")
            return
        origins = {f"http://{h}" for h in hosts}
        # Every Origin must be ours (a browser sends one; several mean someone is probing which one we read).
        if any(v.decode("latin-1").lower() not in origins for k, v in raw_headers if k == b"origin"):
            await _reject(send, 403, "forbidden", "Cross-origin requests are not allowed")
            return
        if self._expected_auth is not None:
            auth_values = [v for k, v in raw_headers if k == b"authorization"]
            given = auth_values[0] if len(auth_values) == 1 else b""
            if not hmac.compare_digest(given, self._expected_auth):
                await _reject(send, 401, "unauthorized", "Missing or invalid bearer token")
                return
        await self.app(scope, receive, send)


async def _reject(send: Send, status: int, kind: str, message: str) -> None:
    body = json.dumps({"error": {"code": status, "message": message, "type": kind}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
