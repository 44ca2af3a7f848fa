"""Sentences for the person at the keyboard, whatever failed."""

from __future__ import annotations

import re
import unicodedata

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


_TRANSLITERATE = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"})


def slug(text: str) -> str:
    """A file-name-safe stem for a session title: accents folded ("Grüße" -> "grusse", not "gr-e"),
    letters of other scripts kept as they are (file systems take them), everything else a dash."""
    kept: list[str] = []
    for c in unicodedata.normalize("NFKD", text.lower().translate(_TRANSLITERATE)):
        if unicodedata.combining(c) and kept and kept[-1].isascii():
            continue  # an accent on a Latin letter; marks of other scripts (the dakuten of ド) stay
        kept.append(c)
    folded = unicodedata.normalize("NFC", "".join(kept))
    cleaned = re.sub(r"[^\w]+|_", "-", folded).strip("-")
    return cleaned[:40].rstrip("-") or "session"


def title_from(text: str) -> str:
    """The title of a session started by sending `text`."""
    words = " ".join(text.split())
    return words if len(words) <= 48 else words[:47] + "…"
