"""Mixpeek errors: the shared hierarchy of tui/api/errors.py, carrying the envelope's type, message,
code and details, with one human sentence per status.

Envelope: {"success": false, "status": N, "error": {"type", "message", "code"?, "details"?}}.
Also parsed: FastAPI's 422 {"detail": [{"loc", "msg", "type"}]} and the older {"detail": {"error": {...}}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tui.api.errors import AuthRequired, BadRequest, NotFound, PlanLimit, RateLimited, ServerError


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422's validation errors: where (e.g. "body.bucket_schema") and what is wrong."""

    location: str
    message: str
    type: str = ""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class Envelope:
    """The parts of an error body a person or the retry logic needs."""

    type: str = ""
    message: str = ""
    code: str = ""
    details: dict[str, Any] | None = None
    field_errors: tuple[FieldError, ...] = ()

    @property
    def retryable(self) -> bool | None:
        value = (self.details or {}).get("retryable")
        return value if isinstance(value, bool) else None

    @property
    def retry_after_seconds(self) -> float | None:
        details = self.details or {}
        for key in ("retry_after_seconds", "retry_after"):
            value = details.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return float(value)
        return None


def _loc(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ".".join(str(p) for p in value)
    return "" if value is None else str(value)


def _field_errors(items: Any) -> tuple[FieldError, ...]:
    out: list[FieldError] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            out.append(
                FieldError(
                    location=_loc(item.get("location", item.get("loc"))),
                    message=str(item.get("message") or item.get("msg") or ""),
                    type=str(item.get("type") or ""),
                )
            )
    return tuple(out)


def parse_envelope(body: bytes | str) -> Envelope:
    """Read whichever error shape the server used; an unreadable body gives an empty Envelope."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return Envelope()
    if not isinstance(data, dict):
        return Envelope()
    error = data.get("error")
    detail = data.get("detail")
    if not isinstance(error, dict) and isinstance(detail, dict) and isinstance(detail.get("error"), dict):
        error = detail["error"]  # the older {"detail": {"error": {...}}}
    if isinstance(error, dict):
        details = error.get("details") if isinstance(error.get("details"), dict) else None
        return Envelope(
            type=str(error.get("type") or ""),
            message=str(error.get("message") or ""),
            code=str(error.get("code") or ""),
            details=details,
            field_errors=_field_errors((details or {}).get("validation_errors")),
        )
    if isinstance(detail, list):  # FastAPI validation shape
        fields = _field_errors(detail)
        return Envelope(type="ValidationError", message="; ".join(map(str, fields)), field_errors=fields)
    if isinstance(detail, str):
        return Envelope(message=detail)
    return Envelope()


class MixpeekError(ServerError):
    """Any error status from Mixpeek. `message` is the human sentence; the server's own words are kept
    in `server_message`, its class in `type`, its fine code in `code`, and `details` as sent."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        envelope: Envelope | None = None,
        body: str = "",
        request_id: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        envelope = envelope or Envelope()
        ServerError.__init__(self, message, status=status, code=envelope.code or None, type=envelope.type or None, body=body)
        self.envelope = envelope
        self.server_message = envelope.message
        self.details = dict(envelope.details or {})
        self.field_errors = list(envelope.field_errors)
        self.request_id = request_id
        self.method = method
        self.path = path


class MixpeekBadRequest(MixpeekError, BadRequest):
    """400."""


class MixpeekValidationError(MixpeekError, BadRequest):
    """422: a field is missing, of the wrong type, or not declared by the schema (`extra_forbidden`)."""


class MixpeekAuthError(MixpeekError, AuthRequired):
    """401, or 403 with type UnauthorizedError: the key is missing or rejected."""


class MixpeekForbidden(MixpeekError, PlanLimit):
    """403 (ForbiddenError, QuotaExceededError, NotEnabledError): the key may not do this (scope, plan,
    quota, feature not enabled)."""


class MixpeekNotFound(MixpeekError, NotFound):
    """404: often a wrong X-Namespace rather than a missing thing."""


class MixpeekConflict(MixpeekError):
    """409: the name is taken, or a unique-key insert collided."""

    action = "fix-input"


class MixpeekRateLimited(MixpeekError, RateLimited):
    """429 (or 503) that was still failing after the retry policy gave up, or was marked not retryable."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        MixpeekError.__init__(self, message, **kw)
        self.retry_after = retry_after


class MixpeekUnavailable(MixpeekRateLimited):
    """503: Mixpeek's inference service is unavailable for now."""


class MixpeekServerFailure(MixpeekError):
    """500 and other statuses: a fault on Mixpeek's side."""

    action = "retry"


class UploadStorageError(MixpeekError):
    """The PUT to the presigned storage URL failed (its body is S3's XML, not the Mixpeek envelope)."""

    action = "retry"


class PresignedUrlExpired(UploadStorageError):
    """S3 refused the PUT because the presigned URL expired: only a new upload (a new URL) can work."""


def _validation_sentence(envelope: Envelope) -> str:
    if not envelope.field_errors:
        return "Mixpeek rejected the request as invalid"
    shown = "; ".join(str(f) for f in envelope.field_errors[:3])
    more = f" (and {len(envelope.field_errors) - 3} more)" if len(envelope.field_errors) > 3 else ""
    return f"Mixpeek rejected the request: {shown}{more}"


# The documented error types that say the key itself was refused, whatever the status (the docs list
# UnauthorizedError under 401 in one place and 403 in another).
AUTH_TYPES = frozenset({"UnauthorizedError", "AuthenticationError", "InvalidApiKeyError"})


def is_auth_failure(status: int, envelope: Envelope) -> bool:
    return status == 401 or (status == 403 and envelope.type in AUTH_TYPES)


def explain(status: int, envelope: Envelope, *, namespace: str | None = None) -> str:
    """One sentence a person can act on, followed by the server's own type and message."""
    if is_auth_failure(status, envelope):
        head = "Mixpeek did not accept the API key; set MIXPEEK_API_KEY or save a key in the credentials"
    elif status == 403:
        if envelope.type == "QuotaExceededError":
            head = "Your Mixpeek plan's quota is used up for this resource"
        elif envelope.type == "NotEnabledError":
            head = "This Mixpeek feature is not enabled for your organization"
        else:
            head = "This Mixpeek key is not allowed to do that (its scope or plan forbids it)"
    elif status == 404:
        where = f" '{namespace}'" if namespace else ""
        head = f"Mixpeek could not find it; check that the namespace{where} is the right one"
    elif status == 409:
        head = "That already exists in Mixpeek; pick another name"
    elif status == 422:
        head = _validation_sentence(envelope)
    elif status == 408:
        head = "Mixpeek took too long to answer; try again"
    elif status == 400:
        head = "Mixpeek could not use the request"
    elif status == 429:
        head = "Mixpeek is rate limiting this key; wait a moment and try again"
    elif status == 503:
        head = "Mixpeek's processing service is unavailable right now; try again shortly"
    elif status >= 500:
        head = f"Mixpeek had an internal problem (HTTP {status}); try again"
    else:
        head = f"Mixpeek answered HTTP {status}"
    server = " — ".join(p for p in (envelope.type, envelope.message, _details_text(envelope.details)) if p)
    if server and status != 422:
        return f"{head}. ({server})"
    return f"{head}."


# Details the sentence already covers, or that say nothing to a person.
_QUIET_DETAILS = {"validation_errors", "retryable", "retry_after", "retry_after_seconds", "api_name", "window"}


def _details_text(details: dict[str, Any] | None, limit: int = 4) -> str:
    """The envelope's details as "key=value" pairs (scalars only, at most `limit`), e.g. a quota's
    resource, current use and limit."""
    if not details:
        return ""
    pairs = [
        f"{k}={v}"
        for k, v in details.items()
        if k not in _QUIET_DETAILS and isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v)
    ]
    return ", ".join(pairs[:limit])


_BY_STATUS: dict[int, type[MixpeekError]] = {
    400: MixpeekBadRequest,
    401: MixpeekAuthError,
    403: MixpeekForbidden,
    404: MixpeekNotFound,
    409: MixpeekConflict,
    422: MixpeekValidationError,
    429: MixpeekRateLimited,
    503: MixpeekUnavailable,
}


def error_for(
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    namespace: str | None = None,
    request_id: str = "",
    method: str = "",
    path: str = "",
) -> MixpeekError:
    envelope = parse_envelope(body)
    cls = _BY_STATUS.get(status) or (MixpeekServerFailure if status >= 500 or status == 408 else MixpeekBadRequest)
    if is_auth_failure(status, envelope):
        cls = MixpeekAuthError  # a refused key, not a plan or scope limit: named by its documented type
    text = body.decode("utf-8", "replace")[:2000] if isinstance(body, bytes) else str(body)[:2000]
    kw: dict[str, Any] = dict(status=status, envelope=envelope, body=text, request_id=request_id, method=method, path=path)
    if issubclass(cls, MixpeekRateLimited):
        kw["retry_after"] = retry_after if retry_after is not None else envelope.retry_after_seconds
    return cls(explain(status, envelope, namespace=namespace), **kw)
