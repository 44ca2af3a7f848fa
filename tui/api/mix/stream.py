"""The SSE side of the Mix protocol: wire events -> typed events, and the reconnecting stream.

Framing is decoded by httpx-sse's own line and event decoders (through tui.compat: they are private),
fed synchronously chunk by chunk (one await per network chunk instead of one per line: a 64 kB chunk
holds hundreds of deltas).
Decoding never raises: unknown names become `UnknownEvent`, undecodable data `MalformedEvent`.

Connection life (`run_stream`): reconnect with exponential backoff and jitter (capped), a
watchdog that drops a connection silent for longer than twice the heartbeat, `ConnectionChanged`
events in the stream, and after every reconnect a `Resynced` event carrying the session's
messages fetched over REST (the server does not replay what was missed).
"""

from __future__ import annotations

import asyncio
import codecs
import json
import random
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, Protocol

import httpx

from tui.api import events as ev
from tui.compat import SSEDecoder, SSELineDecoder
from tui.api.errors import ApiError, ConnectionFailed, ServerError
from tui.api.mix import errors as mix_errors
from tui.api.mix.models import to_chat_messages
from tui.api.mix.units import duration_seconds, number, retry_after_seconds

MAX_EVENT_CHARS = 32 * 1024 * 1024  # one event's data beyond this is reported malformed, not decoded
DECODE_SLICE_LINES = 256  # lines decoded at a time (about 64 events, ~0.6 ms): see SseReader.feed_in_slices

_loads = json.loads


