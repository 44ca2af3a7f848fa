"""MixerLead errors, mapped onto the shared hierarchy of tui/api/errors.py.

The documented body is `{"error": "<a sentence for people>"}`; that sentence is kept verbatim in
`server_message` and starts every `message`. Statuses where the user must act get one more
sentence saying what to do. Bodies that are not that JSON (an HTML proxy page, nothing) give a
plain description of the status instead of the raw body.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

from tui.api.errors import (
    ApiError,
    AuthRequired,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    PlanLimit,
    RateLimited,
    ServerError,
)

REASONS = {
    400: "the request was not valid",
    401: "the API key was not accepted",
    403: "not allowed on this plan",
    404: "not found",
    405: "that method is not allowed here",
    409: "it already exists",
    413: "the upload is too large",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}

ADVICE_401 = "Check the MixerLead API key (MIXERLEAD_API_KEY or the saved key); it may be mistyped or revoked."
ADVICE_403 = (
    "MixerLead refused this for your plan, credits or quota, so retrying will not help: "
    "top up credits or upgrade the plan (or pick a model that does not need a paid plan)."
)
ADVICE_404 = "It is not in this workspace or project; check the project id (X-Project-Id)."
ADVICE_413 = "The upload is over MixerLead's size limit or your storage quota: delete unused sources or upgrade the plan."
QUOTA_WORDS = ("quota", "credit", "daily", "per day", "balance")


class MissingApiKey(ApiError):
    action = "credentials"


class Conflict(ServerError):
    """409: it already exists."""


class StreamInterrupted(ApiError):
    """The reply stopped after streaming began (connection lost or an error in the stream).

    Never retried automatically: the message may already have cost credits. `partial` is the
    text received so far."""

    action = "retry"

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


def parse_error_body(body: bytes | str) -> str | None:
    """The `error` sentence of a documented error body, or None when the body is anything else."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("error")
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict):  # not documented, but tolerate {"error": {"message": ...}}
        inner = value.get("message")
        if isinstance(inner, str) and inner.strip():
            return inner.strip()
    message = data.get("message")
    if isinstance(message, str) and message.strip():
        return message.strip()
    return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` in seconds: delta-seconds ("60") or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def seconds_until_utc_midnight(now: float | None = None) -> float:
    """Daily caps reset at 00:00 UTC."""
    current = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - current).total_seconds()


def mentions_quota(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in QUOTA_WORDS)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def error_for(status: int, body: bytes | str, headers: Mapping[str, str] | None = None, *, what: str = "") -> ServerError:
    """The typed error for a non-2xx answer. `what` names the call ("send the message") for context."""
    server_text = parse_error_body(body)
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    headers = headers or {}
    if server_text is None:
        reason = REASONS.get(status, "an error")
        doing = f" while trying to {what}" if what else ""
        server_text = f"MixerLead answered HTTP {status} ({reason}){doing}"
        verbatim = False
    else:
        verbatim = True
    base = _sentence(server_text)
    kw: dict[str, Any] = {"status": status, "body": raw[:2000]}
    if status == 401:
        exc: ServerError = AuthRequired(f"{base} {ADVICE_401}", **kw)
    elif status == 403:
        exc = PlanLimit(f"{base} {ADVICE_403}", **kw)
    elif status == 404:
        exc = NotFound(f"{base} {ADVICE_404}", **kw)
    elif status == 409:
        exc = Conflict(base, **kw)
    elif status == 413:
        exc = PayloadTooLarge(f"{base} {ADVICE_413}", **kw)
    elif status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"))
        exc = RateLimited(base, retry_after=retry_after, **kw)
        # A daily quota may come back as 429 (ERR) rather than 403 (USE): it will not clear in seconds.
        exc.quota = mentions_quota(server_text)  # type: ignore[attr-defined]
    elif 400 <= status < 500 and status not in (405,):
        exc = BadRequest(base, **kw) if status in (400, 422) else ServerError(base, **kw)
    else:
        exc = ServerError(base, **kw)
    exc.server_message = server_text if verbatim else None  # type: ignore[attr-defined]
    return exc
