"""Every response and SSE event checked against a Mix spec with maintained validators.

HTTP responses go through openapi-core (`OpenAPI.validate_response`: status documented, content
type, body schema). SSE events are checked one by one against the event schema the spec's
`SSEEventStream` discriminator maps their name to (openapi-schema-validator, which openapi-core
itself uses); the discriminator is applied by hand because the event schemas are structurally alike
and a plain `oneOf` could never pick one.

`ValidatingTransport` / `AsyncValidatingTransport` wrap httpx transports, so whatever client uses
them (the official SDK, our own client) has every response and every event it reads checked, and the
problems collected in `Checker.problems`.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import yaml
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS31Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS = Path(__file__).parent / "specs"


@dataclass
class _Request:
    """openapi-core's Request protocol over an httpx.Request."""

    raw: httpx.Request

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(self.raw.url.params.multi_items())),
            header=Headers(list(self.raw.headers.items())), cookie=ImmutableMultiDict())

    @property
    def host_url(self) -> str:
        return f"{self.raw.url.scheme}://{self.raw.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.raw.url.path

    @property
    def method(self) -> str:
        return self.raw.method.lower()

    @property
    def body(self) -> bytes | None:
        try:
            return self.raw.content or None
        except httpx.RequestNotRead:  # a streamed upload: only the response is validated
            return None

    @property
    def content_type(self) -> str:
        return self.raw.headers.get("content-type", "").lower()


@dataclass
class _Response:
    status_code: int
    headers: Headers
    data: bytes | str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").lower()


class Spec:
    def __init__(self, name: str) -> None:
        self.name = name
        self.document = yaml.safe_load((SPECS / f"openapi-{name}.yaml").read_text())
        # Our test servers run on 127.0.0.1:<random port>; the seed spec names localhost:8088.
        self.document["servers"] = [{"url": "/"}]
        self.openapi = OpenAPI.from_dict(self.document)
        stream = self.document["components"]["schemas"]["SSEEventStream"]
        self.event_schemas = stream["discriminator"]["mapping"]

    @cached_property
    def _base_events(self) -> set[str]:
        return set(self.document["components"]["schemas"]["SSEBaseEvent"]["properties"]["event"]["enum"])

    def response_problems(self, request: httpx.Request, status: int, headers: httpx.Headers, body: bytes) -> list[str]:
        kind = headers.get("content-type", "")
        if kind.startswith("text/event-stream"):
            return self._stream_problems(request, status)
        # A file's bytes: openapi-core checks `type: string, format: binary` against a str, not bytes.
        data: bytes | str = body if "json" in kind or not body else body.decode("latin-1")
        response = _Response(status, Headers(list(headers.items())), data)
        try:
            self.openapi.validate_response(_Request(request), response)
        except Exception as exc:  # noqa: BLE001 — every validation failure is a finding, with its reason
            causes = [str(exc)] + [str(e) for e in getattr(exc.__cause__, "schema_errors", ()) or ()]
            return [f"{request.method} {request.url.path} -> {status}: " + "; ".join(causes)]
        return []

    def _stream_problems(self, request: httpx.Request, status: int) -> list[str]:
        """The stream's own body is checked event by event; here its status and content type."""
        documented = self.document["paths"]["/stream"]["get"]["responses"].get(str(status), {})
        if "text/event-stream" not in documented.get("content", {}):
            return [f"GET /stream -> {status}: no text/event-stream response documented for this status"]
        return []

    def event_problems(self, event: str, data: str, event_id: str, retry: int | None) -> list[str]:
        ref = self.event_schemas.get(event)
        if ref is None or event not in self._base_events:
            return [f"SSE event {event!r} is not in the {self.name} spec"]
        try:
            payload = json.loads(data)
        except ValueError:
            return [f"SSE event {event!r}: data is not JSON: {data[:80]!r}"]
        frame: dict[str, Any] = {"event": event, "id": event_id, "data": payload}
        if retry is not None:
            frame["retry"] = retry
        schema = {**self.document, "$ref": ref}
        errors = sorted(OAS31Validator(schema).iter_errors(frame), key=str)
        return [f"SSE event {event!r}: {e.message} at {list(e.absolute_path)}" for e in errors]


@dataclass
class Checker:
    spec: Spec
    problems: list[str] = field(default_factory=list)
    responses: int = 0
    events: dict[str, int] = field(default_factory=dict)
    operations: set[tuple[str, str, int]] = field(default_factory=set)

    def response(self, request: httpx.Request, response: httpx.Response, body: bytes) -> None:
        self.responses += 1
        self.operations.add((request.method, request.url.path, response.status_code))
        self.problems += self.spec.response_problems(request, response.status_code, response.headers, body)

    def event(self, event: str, data: str, event_id: str, retry: int | None) -> None:
        self.events[event] = self.events.get(event, 0) + 1
        self.problems += self.spec.event_problems(event, data, event_id, retry)


class _EventTap:
    """Feeds the bytes of an SSE response through httpx-sse's decoders and checks each event."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.lines = SSELineDecoder()
        self.sse = SSEDecoder()
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> None:
        for line in self.lines.decode(self.text.decode(chunk)):
            if line.startswith("retry:"):
                try:
                    self.retry = int(line[6:].strip())
                except ValueError:
                    self.retry = None
            event = self.sse.decode(line)
            if event is not None:
                self.checker.event(event.event, event.data, event.id, self.retry)
                self.retry = None


def _is_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


class _TappedStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, tap: _EventTap) -> None:
        self.inner, self.tap = inner, tap

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.tap.feed(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class _AsyncTappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, tap: _EventTap) -> None:
        self.inner, self.tap = inner, tap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.tap.feed(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class ValidatingTransport(httpx.BaseTransport):
    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if _is_stream(response):
            self.checker.response(request, response, b"")  # status and content type; events as they come
            response.stream = _TappedStream(response.stream, _EventTap(self.checker))
            return response
        body = b"".join(response.stream)
        response.stream.close()
        self.checker.response(request, response, body)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self) -> None:
        self.inner.close()


class AsyncValidatingTransport(httpx.AsyncBaseTransport):
    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if _is_stream(response):
            self.checker.response(request, response, b"")
            response.stream = _AsyncTappedStream(response.stream, _EventTap(self.checker))
            return response
        body = b"".join([chunk async for chunk in response.stream])
        await response.stream.aclose()
        self.checker.response(request, response, body)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
