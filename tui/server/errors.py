"""Error responses in the shapes Mix clients parse (PROTOCOL §1)."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse


SPEC_TYPES = ("bad_request", "not_found", "internal_error", "unauthorized", "validation_error")


def spec_type(status: int, kind: str) -> str:
    """The spec's `type` enum for an error; Go's upper-case codes fold into it by status."""
    if kind in SPEC_TYPES:
        return kind
    if status == 401:
        return "unauthorized"
    if status == 404:
        return "not_found"
    if status >= 500:
        return "internal_error"
    return "validation_error" if kind.startswith(("INVALID", "MISSING")) else "bad_request"


def error(status: int, message: str, kind: str) -> JSONResponse:
    """`{"error":{"code","message","type"}}` with `type` from the spec's enum. Where Go uses an
    upper-case code (INVALID_PROVIDER, OAUTH_NOT_SUPPORTED, … in the auth, preferences and tools
    handlers) that code is kept as `error.reason`; `type` says the spec's kind."""
    body: dict = {"code": status, "message": message, "type": spec_type(status, kind)}
    if body["type"] != kind:
        body["reason"] = kind
    return JSONResponse({"error": body}, status_code=status)


def not_found(resource: str, ident: str) -> JSONResponse:
    return error(404, f"{resource} with ID '{ident}' not found", "not_found")


def validation(field: str, detail: str) -> JSONResponse:
    return error(400, f"Validation error for field '{field}': {detail}", "validation_error")


def bad_request(message: str) -> JSONResponse:
    return error(400, message, "bad_request")


def plain(status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=status)
