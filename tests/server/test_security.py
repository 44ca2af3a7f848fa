"""Loopback guard: Host (DNS rebinding), Origin, no CORS, bearer token."""

from __future__ import annotations

import httpx

from tests.fixtures.mix_server import running_server


def test_host_header_must_be_this_loopback_server(mix_server):
    port = mix_server.port
    with httpx.Client(base_url=mix_server.url) as c:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
            assert c.get("/health", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", f"10.0.0.1:{port}", ""):
            r = c.get("/api/sessions", headers={"Host": host})
            assert r.status_code == 403, host
            assert r.json()["error"]["code"] == 403


def test_origin_must_be_the_same_loopback_origin(mix_server):
    with httpx.Client(base_url=mix_server.url) as c:
        assert c.get("/health", headers={"Origin": mix_server.url}).status_code == 200
        for origin in ("http://evil.example", "null", f"https://127.0.0.1:{mix_server.port}", "http://127.0.0.1:1"):
            r = c.post("/api/sessions", json={"title": "x"}, headers={"Origin": origin})
            assert r.status_code == 403, origin
        assert c.get("/api/sessions").json() == []


def test_no_cors_headers_and_no_preflight_approval(mix_server):
    with httpx.Client(base_url=mix_server.url) as c:
        r = c.get("/health")
        assert not any(k.lower().startswith("access-control-") for k in r.headers)
        r = c.options("/api/sessions", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
        r = c.options("/api/sessions")
        assert r.status_code == 405 and "access-control-allow-origin" not in r.headers


def test_token_required_everywhere_when_set(tmp_path):
    with running_server(tmp_path, token="tok-123") as server:
        with httpx.Client(base_url=server.url) as bare:
            for method, path in (("GET", "/health"), ("GET", "/api/sessions"), ("POST", "/api/sessions"),
                                 ("GET", "/stream?sessionId=x"), ("GET", "/nope")):
                r = bare.request(method, path)
                assert r.status_code == 401, path
                assert r.json() == {"error": {"code": 401, "message": "Missing or invalid bearer token", "type": "unauthorized"}}
            assert bare.get("/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert bare.get("/health", headers={"Authorization": "tok-123"}).status_code == 401
        with server.client() as c:
            assert c.get("/health").status_code == 200
            assert c.post("/api/sessions", json={"title": "ok"}).status_code == 201


def _raw_request(port: int, head_lines: list[str]) -> int:
    """Send a hand-built request (httpx merges duplicate headers) and return its status code."""
    from tests.support.fuzz import RawRequest, send_raw

    method, path, _ = head_lines[0].split(" ")
    headers = [(k, v.strip().encode("latin-1")) for k, _, v in (line.partition(":") for line in head_lines[1:])
               if k.lower() != "connection"]
    return send_raw(port, RawRequest(method, path.encode(), headers)).status


def test_any_foreign_origin_among_several_is_refused(mix_server):
    port, ours = mix_server.port, mix_server.url
    for origins in (["http://evil.example", ours], [ours, "http://evil.example"], [ours, "null"]):
        lines = ["GET /api/sessions HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"Origin: {o}" for o in origins]
        assert _raw_request(port, lines) == 403, origins
    both_ours = ["GET /api/sessions HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Origin: {ours}", f"Origin: {ours}",
                 "Connection: close"]
    assert _raw_request(port, both_ours) == 200


def test_two_host_headers_are_refused(mix_server):
    port = mix_server.port
    two_hosts = ([f"127.0.0.1:{port}", "evil.example"], ["evil.example", f"127.0.0.1:{port}"],
                 [f"127.0.0.1:{port}", f"127.0.0.1:{port}"])
    for hosts in two_hosts:
        lines = ["GET /health HTTP/1.1", *[f"Host: {h}" for h in hosts], "Connection: close"]
        assert _raw_request(port, lines) in (400, 403), hosts  # uvicorn's h11 refuses them first (400)
    # The guard itself refuses them too, whatever HTTP parser sits in front of it.
    import asyncio

    from tui.server.security import LoopbackGuard

    reached = []

    async def app(scope, receive, send):
        reached.append(scope)

    for hosts in two_hosts:
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "server": ("127.0.0.1", port), "headers": [(b"host", h.encode()) for h in hosts]}
        asyncio.run(LoopbackGuard(app)(scope, None, send))
        assert sent[0]["status"] == 403, hosts
    assert reached == []
