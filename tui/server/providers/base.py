"""The one interface every model provider implements, and the neutral conversation it is fed.

A provider turns a conversation (`ChatMessage`s) plus tool specs into a stream of `ProviderEvent`s
(text, thinking, tool calls, usage, stop). It knows its own wire format and nothing about Mix;
the agent (`tui.server.providers.agent`) turns those events into Mix events and runs the tools.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol, Union, runtime_checkable

import httpx
from httpx_sse import EventSource, ServerSentEvent

from tui.server.agent.tools import ToolSpec

# ---------------------------------------------------------------------------- conversation


@dataclass
class ToolCall:
    id: str
    name: str
    input: dict


@dataclass
class ToolOutcome:
    """A tool's result as the model reads it."""

    call_id: str
    name: str
    text: str
    is_error: bool = False
    images: list[dict] = field(default_factory=list)  # {"mimeType", "data" (base64)}: MCP tool images


@dataclass
class ThinkingPart:
    """One thinking block as the provider sent it; Anthropic needs it back (signed) while tools run."""

    text: str = ""
    signature: str = ""
    redacted: str = ""  # opaque data of a redacted_thinking block
    details: list[dict] = field(default_factory=list)  # OpenRouter's reasoning_details, sent back as they came


@dataclass
class ChatMessage:
    role: str  # "user", "assistant" or "tool" (tool results)
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    results: list[ToolOutcome] = field(default_factory=list)
    thinking: list[ThinkingPart] = field(default_factory=list)


# ---------------------------------------------------------------------------------- events


@dataclass
class TextDelta:
    text: str


@dataclass
class ThinkingDelta:
    text: str


@dataclass
class ThinkingDone:
    """A finished thinking block (with its signature when the provider signs them)."""

    part: ThinkingPart


@dataclass
class ToolCallStart:
    id: str
    name: str


@dataclass
class ToolCallInputDelta:
    id: str
    partial_json: str


@dataclass
class ToolCallEnd:
    id: str
    name: str
    input: dict
    input_error: str = ""  # set when the streamed arguments were not a JSON object


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None  # when the provider reports the price itself (OpenRouter)


@dataclass
class Stop:
    reason: str  # normalised: end_turn, tool_use, max_tokens, refusal, or the provider's own word


ProviderEvent = Union[TextDelta, ThinkingDelta, ThinkingDone, ToolCallStart, ToolCallInputDelta, ToolCallEnd,
                      Usage, Stop]


# ---------------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """The provider refused or failed; `message` is meant for the user."""

    def __init__(self, message: str, status: int = 0, kind: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.kind = kind  # e.g. authentication_error, overloaded_error, invalid_request_error

    @property
    def retryable(self) -> bool:
        return self.status in (500, 502, 503, 504, 529) or self.kind in ("overloaded_error", "api_error")


class ProviderRateLimited(ProviderError):
    def __init__(self, message: str, retry_after: float | None, status: int = 429) -> None:
        super().__init__(message, status, "rate_limit_error")
        self.retry_after = retry_after  # seconds, None when the provider did not say


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or HTTP date) or a reset header."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw.strip() else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    return None


# ------------------------------------------------------------------------------- validation


@dataclass
class ValidationResult:
    ok: bool
    message: str  # one sentence for the user
    checked_online: bool  # False: only the format was checked (no network, or nothing to call)
    models: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------- protocol


@runtime_checkable
class Provider(Protocol):
    name: str  # anthropic, openai, openrouter, ollama, …
    display_name: str

    async def list_models(self) -> list[str]:
        """Model ids this provider offers to this key (a static list where the API has none)."""

    async def validate(self) -> ValidationResult:
        """One cheap call that proves the key (or base URL) works."""

    def stream(
        self, messages: list[ChatMessage], *, model: str, tools: list[ToolSpec], system: str, max_tokens: int,
        reasoning_effort: str = "",
    ) -> AsyncIterator[ProviderEvent]:
        """One model request, streamed. Raises ProviderError / ProviderRateLimited. Closing the
        iterator (or cancelling its task) closes the HTTP stream."""

    async def aclose(self) -> None: ...


# ------------------------------------------------------------------------------- shared bits

TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=30.0, pool=10.0)
VALIDATE_TIMEOUT = httpx.Timeout(8.0)


def error_text(body: object) -> tuple[str, str]:
    """(message, kind) from the usual JSON error envelopes: {"error":{"message","type"}} or {"error":"…"}."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, str):
            return err, ""
        if isinstance(err, dict):
            message = err.get("message") or err.get("msg") or ""
            kind = err.get("type") or err.get("code") or ""
            return str(message), str(kind)
    return "", ""


def http_error(provider: str, response: httpx.Response, body_text: str) -> ProviderError:
    """A ProviderError (or ProviderRateLimited) for a non-2xx answer, with a human sentence."""
    import json

    try:
        message, kind = error_text(json.loads(body_text))
    except ValueError:
        message, kind = body_text.strip()[:300], ""
    status = response.status_code
    if status == 429 and kind == "insufficient_quota":  # OpenAI: out of credit; waiting will not help
        return ProviderError(f"{provider}: the account has no quota left ({message or 'insufficient_quota'})",
                             status, kind)
    if status == 429:
        wait = retry_after_seconds(response.headers)
        return ProviderRateLimited(f"{provider} rate limit: {message or 'too many requests'}", wait, status)
    if status in (401, 403):
        hint = "the API key was refused" if status == 401 else "the API key may not use this"
        return ProviderError(f"{provider}: {hint} ({status}{': ' + message if message else ''})", status,
                             kind or "authentication_error")
    if status == 404:
        return ProviderError(f"{provider}: not found (404){': ' + message if message else ''}", status, kind)
    return ProviderError(f"{provider} error {status}{': ' + message if message else ''}", status, kind)


def connect_error(provider: str, base_url: str, exc: Exception) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(f"{provider} did not answer in time ({base_url})", 0, "timeout")
    return ProviderError(f"could not reach {provider} at {base_url}: {exc.__class__.__name__}", 0, "connection_error")


async def sse_events(response: httpx.Response, provider: str) -> AsyncIterator[ServerSentEvent]:
    """The response's SSE events (httpx-sse), with a clear error when it is not an event stream."""
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        body = (await response.aread()).decode("utf-8", "replace")
        message, _ = error_text(_json_or_none(body))
        raise ProviderError(f"{provider} answered with {content_type or 'no content type'} instead of a stream"
                            + (f": {message}" if message else ""), response.status_code, "bad_stream")
    async for sse in EventSource(response).aiter_sse():
        yield sse


def _json_or_none(text: str) -> object:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return None
