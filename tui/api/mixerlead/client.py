"""Async MixerLead Workspace API client (httpx). No Textual here.

Every call sends `Authorization: Bearer <key>` and, when a project is chosen, `X-Project-Id`.
Non-2xx answers become the typed errors of errors.py; retries follow retry.py. `chat` streams.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import mimetypes
import os
import secrets as _secrets
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping
from urllib.parse import quote

import httpx
from httpx_sse import EventSource

from tui.api.errors import ApiError, ConnectionFailed, ProtocolError, RateLimited, ServerError, Timeout
from tui.api.mixerlead.errors import MissingApiKey, StreamInterrupted, error_for, seconds_until_utc_midnight
from tui.api.mixerlead.models import (
    AUTO_MODEL_ID,
    ChatDone,
    ChatStarted,
    CrawlStarted,
    KnowledgeAdded,
    KnowledgeSource,
    Model,
    Skill,
    SkillResult,
    parse_models,
    parse_skills,
    parse_sources,
    source_in,
)
from tui.api.mixerlead.retry import RetryCallback, RetryNotice, RetryPolicy
from tui.api.mixerlead.stream import (
    EndMarker,
    LineSplitter,
    Piece,
    Utf8Text,
    decode_json_body,
    decode_ndjson_line,
    decode_sse,
)

log = logging.getLogger("tui.api.mixerlead")

DEFAULT_BASE_URL = "https://ai.mixerlead.com"
ProgressCallback = Callable[[int, int], Any]  # (file bytes sent, file size)
SourceCallback = Callable[[KnowledgeSource], Any]
ChatItem = str | ChatStarted | ChatDone


async def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


def _conversation_header(headers: Mapping[str, str]) -> str | None:
    """A response header whose name contains "conversation" (undocumented, so any such name)."""
    for name, value in headers.items():
        if "conversation" in name.lower() and value.strip():
            return value.strip()
    return None


def framing_of(content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/event-stream":
        return "sse"
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"):
        return "ndjson"
    if kind == "application/json":
        return "json"
    return "text"


class IndexingTimedOut(ApiError):
    action = "retry"

    def __init__(self, message: str, last: KnowledgeSource | None) -> None:
        super().__init__(message)
        self.last = last


class MixerLeadClient:
    """One API key, one base URL, an optional project (sent as X-Project-Id on every call)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        project_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        chat_read_timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryCallback | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise MissingApiKey("No MixerLead API key: set MIXERLEAD_API_KEY or save one in the credentials.")
        self._api_key = api_key.strip()
        base = base_url.rstrip("/")
        if base.endswith("/api"):
            base = base[: -len("/api")]  # paths already start with /api/
        self.base_url = base
        self.project_id = project_id or None
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.timeout = timeout
        self.chat_read_timeout = chat_read_timeout
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    @classmethod
    def from_settings(cls, config: Any, secrets: Any, **kw: Any) -> "MixerLeadClient":
        """From tui.config's Config and Secrets: key from MIXERLEAD_API_KEY or the secrets file."""
        key = secrets.get("mixerlead") if secrets is not None else os.environ.get("MIXERLEAD_API_KEY", "")
        section = config.mixerlead
        return cls(key, base_url=section.base_url or DEFAULT_BASE_URL, project_id=section.project_id or None, **kw)

    @property
    def masked_key(self) -> str:
        key = self._api_key
        return key[:8] + "…" + key[-4:] if len(key) > 16 else "…" + key[-2:]

    def __repr__(self) -> str:  # never the key
        return f"MixerLeadClient(base_url={self.base_url!r}, project_id={self.project_id!r}, key={self.masked_key!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "MixerLeadClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ transport

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if self.project_id:
            headers["X-Project-Id"] = self.project_id
        if extra:
            headers.update(extra)
        return headers

    async def _open(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        what: str,
        json_body: Any = None,
        content: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        on_retry: RetryCallback | None = None,
        retry_dropped: bool = False,
    ) -> httpx.Response:
        """Send until a 2xx status line arrives; returns the response with its body not yet read.

        Retries happen only here, before any byte of a successful body exists: once a 2xx status
        is seen the caller owns the response and nothing is ever re-sent."""
        policy = self.retry
        retry_statuses = policy.retry_statuses(idempotent)
        notify = on_retry or self.on_retry
        attempt = 0
        while True:
            attempt += 1
            request = self._http.build_request(
                method, path, headers=self._headers(headers), json=json_body,
                content=content() if content is not None else None,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,  # type: ignore[arg-type]
            )
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: safe to send again, even a create.
                error: ApiError = ConnectionFailed(f"Could not reach MixerLead at {self.base_url} ({type(exc).__name__}).")
                status, server_wait = 0, None
            except httpx.TimeoutException:
                error = Timeout(f"MixerLead did not answer in time while trying to {what}.")
                if not idempotent:
                    raise error from None
                status, server_wait = 0, None
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                error = ConnectionFailed(f"The connection to MixerLead dropped while trying to {what} ({type(exc).__name__}).")
                # Dropped before any status line: the reference allows a resend for chat (no byte arrived).
                if not (idempotent or retry_dropped):
                    raise error from None
                status, server_wait = 0, None
            else:
                if response.is_success:
                    response.mixerlead_attempts = attempt  # type: ignore[attr-defined]
                    return response
                try:
                    body = await response.aread()
                except httpx.HTTPError:
                    body = b""
                finally:
                    await response.aclose()
                error = error_for(response.status_code, body, response.headers, what=what)
                status = response.status_code
                server_wait = getattr(error, "retry_after", None)
                if isinstance(error, RateLimited) and getattr(error, "quota", False) and server_wait is None:
                    # A daily quota will not clear by retrying in a few seconds: say when it resets.
                    error.retry_after = seconds_until_utc_midnight()
                    error.message = f"{error.message} Daily limits reset at 00:00 UTC."
                    raise error
                if status not in retry_statuses:
                    raise error
            if attempt >= policy.max_attempts:
                raise error
            wait = policy.delay(attempt, server_wait)
            if server_wait is not None and server_wait > policy.max_auto_wait:
                raise error  # too long to wait automatically: the user sees the countdown and decides
            notice = RetryNotice(attempt=attempt, max_attempts=policy.max_attempts, wait=wait, status=status,
                                 reason=error.message, method=method, path=path)
            log.info("MixerLead %s %s: %s; retry %d in %.1f s", method, path, status or "connection", attempt, wait)
            await _call(notify, notice)
            await policy.sleep(wait)

    async def _json(self, method: str, path: str, *, idempotent: bool, what: str, json_body: Any = None,
                    content: Callable[[], Any] | None = None, headers: Mapping[str, str] | None = None,
                    on_retry: RetryCallback | None = None) -> Any:
        response = await self._open(method, path, idempotent=idempotent, what=what, json_body=json_body,
                                    content=content, headers=headers, on_retry=on_retry)
        try:
            body = await response.aread()
        except httpx.TimeoutException:
            raise Timeout(f"MixerLead did not finish answering while trying to {what}.") from None
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"The connection to MixerLead dropped while trying to {what} ({type(exc).__name__}).") from None
        finally:
            await response.aclose()
        if not body.strip():
            return None  # several answers are undocumented and may well be empty (204)
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"MixerLead answered {what} with something that is not JSON.") from None

    async def ping(self) -> bool:
        """One GET, no retries: True when MixerLead answered at all (any status), False when unreachable."""
        try:
            response = await self._http.get("/api/ai/models", headers=self._headers())
        except httpx.HTTPError:
            return False
        await response.aclose()
        return True

    # ------------------------------------------------------------ models

    async def list_models(self) -> list[Model]:
        body = await self._json("GET", "/api/ai/models", idempotent=True, what="list the models")
        return parse_models(body)

    # ------------------------------------------------------------ chat

    async def chat(
        self,
        message: str,
        *,
        model: str | None = None,
        conversation_id: str | None = None,
        on_retry: RetryCallback | None = None,
    ) -> AsyncIterator[ChatItem]:
        """Stream a reply: one ChatStarted, then text pieces (str), then one ChatDone.

        Raises the typed error of a refused request (before ChatStarted), or StreamInterrupted when
        the reply stops after it started; that is never retried (the message may have cost credits).
        Closing the iterator closes the stream, which is how a reply is cancelled."""
        body: dict[str, Any] = {"message": message}
        if model and model != AUTO_MODEL_ID:
            body["model"] = model  # omitted for Auto, as documented
        if conversation_id:
            body["conversationId"] = conversation_id
        timeout = httpx.Timeout(self.timeout, read=self.chat_read_timeout)
        response = await self._open("POST", "/api/chat", idempotent=False, what="send the message", json_body=body,
                                    headers={"Accept": "text/plain, text/event-stream, application/x-ndjson, application/json"},
                                    timeout=timeout, on_retry=on_retry, retry_dropped=True)
        try:
            content_type = response.headers.get("content-type", "")
            framing = framing_of(content_type)
            header_id = _conversation_header(response.headers)
            yield ChatStarted(content_type=content_type, framing=framing, conversation_id=header_id,
                              attempts=getattr(response, "mixerlead_attempts", 1))
            parts: list[str] = []
            found: list[tuple[str | None, str]] = [(header_id, "header")] if header_id else []
            try:
                if framing == "sse":
                    pieces = self._sse_pieces(response)
                elif framing == "ndjson":
                    pieces = self._ndjson_pieces(response)
                elif framing == "json":
                    pieces = self._json_pieces(response)
                else:
                    pieces = self._text_pieces(response)
                async for piece in pieces:
                    if piece.conversation_id:
                        found.append((piece.conversation_id, "body-marker" if framing == "text" else framing))
                    if piece.error is not None:
                        raise StreamInterrupted(
                            f"MixerLead reported an error during the reply: {piece.error}", partial="".join(parts))
                    if piece.text:
                        parts.append(piece.text)
                        yield piece.text
                    if piece.done:
                        break
            except httpx.TimeoutException:
                raise StreamInterrupted(
                    "MixerLead stopped sending in the middle of the reply (timed out). The partial answer is kept; "
                    "the message was not sent again, since it may already have cost credits.", partial="".join(parts)) from None
            except httpx.HTTPError as exc:
                raise StreamInterrupted(
                    f"The connection to MixerLead dropped in the middle of the reply ({type(exc).__name__}). The partial "
                    "answer is kept; the message was not sent again, since it may already have cost credits.",
                    partial="".join(parts)) from None
            # The last id seen wins: a final event or marker is newer than a header.
            conv_id, source = found[-1] if found else (None, "none")
            yield ChatDone(conversation_id=conv_id, source=source, text="".join(parts))
        finally:
            await response.aclose()

    async def _text_pieces(self, response: httpx.Response) -> AsyncIterator[Piece]:
        decoder = Utf8Text(response.charset_encoding or "utf-8")
        marker = EndMarker()
        async for chunk in response.aiter_bytes():
            text = marker.feed(decoder.feed(chunk))
            if text:
                yield Piece(text=text)
        text = marker.feed(decoder.finish())
        tail, conv_id, error = marker.finish()
        if text or tail:
            yield Piece(text=text + tail)
        if conv_id or error:
            yield Piece(conversation_id=conv_id, error=error)

    async def _sse_pieces(self, response: httpx.Response) -> AsyncIterator[Piece]:
        async for sse in EventSource(response).aiter_sse():
            yield decode_sse(sse.event, sse.data)

    async def _ndjson_pieces(self, response: httpx.Response) -> AsyncIterator[Piece]:
        decoder = Utf8Text(response.charset_encoding or "utf-8")
        lines = LineSplitter()
        async for chunk in response.aiter_bytes():
            for line in lines.feed(decoder.feed(chunk)):
                yield decode_ndjson_line(line)
        for line in lines.feed(decoder.finish()) + lines.finish():
            yield decode_ndjson_line(line)

    async def _json_pieces(self, response: httpx.Response) -> AsyncIterator[Piece]:
        body = await response.aread()
        yield decode_json_body(body.decode(response.charset_encoding or "utf-8", "replace"))

    # ------------------------------------------------------------ knowledge

    async def add_knowledge_url(self, url: str, *, name: str | None = None) -> KnowledgeAdded:
        body: dict[str, Any] = {"url": url}
        if name:
            body["name"] = name
        return KnowledgeAdded.from_wire(await self._json("POST", "/api/knowledge", idempotent=False, what="add the URL", json_body=body))

    async def add_knowledge_text(self, text: str, *, name: str | None = None) -> KnowledgeAdded:
        body: dict[str, Any] = {"text": text}
        if name:
            body["name"] = name
        return KnowledgeAdded.from_wire(await self._json("POST", "/api/knowledge", idempotent=False, what="add the text", json_body=body))

    async def upload_knowledge_file(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
        chunk_size: int = 64 * 1024,
    ) -> KnowledgeAdded:
        """Multipart upload of one file (`file` part), reporting (bytes sent, file size) as it goes."""
        file_path = Path(path)
        try:
            size = file_path.stat().st_size
        except OSError as exc:
            raise ApiError(f"Cannot read {file_path}: {exc.strerror or exc}.") from None
        if not file_path.is_file():
            raise ApiError(f"{file_path} is not a file.")
        ctype = content_type or mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
        boundary = "mixtui" + _secrets.token_hex(12)
        filename = file_path.name.replace('"', "%22").replace("\r", "").replace("\n", "")
        head = b""
        if name:
            head += (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n').encode() + name.encode("utf-8") + b"\r\n"
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"; '
                 f"filename*=UTF-8''{quote(file_path.name)}\r\nContent-Type: {ctype}\r\n\r\n").encode("utf-8")
        tail = f"\r\n--{boundary}--\r\n".encode()
        total = len(head) + size + len(tail)

        def body() -> AsyncIterator[bytes]:
            async def gen() -> AsyncIterator[bytes]:
                yield head
                sent = 0
                await _call(on_progress, 0, size)
                with open(file_path, "rb") as handle:
                    while True:
                        chunk = await asyncio.to_thread(handle.read, chunk_size)
                        if not chunk:
                            break
                        sent += len(chunk)
                        yield chunk
                        await _call(on_progress, sent, size)
                yield tail
            return gen()

        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(total)}
        result = await self._json("POST", "/api/knowledge", idempotent=False, what=f"upload {file_path.name}",
                                  content=body, headers=headers)
        return KnowledgeAdded.from_wire(result)

    async def crawl(self, seed_url: str, *, max_pages: int | None = None) -> CrawlStarted:
        body: dict[str, Any] = {"seedUrl": seed_url}
        if max_pages is not None:
            body["maxPages"] = max_pages
        return CrawlStarted.from_wire(await self._json("POST", "/api/knowledge/crawl", idempotent=False, what="start the crawl", json_body=body))

    async def list_knowledge(self) -> list[KnowledgeSource]:
        return parse_sources(await self._json("GET", "/api/knowledge", idempotent=True, what="list the knowledge sources"))

    async def set_knowledge_enabled(self, source_id: str, enabled: bool) -> KnowledgeSource | None:
        """PATCH `{"enabled": ...}`. The answer is undocumented: the source when it holds one, else None."""
        body = await self._json("PATCH", f"/api/knowledge/{quote(source_id, safe='')}", idempotent=True,
                                what="enable the source" if enabled else "disable the source", json_body={"enabled": bool(enabled)})
        return source_in(body)

    async def reindex_knowledge(self, source_id: str) -> KnowledgeSource | None:
        body = await self._json("POST", f"/api/knowledge/{quote(source_id, safe='')}/reindex", idempotent=False,
                                what="re-index the source")
        return source_in(body)

    async def delete_knowledge(self, source_id: str) -> None:
        """`DELETE /api/knowledge/{id}`: the method is inferred (undocumented); a 405 says so plainly."""
        try:
            await self._json("DELETE", f"/api/knowledge/{quote(source_id, safe='')}", idempotent=True, what="delete the source")
        except ServerError as exc:
            if exc.status == 405:
                exc.message = ("MixerLead refused DELETE for this source (405). Its docs do not say how sources are "
                               "deleted, so the app cannot do it; delete it in the MixerLead web app.")
            raise

    async def get_knowledge(self, source_id: str) -> KnowledgeSource | None:
        """There is no documented single-source GET: read it from the list."""
        return next((s for s in await self.list_knowledge() if s.id == source_id), None)

    async def wait_indexed(
        self,
        source_id: str,
        *,
        on_update: SourceCallback | None = None,
        interval: float = 1.0,
        max_interval: float = 5.0,
        timeout: float = 600.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> KnowledgeSource:
        """Poll the list until the source is indexed or has failed; `on_update` hears every change."""
        deadline = time.monotonic() + timeout
        last: KnowledgeSource | None = None
        delay = interval
        while True:
            current = await self.get_knowledge(source_id)
            if current is not None and (last is None or (current.status, current.chunk_count, current.last_error)
                                        != (last.status, last.chunk_count, last.last_error)):
                await _call(on_update, current)
            if current is not None:
                last = current
                if current.is_settled:
                    return current
            if time.monotonic() + delay > deadline:
                where = f"still {last.status!r}" if last else "not listed yet"
                raise IndexingTimedOut(f"The source is {where} after {timeout:.0f} s; it may still finish on MixerLead.", last)
            await sleep(delay)
            delay = min(delay * 1.5, max_interval)

    # ------------------------------------------------------------ skills

    async def list_skills(self) -> list[Skill]:
        return parse_skills(await self._json("GET", "/api/skills", idempotent=True, what="list the skills"))

    async def run_skill(self, skill_id: str, variables: Mapping[str, Any] | None = None) -> SkillResult:
        body = {"skillId": skill_id, "vars": dict(variables or {})}
        return SkillResult.from_wire(await self._json("POST", "/api/skills/exec", idempotent=False, what="run the skill", json_body=body))
