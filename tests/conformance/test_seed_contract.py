"""Seed contract: a broad set of real requests against `mix-tui serve --protocol seed` (real offline
agent), every response validated by openapi-core against openapi-seed.yaml and every SSE event against
its schema (tests/conformance/validator.py). Nothing is exempt except the statuses listed below, which
answer requests the spec does not describe at all.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid

import httpx
from PIL import Image

from tests.conformance.validator import AsyncValidatingTransport, Checker, Spec
from tests.fixtures.mix_server import async_running_server
from tui.config import Config, McpServerConfig

# (method, path template, status) -> why: answers to requests outside the spec (it says nothing about them)
UNDESCRIBED = {
    ("GET", "/stream", 400): "a missing sessionId (the spec makes it required but names no status)",
    ("GET", "/api/sessions/{id}/files", 400): "a session id that is not a UUID (Go's 400 validation_error, §8)",
}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 32), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def _template(path: str, sid: str, missing: str) -> str:
    return path.replace(sid, "{id}").replace(missing, "{id}").replace("not-a-uuid", "{id}")


async def test_every_response_matches_the_seed_spec(tmp_path):
    checker = Checker(Spec("seed"))
    config = Config(mcp_servers=[McpServerConfig(name="docs", command="mcp-docs")])
    async with async_running_server(tmp_path / "srv", config=config, max_upload_bytes=4096, protocol="seed") as server:
        transport = AsyncValidatingTransport(checker)
        async with httpx.AsyncClient(base_url=server.url, transport=transport, timeout=30) as c:
            missing = str(uuid.uuid4())
            # system
            for path in ("/health", "/api/commands", "/api/commands/help", "/api/commands/nope", "/api/mcp",
                         "/api/tools/status", "/api/auth/status", "/api/auth/validate", "/api/preferences",
                         "/api/preferences/providers", "/api/messages/history", "/api/sessions"):
                await c.get(path)
            # auth
            await c.post("/api/auth/api-key", json={"provider": "anthropic", "api_key": "sk-ant-" + "k" * 40})
            await c.post("/api/auth/api-key", json={"provider": "anthropic", "api_key": "bad"})
            await c.post("/api/auth/api-key", json={"provider": "brave", "api_key": "x"})
            await c.post("/api/auth/api-key", json={})
            await c.post("/api/auth/oauth/anthropic")
            await c.post("/api/auth/oauth-callback", json={"provider": "anthropic", "code": "c", "state": "s"})
            await c.delete("/api/auth/anthropic")
            await c.delete("/api/auth/nobody")
            # preferences
            await c.post("/api/preferences", json={"main_agent_max_tokens": 1000})
            await c.post("/api/preferences", json={"main_agent_model": "nope"})
            await c.post("/api/preferences/reset")
            # sessions
            await c.post("/api/sessions", json={"title": ""})
            await c.post("/api/sessions", json={"title": "x", "bogus": 1})
            sid = (await c.post("/api/sessions", json={"title": "contract"})).json()["id"]
            await c.get(f"/api/sessions/{sid}")
            await c.get(f"/api/sessions/{missing}")
            await c.get(f"/api/sessions/{missing}/messages")
            # messages (sync, seed shape and later shape, slash commands, errors)
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "hello"})
            await c.post(f"/api/sessions/{sid}/messages", json={"text": "list files", "plan_mode": True})
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "/help"})
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "/nope"})
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "x", "media": []})
            await c.post(f"/api/sessions/{missing}/messages", json={"content": "x"})
            await c.get(f"/api/sessions/{sid}/messages")
            await c.get("/api/messages/history", params={"limit": 2, "offset": 0})
            await c.get("/api/sessions")
            # fork and cancel
            await c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 2, "title": "fork"})
            await c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": -3})
            await c.post(f"/api/sessions/{missing}/fork", json={"messageIndex": 1})
            await c.post(f"/api/sessions/{sid}/cancel")
            await c.get("/api/sessions")
            # files
            await c.get(f"/api/sessions/{sid}/files")
            await c.get("/api/sessions/not-a-uuid/files")
            await c.get(f"/api/sessions/{missing}/files")
            await c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("my pic.png", _png())})
            await c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("notes.txt", b"abc")})
            await c.post(f"/api/sessions/{sid}/files/upload", files={"nofile": ("a", b"a")})
            await c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("big.bin", b"z" * 10000)})
            await c.post(f"/api/sessions/{missing}/files/upload", files={"file": ("a", b"a")})
            await c.get(f"/api/sessions/{sid}/files/my_pic.png")
            await c.get(f"/api/sessions/{sid}/files/my_pic.png", params={"thumb": "w32"})
            await c.get(f"/api/sessions/{sid}/files/notes.txt", params={"thumb": "32"})
            await c.get(f"/api/sessions/{sid}/files/none.txt")
            await c.delete(f"/api/sessions/{sid}/files/notes.txt")
            await c.delete(f"/api/sessions/{sid}/files/notes.txt")
            # permissions (unknown ids: 404, as the spec says)
            await c.post(f"/api/permissions/{missing}/grant")
            await c.post(f"/api/permissions/{missing}/deny")
            # streaming send
            await c.post(f"/stream/{sid}/message", json={"content": json.dumps({"text": "/status"})})
            await c.post(f"/stream/{sid}/message", content=b"{")
            await c.post(f"/stream/{missing}/message", json={"content": "hi"})
            await c.get("/stream")
            await c.get("/stream", params={"sessionId": missing})


            # a live turn with a permission; every event checked as it is read
            async with c.stream("GET", "/stream", params={"sessionId": sid}) as sse:
                lines = sse.aiter_lines()
                reply = asyncio.create_task(c.post(f"/api/sessions/{sid}/messages",
                                                   json={"content": "create a file a.txt containing hi"}))
                async for line in lines:
                    if line.startswith("data: ") and '"type":"permission"' in line:
                        await c.post(f"/api/permissions/{json.loads(line[6:])['id']}/grant")
                    if line.startswith("event: complete") or line.startswith("event: error"):
                        break
                await reply
            await c.delete(f"/api/sessions/{sid}")
            await c.delete(f"/api/sessions/{sid}")

    exempt = [p for p in checker.problems
              if any(p.startswith(f"{m} ") and f" -> {s}:" in p for (m, _, s) in UNDESCRIBED)]
    assert [p for p in checker.problems if p not in exempt] == [], "\n".join(checker.problems)
    assert {"connected", "tool", "tool_execution_start", "permission", "tool_execution_complete", "complete"} <= set(checker.events)
    # every operation of the seed spec was exercised
    spec_ops = {(m.upper(), t) for t, ops in checker.spec.document["paths"].items() for m in ops}
    seen_ops = {(m, _template(p, sid, missing)) for (m, p, _) in checker.operations}
    seen_ops = {(m, p.replace("/files/my_pic.png", "/files/{filename}").replace("/files/notes.txt", "/files/{filename}")
                 .replace("/files/none.txt", "/files/{filename}").replace("/files/%2e%2e%2fserver.db", "/files/{filename}")
                 .replace("/files/../server.db", "/files/{filename}").replace("/api/commands/help", "/api/commands/{name}")
                 .replace("/api/commands/nope", "/api/commands/{name}").replace("/api/auth/anthropic", "/api/auth/{provider}")
                 .replace("/api/auth/nobody", "/api/auth/{provider}").replace("/api/auth/oauth/anthropic", "/api/auth/oauth/{provider}")
                 .replace(f"/api/permissions/{missing}", "/api/permissions/{id}").replace(f"/stream/{sid}", "/stream/{id}")
                 .replace(f"/stream/{missing}", "/stream/{id}"))
                for (m, p) in seen_ops}
    assert spec_ops - seen_ops == set()
    assert len(exempt) <= len(UNDESCRIBED) * 2
