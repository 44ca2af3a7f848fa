"""One error hierarchy for every backend. Each message is a sentence a person can act on."""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error a backend client raises."""

    #: what the user can do about it: "retry", "wait", "credentials", "fix-input", or "" (nothing obvious)
    action: str = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConnectionFailed(ApiError):
    """The server could not be reached, or the connection dropped."""

    action = "retry"


class Timeout(ApiError):
    action = "retry"


class ServerError(ApiError):
    """The server answered with an error status. `code`/`type` are the server's own, when it gave them."""

    def __init__(self, message: str, *, status: int, code: str | int | None = None, type: str | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.type = type
        self.body = body


class BadRequest(ServerError):
    action = "fix-input"


class NotFound(ServerError):
    pass


class AuthRequired(ServerError):
    """401: missing or rejected credentials."""

    action = "credentials"


class MethodNotAllowed(ServerError):
    """405: the server has the path but not this method (an older or different server)."""


class PlanLimit(ServerError):
    """403: the account's plan or quota does not allow this; retrying will not help."""

    action = "credentials"


class PayloadTooLarge(ServerError):
    action = "fix-input"


class RateLimited(ServerError):
    """429 (or 503 where the API says so). `retry_after` is in seconds, when the server said."""

    action = "wait"

    def __init__(self, message: str, *, status: int = 429, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, status=status, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProtocolError(ApiError):
    """The server sent something we could not understand (not JSON where JSON was promised, ...)."""
