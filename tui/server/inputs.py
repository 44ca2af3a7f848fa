"""Reading what a client sent, safely: no request input may end in a 5xx or a dead stream.

- `InputGuard` (ASGI middleware): caps request bodies (413 in the spec's error shape), answers 4xx
  for the errors only bad input can cause (undecodable text, absurd numbers, too-deep JSON, a file
  name the file system refuses) when a route lets them escape, and ends quietly when the client has
  gone away mid-request.
- `read_json`: strict UTF-8, a nesting limit, and no lone surrogates (they cannot be stored in
  SQLite nor sent as UTF-8 on an SSE stream; one in a slash command used to end every stream of
  its session).
- `int_param`: a query number clamped to a range, never an overflow.
"""

from __future__ import annotations

import errno
import json
import logging
from typing import Any, Awaitable, Callable

from starlette.requests import ClientDisconnect, Request

log = logging.getLogger("tui.server")

MAX_JSON_BYTES = 1024 * 1024  # every JSON route; uploads have their own cap (ServerSettings.max_upload_bytes)
MAX_JSON_DEPTH = 64
UNCAPPED_SUFFIXES = ("/files/upload",)

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BadInput(ValueError):
    """The request cannot be understood; `field` names what was wrong."""

    def __init__(self, field: str, detail: str, status: int = 400) -> None:
        super().__init__(f"Validation error for field '{field}': {detail}")
        self.field, self.detail, self.status = field, detail, status


def error_body(status: int, message: str, kind: str) -> bytes:
    return json.dumps({"error": {"code": status, "message": message, "type": kind}}).encode()


# Errors that only malformed input produces; anything else escaping a route is a real bug (500).
_INPUT_ERRORS = (UnicodeError, RecursionError, OverflowError, BadInput, json.JSONDecodeError)
_INPUT_ERRNOS = {errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL}


def classify(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, message, type) for an error caused by the request's content, else None."""
    if isinstance(exc, BadInput):
        return exc.status, str(exc), "validation_error" if exc.status == 400 else "request_too_large"
    if isinstance(exc, _INPUT_ERRORS):
        return 400, f"Invalid request: {type(exc).__name__}: {_short(exc)}", "bad_request"
    if isinstance(exc, OSError) and exc.errno in _INPUT_ERRNOS:
        return 400, f"Invalid request: {exc.strerror or exc}", "bad_request"
    if isinstance(exc, ValueError) and ("surrogate" in str(exc) or "null character" in str(exc)):
        return 400, f"Invalid request: {_short(exc)}", "bad_request"
    return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"


class InputGuard:
    def __init__(self, app: Any, max_body: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        capped = not scope.get("path", "").endswith(UNCAPPED_SUFFIXES)
        if capped:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body:
                await _send_error(send, 413, f"Request body too large: the limit is {self.max_body} bytes",
                                  "request_too_large")
                return
        seen = 0
        started = False

        async def capped_receive() -> dict:
            nonlocal seen
            message = await receive()
            if capped and message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BadInput("body", f"request body too large: the limit is {self.max_body} bytes", 413)
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except ClientDisconnect:
            return  # nobody is left to answer
        except Exception as exc:
            answer = classify(exc)
            if answer is None or started:
                raise
            log.info("refused bad input on %s %s: %s", scope.get("method"), _printable(scope.get("path", "")),
                     type(exc).__name__)
            await _send_error(send, *answer)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:200]


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers") or ():
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, status: int, message: str, kind: str) -> None:
    body = error_body(status, message, kind)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- reading bodies and parameters


def decode_json(raw: bytes, *, empty: Any = None) -> Any:
    """Parse a JSON body; BadInput for anything that is not sound, storable JSON."""
    if not raw.strip():
        return empty
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body", "invalid JSON: the body is not UTF-8") from None
    if _depth_exceeds(text, MAX_JSON_DEPTH):
        raise BadInput("body", f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInput("body", f"invalid JSON: {exc}") from None
    check_text(value)
    return value


async def read_json(request: Request, *, empty: Any = None) -> Any:
    return decode_json(await request.body(), empty=empty)


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets nest deeper than `limit` (counted outside strings; cheap, no recursion)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def check_text(value: Any, field: str = "body") -> None:
    """BadInput when any string in `value` holds a lone surrogate or a NUL in a key."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise BadInput(field, "text contains a lone surrogate (not valid Unicode)") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def int_param(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A query integer clamped into [minimum, maximum]; the default when absent or not a number."""
    raw = request.query_params.get(name)
    if raw is None or len(raw) > 20:
        return default if raw is None else (maximum if raw.strip().lstrip("+").isdigit() else default)
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(minimum, min(maximum, value)) if value >= minimum else default


def path_text(request: Request, name: str) -> str:
    """A path parameter that is valid Unicode (a lone surrogate or NUL is refused with 400)."""
    value = request.path_params[name]
    if "\x00" in value:
        raise BadInput(name, "contains a NUL character")
    check_text(value, name)
    return value
