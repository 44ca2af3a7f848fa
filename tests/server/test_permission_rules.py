"""Standing permission answers (tui/server/permission_rules.py): for this session, or always for a
tool in a folder (stored, survives a restart), listed and revocable; malformed requests get 4xx."""

from __future__ import annotations

import json
import stat

from tests.fixtures.mix_server import async_running_server
from tests.server.agents import WriterAgent
from tests.server.sse import SSEReader


async def ask(c, sse, sid: str, text: str) -> dict:
    await c.post(f"/api/sessions/{sid}/messages", json={"content": text})
    return (await sse.until("permission"))[-1].data


async def runs_without_asking(c, sse, sid: str, text: str) -> list[str]:
    await c.post(f"/api/sessions/{sid}/messages", json={"content": text})
    return [f.event for f in await sse.until("complete")]


async def test_allow_for_this_session_stops_asking_in_it_only(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:
        sid, other = server.create_session()["id"], server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            perm = await ask(c, sse, sid, "first")
            r = await c.post(f"/api/permissions/{perm['id']}/remember", json={"scope": "session"})
            assert r.status_code == 200 and r.json()["rule"]["scope"] == "session" and r.json()["rule"]["tool"] == "write"
            await sse.until("complete")
            events = await runs_without_asking(c, sse, sid, "second")
            assert "permission" not in events and (server.settings.storage_dir / sid / "note.txt").read_text() == "second"
            decisions = [d["decision"] for d in server.app.state.store.permission_decisions(sid)]
            assert decisions[0] == "granted" and decisions[1].startswith("granted by rule")
        async with server.async_client() as c, SSEReader(c, other) as sse:
            await sse.next()
            assert (await ask(c, sse, other, "elsewhere"))["toolName"] == "write"  # another session still asks
            rules = (await c.get("/api/permission-rules")).json()["rules"]
            assert [(r["scope"], r["sessionId"]) for r in rules] == [("session", sid)]


async def test_always_in_this_folder_is_stored_listed_and_revocable(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            perm = await ask(c, sse, sid, "first")
            r = await c.post(f"/api/permissions/{perm['id']}/remember", json={"scope": "always"})
            rule = r.json()["rule"]
            assert rule["scope"] == "always" and rule["folder"] == perm["path"]
            await sse.until("complete")
    stored = tmp_path / "permission_rules.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and json.loads(stored.read_text())["rules"][0]["tool"] == "write"
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:  # restarted
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            assert [r["id"] for r in (await c.get("/api/permission-rules")).json()["rules"]] == [rule["id"]]
            assert "permission" not in await runs_without_asking(c, sse, sid, "again")
            assert (await c.delete(f"/api/permission-rules/{rule['id']}")).status_code == 204
            assert (await c.get("/api/permission-rules")).json() == {"rules": []}
            assert (await ask(c, sse, sid, "asked again"))["toolName"] == "write"


async def test_bad_remember_requests_are_4xx(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:
        async with server.async_client() as c:
            for body in (b"{", b"[]", b'{"scope": "forever"}', b"{}"):
                r = await c.post("/api/permissions/nope/remember", content=body)
                assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error"
            r = await c.post("/api/permissions/nope/remember", json={"scope": "session"})
            assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
            assert (await c.delete("/api/permission-rules/nope")).status_code == 404
