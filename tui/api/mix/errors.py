"""Mix errors on the shared hierarchy (tui/api/errors.py), with sentences a person can act on.

The server's error body is `{"error":{"code","message","type"}}` for REST handlers (`type`
lower-case like `not_found`, or an upper-case code like `INVALID_PROVIDER` for auth/preferences/
tools), Go's plain text for a few paths (405, `/stream/{id}/message`, thumbnails), or nothing.
`message` is what the server said when it said something; otherwise a description of the status.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

import httpx

from tui.api.errors import (
    ApiError,
    AuthRequired,
    BadRequest,
    MethodNotAllowed,
    ConnectionFailed,
    NotFound,
    PayloadTooLarge,
    PlanLimit,
    ProtocolError,
    RateLimited,
    ServerError,
    Timeout,
)

__all__ = [
    "ApiError", "AuthRequired", "BadRequest", "ConnectionFailed", "MethodNotAllowed", "NotFound", "PayloadTooLarge",
    "PlanLimit", "ProtocolError", "RateLimited", "ServerError", "Timeout", "from_response", "from_transport",
    "parse_error_body", "retry_after_seconds",
]

REASONS = {
    400: "the request was not valid",
    401: "the server wants a valid token",
    403: "the server refused the request",
    404: "not found",
    405: "this server does not support that call",
    409: "conflict",
    413: "the upload is too large",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def parse_error_body(body: bytes | str) -> tuple[str, str | int | None, str | None]:
    """(message, code, type) from a JSON error envelope or plain text; message "" when empty."""
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    text = text.strip()
    if not text:
        return "", None, None
    if text[:1] in "{[":
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                msg = err.get("message") or err.get("error") or ""
                # `reason`: the embedded server's Go-style code (INVALID_PROVIDER) beside the spec's `type`
                return str(msg), err.get("code"), _opt(err.get("reason")) or _opt(err.get("type"))
            if isinstance(err, str):
                return err, data.get("code"), _opt(data.get("type"))
            if isinstance(data.get("message"), str):
                return data["message"], data.get("code"), _opt(data.get("type"))
            if isinstance(data.get("detail"), str):
                return data["detail"], None, None
    if text.lower().startswith(("<!doctype", "<html")):
        return "", None, None  # a proxy's page says nothing useful
    return text[:500], None, None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def from_response(response: httpx.Response, base_url: str, what: str = "") -> ServerError:
    status = response.status_code
    message, code, kind = parse_error_body(response.content)
    reason = REASONS.get(status, f"HTTP {status}")
    lead = f"Mix server at {base_url}"
    doing = f" ({what})" if what else ""
    said = message or reason
    text = f"{lead} answered {status}{doing}: {said}"
    if status == 401:
        text += ". The server needs a token: check the server address and its token."
    kw: dict[str, Any] = {"status": status, "code": code, "type": kind, "body": response.text[:2000]}
    if status == 429 or (kind or "").lower() == "rate_limit_error":
        return RateLimited(text, retry_after=retry_after_seconds(response.headers), **kw)
    cls = {400: BadRequest, 401: AuthRequired, 403: PlanLimit, 404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}.get(status)
    if cls is None:
        cls = BadRequest if 400 <= status < 500 and status not in (408,) else ServerError
    err = cls(text, **kw)
    err.server_message = message  # type: ignore[attr-defined]
    return err


def _chain(exc: BaseException) -> list[str]:
    """The messages of an exception and its causes (httpx hides "connection refused" one level down)."""
    out, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return out


def _refused(exc: BaseException) -> bool:
    cur: BaseException | None = exc
    for _ in range(10):
        if cur is None:
            return False
        if isinstance(cur, ConnectionRefusedError):
            return True
        if isinstance(cur, OSError) and getattr(cur, "errno", None) == 111:
            return True
        if isinstance(cur, BaseExceptionGroup) and any(_refused(e) for e in cur.exceptions):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def from_transport(exc: httpx.HTTPError, base_url: str, what: str = "") -> ApiError:
    doing = f" while {what}" if what else ""
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return Timeout(f"Mix server at {base_url} did not accept the connection in time{doing}")
        return Timeout(f"Mix server at {base_url} did not answer in time{doing}")
    if isinstance(exc, httpx.ConnectError):
        detail = " ".join(_chain(exc)).lower()
        if "refused" in detail or "errno 111" in detail or "connect call failed" in detail or _refused(exc):
            return ConnectionFailed(f"Mix server at {base_url} refused the connection{doing}: is it running?")
        if "name" in detail and ("resolve" in detail or "known" in detail):
            return ConnectionFailed(f"Mix server at {base_url} could not be found (unknown host name){doing}")
        return ConnectionFailed(f"Could not connect to the Mix server at {base_url}{doing}: {exc or type(exc).__name__}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return ConnectionFailed(f"The connection to the Mix server at {base_url} dropped{doing}")
    return ConnectionFailed(f"Talking to the Mix server at {base_url} failed{doing}: {exc or type(exc).__name__}")
