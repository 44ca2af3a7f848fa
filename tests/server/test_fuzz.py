"""No request input makes the server answer 5xx or end another client's stream.

A sample of generated hostile requests runs here; `make soak` runs 10,000+ (benchmarks/soak.py).
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.mix_server import running_server
from tests.support.fuzz import RawRequest, app_routes, problem, run_fuzz, send_raw
from tests.support.serve_process import EventLog, poll_until

SAMPLE = 400


def test_generated_hostile_requests_never_get_a_5xx_nor_end_a_stream(tmp_path):
    with running_server(tmp_path) as server:
        report = run_fuzz(server.port, app_routes(server.app), SAMPLE, seed=19)
    assert report.failures == []
    assert report.requests == SAMPLE and report.stream_alive
    assert sum(n for status, n in report.statuses.items() if 400 <= status < 500) > SAMPLE // 4  # it did probe


def _post(port: int, path: str, body: bytes, content_type: bytes = b"application/json") -> RawRequest:
    return RawRequest("POST", path.encode(), [("Host", f"127.0.0.1:{port}".encode()), ("Content-Type", content_type)],
                      body)


def _get(port: int, path: str) -> RawRequest:
    return RawRequest("GET", path.encode(), [("Host", f"127.0.0.1:{port}".encode())])


def test_the_inputs_that_once_gave_500_now_get_4xx_in_the_error_shape(tmp_path):
    with running_server(tmp_path) as server:
        port = server.port
        sid = server.create_session()["id"]
        cases = {
            "history limit past 2**63": (_get(port, "/api/messages/history?limit=9223372036854775808"), {200}),
            "lone surrogate title": (_post(port, "/api/sessions", b'{"title":"\\ud800"}'), {400}),
            "JSON 100,000 deep": (_post(port, "/api/sessions", b"[" * 100_000 + b"]" * 100_000), {400}),
            "objects 50,000 deep": (_post(port, "/api/sessions", b'{"a":' * 50_000 + b"1" + b"}" * 50_000), {400}),
            "10 MB title": (_post(port, "/api/sessions", b'{"title":"' + b"x" * (10 * 1024 * 1024) + b'"}'), {413}),
            "5,000-character file name": (_get(port, f"/api/sessions/{sid}/files/{'a' * 5000}"), {400, 404}),
            "surrogate in a session id": (_get(port, "/api/sessions/%ED%A0%80"), {400, 404}),
            "NUL in a file name": (_get(port, f"/api/sessions/{sid}/files/a%00b"), {400, 404}),
            "invalid UTF-8 body": (_post(port, "/api/sessions", b'{"title":"\xff"}'), {400}),
            "lone surrogate message": (_post(port, f"/api/sessions/{sid}/messages", b'{"content":"/\\ud800"}'), {400}),
        }
        for name, (request, expected) in cases.items():
            answer = send_raw(port, request)
            assert problem(answer) is None, name
            assert answer.status in expected, (name, answer.status, answer.body[:200])
        with server.client() as c:
            assert all(s["title"] != "\ud800" for s in c.get("/api/sessions").json())


def test_a_lone_surrogate_slash_command_does_not_end_the_sessions_streams(tmp_path):
    with running_server(tmp_path, protocol="seed") as server:
        port = server.port
        sid = server.create_session()["id"]
        watch = EventLog(port, sid)
        try:
            assert poll_until(lambda: watch.count("connected") == 1)
            for path in (f"/stream/{sid}/message", f"/api/sessions/{sid}/messages"):
                answer = send_raw(port, _post(port, path, b'{"content":"/\\ud800"}'))
                assert answer.status == 400, answer.body
            # nested in the seed's {"text"} envelope: not a command, at most a plain turn (escaped text)
            nested = json.dumps({"content": json.dumps({"text": "/\ud800"})}).encode()
            assert send_raw(port, _post(port, f"/stream/{sid}/message", nested)).status in (200, 400)
            before = watch.count("complete")
            assert send_raw(port, _post(port, f"/stream/{sid}/message", b'{"content":"/status"}')).status == 200
            assert poll_until(lambda: watch.count("complete") > before)
            assert not watch.closed
        finally:
            watch.close()


@pytest.mark.parametrize("payload", [{"content": "/\ud800"}, {"error": "x\udfffy"}])
def test_hub_frames_are_valid_utf8_whatever_is_published(payload):
    from tui.server.hub import Connection, encode

    frame = Connection("s").frame("complete", encode(payload))
    frame.encode("utf-8")  # raises if a lone surrogate slipped through
    assert json.loads(frame.split("data: ", 1)[1].split("\n", 1)[0]) == payload
