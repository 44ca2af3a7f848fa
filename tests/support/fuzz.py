"""Hostile HTTP requests for the embedded server, generated from its own route table.

`request_strategy(routes, session_ids)` is a Hypothesis strategy of `RawRequest`s: every route of the
app with path parameters, query values, headers and bodies drawn from what broke servers before
(lone surrogates, NUL, 5,000-character names, traversal, numbers past 2**63, JSON nested 100,000
deep, invalid UTF-8, bodies past the cap, wrong types for every known field). `send_raw` writes the
request byte for byte on a fresh loopback socket (no client library to tidy it up) and reads the
status, headers and body; `problem` says what is wrong with an answer (a 5xx, or a JSON error that
is not in the spec's `{"error":{"code","message","type"}}` shape), or None.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import quote

from hypothesis import strategies as st

import httpx

from tests.support.serve_process import EventLog, create_session, poll_until

SURROGATE = "\ud800"
HOSTILE_TEXT = [
    "", " ", SURROGATE, f"/{SURROGATE}", "a\x00b", "\x00", "x" * 5000, "é" * 300, "..", "../../etc/passwd",
    "%2e%2e%2f", "/", "\\", ".thumbnails", "CON", "\u202e\u200b", "😀" * 50, "\n\r", "~", "-1",
    "9223372036854775808", "1e999", "NaN", "null", "true", "[]", "{}", "/status", "!echo hi", "/nope",
]
HUGE_NUMBERS = ["9223372036854775808", "-9223372036854775809", "1" * 5000, "1e309", "-0", "0x10", " 5", "5 "]
FIELDS = ["title", "workingDirectory", "content", "text", "plan_mode", "messageIndex", "preferred_provider",
          "main_agent_model", "main_agent_max_tokens", "main_agent_reasoning_effort", "sub_agent_model",
          "sub_agent_max_tokens", "sub_agent_reasoning_effort", "api_key", "apiKey", "provider", "model", "name",
          "code", "state", "file"]
QUERY_KEYS = ["limit", "offset", "sessionId", "thumb", "session_id", "q"]


@dataclass
class RawRequest:
    method: str
    path: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    body: bytes = b""

    def describe(self) -> str:
        return f"{self.method} {self.path[:300]!r} body={self.body[:200]!r}{'…' if len(self.body) > 200 else ''}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def encode_segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _json_values() -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=40), st.sampled_from(HOSTILE_TEXT))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)),
                                                     inner, max_size=4)), max_leaves=12)


def _dump(value: object) -> bytes:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes: valid bytes, hostile text once decoded
    return json.dumps(value).encode()


def _bodies() -> st.SearchStrategy:
    field_bodies = st.dictionaries(st.sampled_from(FIELDS), _json_values(), min_size=1, max_size=4).map(_dump)
    return st.one_of(
        st.just(b""),
        field_bodies, field_bodies,
        _json_values().map(_dump),
        st.sampled_from([
            b"{", b"[" * 100_000 + b"]" * 100_000, b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000,
            b'{"title":"\\ud800"}', b'{"content":"/\\ud800"}', b'{"text":"\\udfff x"}', b"\xff\xfe\xfd",
            b'{"title":"' + b"x" * (2 * 1024 * 1024) + b'"}', b"null", b"[]", b'"str"', b"1e999999",
            b'{"content":"{\\"text\\":\\"/\\\\ud800\\"}"}', b'{"messageIndex":9223372036854775808}',
            b'{"title":"a\\u0000b"}', b"--x\r\nContent-Disposition: form-data; name=file; filename=\"a\"\r\n\r\nz\r\n--x--\r\n",
        ]),
        st.binary(max_size=64),
    )


def _segment(session_ids: list[str]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(session_ids or ["none"]), st.uuids().map(str),
                     st.sampled_from(HOSTILE_TEXT), st.text(max_size=20))


def _query() -> st.SearchStrategy:
    value = st.one_of(st.sampled_from(HOSTILE_TEXT + HUGE_NUMBERS), st.integers().map(str), st.text(max_size=10))
    return st.lists(st.tuples(st.sampled_from(QUERY_KEYS), value), max_size=3)


def request_strategy(routes: Iterable[tuple[str, str]], session_ids: list[str], host: str) -> st.SearchStrategy:
    """RawRequests over `routes` ((method, template) pairs, e.g. ("GET", "/api/sessions/{id}"))."""
    routes = sorted(set(routes))

    @st.composite
    def build(draw: st.DrawFn) -> RawRequest:
        method, template = draw(st.sampled_from(routes))
        path = template
        while "{" in path:
            start = path.index("{")
            end = path.index("}", start)
            path = path[:start] + encode_segment(draw(_segment(session_ids))) + path[end + 1:]
        query = draw(_query())
        if query:
            path += "?" + "&".join(f"{encode_segment(k)}={encode_segment(v)}" for k, v in query)
        body = draw(_bodies()) if method in ("POST", "PATCH", "PUT", "DELETE") else b""
        content_type = draw(st.sampled_from([b"application/json", b"application/json", b"text/plain",
                                             b"multipart/form-data; boundary=x", b"multipart/form-data", None]))
        headers = [("Host", host.encode())]
        if content_type is not None and body:
            headers.append(("Content-Type", content_type))
        return RawRequest(method, path.encode("ascii"), headers, body)

    return build()


def send_raw(port: int, request: RawRequest, timeout: float = 10.0) -> Answer:
    """One request on its own connection; an event stream is cut after its head and first bytes."""
    head = [f"{request.method} ".encode() + request.path + b" HTTP/1.1"]
    head += [k.encode() + b": " + v for k, v in request.headers]
    head += [b"Content-Length: " + str(len(request.body)).encode(), b"Connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + request.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (413) before reading the whole body; the answer is still there
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head_bytes, _, rest = data.partition(b"\r\n\r\n")
        lines = head_bytes.split(b"\r\n")
        if not lines or len(lines[0].split(b" ")) < 2:
            raise ConnectionError(f"no HTTP answer: {data[:200]!r}")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(b":")
            headers[key.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
        if headers.get("content-type", "").startswith("text/event-stream"):
            return Answer(status, headers, rest)
        length = headers.get("content-length")
        while length is None or len(rest) < int(length):
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            rest += chunk
        return Answer(status, headers, rest)


def problem(answer: Answer) -> str | None:
    """What is wrong with an answer to a hostile request, or None."""
    if answer.status >= 500:
        return f"{answer.status}: {answer.body[:300]!r}"
    if answer.status >= 400 and answer.headers.get("content-type", "").startswith("application/json"):
        try:
            error = json.loads(answer.body)["error"]
            if not (isinstance(error["code"], int) and isinstance(error["message"], str)
                    and isinstance(error["type"], str)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return f"{answer.status} not in the error shape: {answer.body[:300]!r}"
    return None


def app_routes(app: object) -> list[tuple[str, str]]:
    """(method, path template) for every route of a Starlette app (HEAD left to GET)."""
    out = []
    for route in getattr(app, "routes", []):
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                out.append((method, route.path.replace(":path}", "}")))
    return out


# ---------------------------------------------------------------- a whole run


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0
    bad_shapes: int = 0
    statuses: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stream_alive: bool = True


def run_fuzz(port: int, routes: list[tuple[str, str]], count: int, *, seed: int | None = None) -> FuzzReport:
    """`count` generated requests against a running server; a watched stream must outlive them all."""
    from hypothesis import HealthCheck, given, settings

    host = f"127.0.0.1:{port}"
    with httpx.Client(base_url=f"http://{host}", timeout=30) as client:
        fresh = [create_session(client, "fuzz") for _ in range(3)]
    watched = fresh[0]
    watch = EventLog(port, watched)
    poll_until(lambda: watch.count("connected") == 1)
    report = FuzzReport()

    @settings(max_examples=count, deadline=None, database=None, derandomize=seed is not None,
              suppress_health_check=list(HealthCheck), phases=[__import__("hypothesis").Phase.generate])
    @given(request=request_strategy(routes, fresh, host))
    def one(request: RawRequest) -> None:
        if request.method == "DELETE" and watched.encode() in request.path and b"/files/" not in request.path:
            request = RawRequest("GET", request.path, request.headers[:1])  # deleting it would end its stream
        answer = send_raw(port, request)
        report.requests += 1
        report.statuses[answer.status] = report.statuses.get(answer.status, 0) + 1
        wrong = problem(answer)
        if wrong is not None:
            if answer.status >= 500:
                report.server_errors += 1
            else:
                report.bad_shapes += 1
            if len(report.failures) < 20:
                report.failures.append(f"{request.describe()} -> {wrong}")

    one()
    # The watched stream still delivers: a slash command on it must arrive as an event.
    before = watch.count("complete")
    with httpx.Client(base_url=f"http://{host}", timeout=30) as client:
        client.post(f"/api/sessions/{watched}/messages", json={"content": "/status"})
    report.stream_alive = poll_until(lambda: watch.count("complete") > before) and not watch.closed
    watch.close()
    return report
