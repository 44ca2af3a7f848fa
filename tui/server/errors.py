"""Error responses in the shapes Mix clients parse (PROTOCOL §1)."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse


def error(status: int, message: str, kind: str) -> JSONResponse:
    """`{"error":{"code","message","type"}}`; `kind` is lower-case for generic errors and an upper-case
    code (e.g. INVALID_PROVIDER) for the auth, preferences and tools endpoints, as Go does."""
    return JSONResponse({"error": {"code": status, "message": message, "type": kind}}, status_code=status)


def not_found(resource: str, ident: str) -> JSONResponse:
    return error(404, f"{resource} with ID '{ident}' not found", "not_found")


def validation(field: str, detail: str) -> JSONResponse:
    return error(400, f"Validation error for field '{field}': {detail}", "validation_error")


def bad_request(message: str) -> JSONResponse:
    return error(400, message, "bad_request")


def plain(status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=status)
