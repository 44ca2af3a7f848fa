"""Small helpers shared by the MixerLead screens: one sentence per error, and the client behind
whatever the caller handed over (a client, or the backend that holds one)."""

from __future__ import annotations

from typing import Any

from tui.api.errors import ApiError, RateLimited
from tui.api.mixerlead.client import MixerLeadClient
from tui.api.mixerlead.retry import RetryNotice


def client_of(source: Any) -> MixerLeadClient:
    """A MixerLeadClient, or anything with a `.client` that is one (MixerLeadBackend)."""
    if isinstance(source, MixerLeadClient):
        return source
    client = getattr(source, "client", None)
    if isinstance(client, MixerLeadClient):
        return client
    raise TypeError(f"expected a MixerLeadClient or a MixerLeadBackend, got {type(source).__name__}")


def error_sentence(exc: BaseException, doing: str = "") -> str:
    """What went wrong, in words a person can act on (the server's own sentence first)."""
    prefix = f"Could not {doing}: " if doing else ""
    if isinstance(exc, RateLimited):
        wait = f" Try again in {exc.retry_after:.0f} s." if exc.retry_after else " Wait a moment and try again."
        return f"{prefix}rate limited by MixerLead. {exc.message}{wait}"
    if isinstance(exc, ApiError):
        return prefix + exc.message
    return f"{prefix}unexpected error ({type(exc).__name__}: {exc})"


def retry_sentence(notice: RetryNotice) -> str:
    what = "rate limited" if notice.status == 429 else (f"MixerLead answered {notice.status}" if notice.status else "MixerLead unreachable")
    return f"⏳ {what}; retrying in {notice.wait:.0f} s (attempt {notice.attempt + 1} of {notice.max_attempts})"
