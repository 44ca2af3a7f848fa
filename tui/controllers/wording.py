"""Sentences for the person at the keyboard, whatever failed."""

from __future__ import annotations

import re

from tui.api.errors import ApiError, RateLimited


def error_text(exc: BaseException) -> str:
    """One sentence for the user, whatever went wrong."""
    if isinstance(exc, RateLimited):
        wait = f" Try again in {exc.retry_after:.0f} s." if exc.retry_after else " Wait a moment and try again."
        return f"Rate limited: {exc.message}.{wait}".replace("..", ".")
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, NotImplementedError):
        return "This server does not support that."
    return f"Unexpected error: {exc}" if str(exc) else f"Unexpected error: {type(exc).__name__}"


def slug(text: str) -> str:
    """A file-name-safe stem for a session title."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned[:40] or "session"


def title_from(text: str) -> str:
    """The title of a session started by sending `text`."""
    words = " ".join(text.split())
    return words if len(words) <= 48 else words[:47] + "…"