# ---------------------------------------------------------------- one event


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _s(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    n = number(value)
    return None if n is None else int(n)


def _content(d: dict) -> ev.ContentDelta:
    return ev.ContentDelta(_s(d.get("content")), d.get("parentToolCallId"), d.get("assistantMessageId"))


def _thinking(d: dict) -> ev.ThinkingDelta:
    return ev.ThinkingDelta(_s(d.get("content")), d.get("parentToolCallId"), d.get("assistantMessageId"))


def _input(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


def _permission(d: dict) -> ev.PermissionRequest:
    params = d.get("params")
    return ev.PermissionRequest(
        id=_s(d.get("id")), session_id=_s(d.get("sessionId")), tool_name=_s(d.get("toolName")),
        description=_s(d.get("description")), action=_s(d.get("action")), path=_s(d.get("path")),
        params=params if isinstance(params, dict) else ({} if params is None else {"value": params}),
        parent_tool_call_id=_opt(d.get("parentToolCallId")),
    )


def _error(d: dict) -> ev.Error:
    if d.get("type") == "rate_limit_error":  # the specs have no rate_limit_error event: an error of that type
        return _rate_limit(d)
    return _plain_error(d)


def _plain_error(d: dict) -> ev.Error:
    err = d.get("error")
    if isinstance(err, dict):  # tolerate an envelope-shaped error
        err = err.get("message") or json.dumps(err)
    return ev.Error(
        error=_s(err) or _s(d.get("message")) or "unknown error", type=_opt(d.get("type")),
        retry_after=retry_after_seconds(d.get("retryAfter")), attempt=_int(d.get("attempt")),
        max_attempts=_int(d.get("maxAttempts")), parent_tool_call_id=_opt(d.get("parentToolCallId")),
    )


def _rate_limit(d: dict) -> ev.RateLimitError:
    e = _plain_error(d)
    return ev.RateLimitError(error=e.error, type=e.type or "rate_limit_error", retry_after=e.retry_after, attempt=e.attempt,
                             max_attempts=e.max_attempts, parent_tool_call_id=e.parent_tool_call_id)


def _complete(d: dict) -> ev.Complete:
    return ev.Complete(
        content=_s(d.get("content")), message_id=_opt(d.get("messageId")), reasoning=_s(d.get("reasoning")),
        reasoning_duration=duration_seconds(d.get("reasoningDuration")), parent_tool_call_id=_opt(d.get("parentToolCallId")),
    )


def _notification(d: dict) -> ev.Notification:
    choices = d.get("choices")
    return ev.Notification(
        id=_s(d.get("id")), session_id=_s(d.get("sessionId")), notification_type=_s(d.get("notificationType")) or "info",
        title=_s(d.get("title")), message=_s(d.get("message")), response_type=_s(d.get("responseType")) or "acknowledge",
        choices=tuple(_s(c) for c in choices) if isinstance(choices, list) else (), timeout=number(d.get("timeout")),
    )


def _turn_in_progress(d: dict) -> ev.TurnInProgress:
    tools = tuple(ev.ToolSnapshot(_s(t.get("id")), _s(t.get("name")), _input(t.get("input")), "completed")
                  for t in d.get("tools") or () if isinstance(t, dict) and t.get("id"))
    return ev.TurnInProgress(_s(d.get("messageId")), _s(d.get("content")), _s(d.get("answer")), _s(d.get("thinking")),
                             tools)


DECODERS: dict[str, Callable[[dict], Any]] = {
    "content": _content,
    "thinking": _thinking,
    "connected": lambda d: ev.Connected(_s(d.get("sessionId"))),
    "heartbeat": lambda d: ev.Heartbeat(),
    "user_message_created": lambda d: ev.UserMessageCreated(_s(d.get("messageId")), _s(d.get("content")), _opt(d.get("parentToolCallId"))),
    "tool": lambda d: ev.ToolSnapshot(_s(d.get("id")), _s(d.get("name")), _input(d.get("input")), _s(d.get("status")), _opt(d.get("parentToolCallId"))),
    "tool_use_start": lambda d: ev.ToolUseStart(_s(d.get("id")), _s(d.get("name")), _opt(d.get("parentToolCallId")), _opt(d.get("assistantMessageId"))),
    "tool_use_parameter_delta": lambda d: ev.ToolParameterDelta(_s(d.get("toolCallId") or d.get("id")), _input(d.get("input")), _opt(d.get("parentToolCallId"))),
    "tool_use_parameter_streaming_complete": lambda d: ev.ToolParametersComplete(_s(d.get("id") or d.get("toolCallId")), _s(d.get("name")), _input(d.get("input")), _opt(d.get("parentToolCallId"))),
    "tool_execution_start": lambda d: ev.ToolExecutionStart(_s(d.get("toolCallId")), _s(d.get("toolName")), _s(d.get("progress")), _opt(d.get("parentToolCallId"))),
    "tool_execution_complete": lambda d: ev.ToolExecutionComplete(_s(d.get("toolCallId")), _s(d.get("toolName")), _s(d.get("progress")), d.get("success") is not False, _opt(d.get("parentToolCallId"))),
    "permission": _permission,
    "complete": _complete,
    "error": _error,
    "rate_limit_error": _rate_limit,
    "summarize": lambda d: ev.Summarize(_s(d.get("progress")), bool(d.get("done"))),
    "session_created": lambda d: ev.SessionCreated(_s(d.get("sessionId")), _s(d.get("title")), number(d.get("createdAt"))),
    "session_deleted": lambda d: ev.SessionDeleted(_s(d.get("sessionId"))),
    "notification": _notification,
    "turn_in_progress": _turn_in_progress,  # mix-tui's server only
}
DECODERS["tool_parameter_delta"] = DECODERS["tool_use_parameter_delta"]  # its first name in the spec


def decode_event(name: str, data: str) -> ev.Event:
    """One SSE event -> one typed event. Never raises."""
    decoder = DECODERS.get(name)
    if decoder is None:
        return ev.UnknownEvent(name, data)
    if len(data) > MAX_EVENT_CHARS:
        return ev.MalformedEvent(name, data[:200], f"event data too large ({len(data):,} characters)")
    try:
        payload = _loads(data) if data else {}
    except ValueError as exc:
        return ev.MalformedEvent(name, data[:2000], f"not JSON: {exc}")
    if not isinstance(payload, dict):
        return ev.MalformedEvent(name, data[:2000], "expected a JSON object")
    try:
        return decoder(payload)
    except Exception as exc:  # noqa: BLE001 — a field of an unexpected type must not end the stream
        return ev.MalformedEvent(name, data[:2000], f"unexpected fields: {exc}")


class SseReader:
    """Incremental reader: feed raw bytes in any split, get typed events. Never raises."""

    __slots__ = ("_text", "_lines", "_events")

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = SSELineDecoder()
        self._events = SSEDecoder()

    def feed(self, chunk: bytes) -> list[ev.Event]:
        return self._decode_lines(self.lines(chunk))

    def feed_in_slices(self, chunk: bytes, lines_per_slice: int = DECODE_SLICE_LINES) -> Iterator[list[ev.Event]]:
        """The events of `chunk`, decoded a slice of lines at a time: one network read can hold a
        thousand events (~10 ms to decode), and the first of them should not wait for the last."""
        lines = self.lines(chunk)
        for start in range(0, len(lines), lines_per_slice):
            yield self._decode_lines(lines[start : start + lines_per_slice])

    def lines(self, chunk: bytes) -> list[str]:
        """The complete lines `chunk` ends (the decoders keep a partial one for the next chunk)."""
        text = self._text.decode(chunk)
        return self._lines.decode(text) if text else []

    def close(self) -> list[ev.Event]:
        """The stream ended: whatever complete event is still buffered (an unterminated one is dropped,
        as the SSE standard says)."""
        tail = self._text.decode(b"", final=True)
        lines = self._lines.decode(tail) if tail else []
        lines += self._lines.flush()
        return self._decode_lines(lines)

    def _decode_lines(self, lines: list[str]) -> list[ev.Event]:
        out: list[ev.Event] = []
        append = out.append
        decode = self._events.decode
        loads = _loads
        content_delta = ev.ContentDelta
        for line in lines:
            first = line[:1]
            # `id:` (no replay exists) and `retry:` (our own backoff decides) change nothing for us:
            # skipping them spares the event decoder two of the five lines of every frame.
            if (first == "i" and line.startswith("id:")) or (first == "r" and line.startswith("retry:")):
                continue
            try:
                sse = decode(line)
            except Exception:  # noqa: BLE001 — defensive: a fresh decoder and the stream goes on
                self._events = SSEDecoder()
                decode = self._events.decode
                continue
            if sse is None:
                continue
            name = sse.event
            if name == "content":  # the hot path: ~3,000 per answer
                data = sse.data
                try:
                    d = loads(data)
                except ValueError:
                    append(decode_event(name, data))
                    continue
                if type(d) is dict:
                    text = d.get("content")
                    append(content_delta(text if type(text) is str else _s(text), d.get("parentToolCallId"),
                                         d.get("assistantMessageId")))
                    continue
            append(decode_event(name, sse.data))
        return out


# ---------------------------------------------------------------- connection life


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff: base * 2^(attempt-1), capped, times a random factor in [1 - jitter, 1]."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5
    offline_after: int = 4  # consecutive failed attempts before the state says "offline" (still retrying)
    max_attempts: int | None = None  # None: retry for as long as the caller iterates

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        raw = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return max(0.0, raw * (1.0 - self.jitter * rng()))


class _Silent(Exception):
    """The watchdog fired: no bytes for too long."""


class _StreamGone(Exception):
    pass


def _fatal(exc: ApiError) -> bool:
    """Errors a reconnect cannot fix: a bad request or token, a session that is not there."""
    return isinstance(exc, ServerError) and exc.status in (400, 401, 403, 404, 405)


class StreamClient(Protocol):
    """What the stream needs of its client (MixClient, which imports this module, not the reverse)."""

    base_url: str
    timeout: float
    _http: httpx.AsyncClient

    def _observe_event(self, event: Any) -> None:
        """Every event but deltas, as it arrives (the client learns the server's generation from them)."""

    async def list_messages(self, session_id: str) -> Any:
        """The session's messages over REST, for the resync after a reconnect."""

    async def retry_pause(self, delay: float, since: float) -> None:
        """Wait `delay` seconds before the next try, or less when told the server is back (since
        `since`, loop time: the news may come while the failed try is still being reported)."""


async def run_stream(client: StreamClient, session_id: str, *, heartbeat: float, policy: ReconnectPolicy,
                     resync: bool = True) -> AsyncIterator[ev.Event]:
    """`client.stream(session_id)`: events for as long as the caller iterates."""
    loop = asyncio.get_running_loop()
    watchdog = 2.0 * heartbeat
    attempt = 0  # consecutive failures
    connections = 0  # successful connections so far
    http = client._http
    # resume=1: a server that knows it (mix-tui's) opens with the turn in progress, if any; others ignore it.
    params = {"sessionId": session_id, "resume": "1"}
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
    timeout = httpx.Timeout(client.timeout, read=None)
    while True:
        reason = ""
        reader = SseReader()
        tried_at = loop.time()
        try:
            request = http.build_request("GET", "/stream", params=params, headers=headers, timeout=timeout)
            try:
                response = await http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise mix_errors.from_transport(exc, client.base_url, "opening the event stream") from None
            try:
                if response.status_code != 200:
                    await response.aread()
                    raise mix_errors.from_response(response, client.base_url, "opening the event stream")
                chunks = response.aiter_bytes().__aiter__()
                seen_connected = False
                async with asyncio.timeout(watchdog) as guard:
                    while True:
                        guard.reschedule(loop.time() + watchdog)
                        try:
                            chunk = await chunks.__anext__()
                        except StopAsyncIteration:
                            break
                        guard.reschedule(None)  # never fire while the caller holds an event
                        for event in (e for events in reader.feed_in_slices(chunk) for e in events):
                            cls = type(event)
                            if cls is ev.Connected and not seen_connected:
                                seen_connected = True
                                attempt = 0
                                connections += 1
                                client._observe_event(event)
                                yield ev.ConnectionChanged("connected", attempt=0)
                                yield event
                                if connections > 1 and resync:
                                    yield await _resync(client, session_id)
                                continue
                            if cls is ev.Error and not seen_connected and event.error.startswith("Invalid session ID"):
                                # The server is reachable but the session is gone (deleted): say so and
                                # stop, rather than retry forever or call the server offline.
                                yield ev.ConnectionChanged("connected", reason=f"session {session_id} is not on the server")
                                yield event
                                return
                            if cls is not ev.ContentDelta and cls is not ev.ThinkingDelta:
                                client._observe_event(event)
                            yield event
                    for event in reader.close():
                        yield event
                reason = "the server closed the event stream"
            except TimeoutError:
                reason = f"no data from the server for {watchdog:g} s"
            except httpx.HTTPError as exc:
                reason = str(mix_errors.from_transport(exc, client.base_url, "reading the event stream"))
            finally:
                await response.aclose()
        except ApiError as exc:
            if _fatal(exc):
                raise
            reason = str(exc)
        attempt += 1
        if policy.max_attempts is not None and attempt > policy.max_attempts:
            yield ev.ConnectionChanged("offline", attempt=attempt, reason=reason)
            raise _give_up(client, reason)
        delay = policy.delay(attempt)
        state = "offline" if attempt >= policy.offline_after else "reconnecting"
        yield ev.ConnectionChanged(state, attempt=attempt, delay=delay, reason=reason)
        await client.retry_pause(delay, tried_at)


def _give_up(client: StreamClient, reason: str) -> ApiError:
    return ConnectionFailed(f"Lost the event stream of the Mix server at {client.base_url} and could not get it back: {reason}")


async def _resync(client: StreamClient, session_id: str) -> ev.Resynced:
    try:
        messages = await client.list_messages(session_id)
    except ApiError as exc:
        return ev.Resynced(session_id, (), str(exc))
    return ev.Resynced(session_id, tuple(to_chat_messages(messages)))
