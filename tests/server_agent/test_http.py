"""The offline agent end to end: the real embedded server over loopback HTTP, turns started with the
seed-era streaming send, events read from the real SSE stream, permissions answered over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import httpx

from tests.fixtures.mix_server import RunningServer, mix_server  # noqa: F401
from tests.server_agent.shapes import shape

ASKING_TURN = ["thinking*", "content*", "tool:running", "tool:completed", "tool_execution_start", "permission",
               "tool_execution_complete", "tool:completed+input", "content*", "complete"]


class Stream:
    """One SSE connection: frames as (id, event, data, retry)."""

    def __init__(self, client: httpx.AsyncClient, session_id: str) -> None:
        self.client, self.session_id = client, session_id

    async def __aenter__(self) -> "Stream":
        self._cm = self.client.stream("GET", "/stream", params={"sessionId": self.session_id},
                                      timeout=httpx.Timeout(10, read=None))
        response = await self._cm.__aenter__()
        self._lines: AsyncIterator[str] = response.aiter_lines()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._cm.__aexit__(*exc)

    async def frame(self) -> tuple[int, str, Any, int]:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if not line:
                if fields:
                    return int(fields["id"]), fields["event"], json.loads(fields["data"]), int(fields["retry"])
                continue
            key, _, value = line.partition(": ")
            fields[key] = value
        raise AssertionError("the stream ended")

    async def until(self, *names: str, timeout: float = 10) -> list[tuple[int, str, Any, int]]:
        frames = []
        while True:
            frames.append(await asyncio.wait_for(self.frame(), timeout))
            if frames[-1][1] in names:
                return frames


async def send(c: httpx.AsyncClient, sid: str, text: str, plan_mode: bool = False) -> None:
    inner = json.dumps({"text": text, "plan_mode": plan_mode})
    reply = await c.post(f"/stream/{sid}/message", json={"content": inner})
    assert reply.json() == {"status": "broadcasted", "sessionId": sid}


def events(frames: list) -> list[tuple[str, dict]]:
    return [(f[1], f[2]) for f in frames if f[1] != "heartbeat"]


async def test_bash_turn_granted_over_sse_has_the_transcript_order(mix_server: RunningServer):
    sid = mix_server.create_session()["id"]
    folder = mix_server.settings.storage_dir / sid
    async with mix_server.async_client() as c, Stream(c, sid) as sse:
        assert (await sse.frame())[:2] == (1, "connected")
        await send(c, sid, "run `echo made > made.txt && cat made.txt`")
        frames = await sse.until("permission")
        permission = frames[-1][2]
        assert permission["sessionId"] == sid and permission["toolName"] == "bash"
        assert permission["path"] == str(folder)
        granted = await c.post(f"/api/permissions/{permission['id']}/grant")
        assert granted.status_code == 200
        frames += await sse.until("complete", "error")
    assert shape(events(frames)) == ASKING_TURN
    assert [f[0] for f in frames] == list(range(2, 2 + len(frames)))  # per-connection ids continue from connected
    assert frames[-1][2]["content"] == "Ran `echo made > made.txt && cat made.txt`. Output:\n\n```\nmade\n```"
    assert (folder / "made.txt").read_text() == "made\n"
    async with mix_server.async_client() as c:
        stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]
    call = stored[1]["toolCalls"][0]
    assert call["name"] == "bash" and json.loads(call["input"]) == {"command": "echo made > made.txt && cat made.txt"}
    assert stored[-1]["id"] == frames[-1][2]["messageId"]


async def test_cancel_mid_command_over_http(mix_server: RunningServer):
    sid = mix_server.create_session()["id"]
    folder = mix_server.settings.storage_dir / sid
    async with mix_server.async_client() as c, Stream(c, sid) as sse:
        await sse.frame()
        await send(c, sid, "run `sleep 20; touch late.txt`")
        permission = (await sse.until("permission"))[-1][2]
        await c.post(f"/api/permissions/{permission['id']}/grant")
        await asyncio.sleep(0.2)  # the command is running now
        cancelled = await c.post(f"/api/sessions/{sid}/cancel")
        assert cancelled.json() == {"cancelled": True, "status": "cancelled", "sessionId": sid}
        frames = await sse.until("complete", "error")
    names = [f[1] for f in frames]
    assert names[-2:] == ["tool_execution_complete", "error"]
    assert frames[-2][2]["success"] is False and frames[-2][2]["progress"].endswith(": context canceled")
    assert frames[-1][2] == {"error": "request cancelled by user"} and frames[-1][3] == 750
    assert not (folder / "late.txt").exists()
    async with mix_server.async_client() as c:
        stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
    assert [m["role"] for m in stored] == ["user", "assistant", "tool"]
    assert stored[1]["assistantResponse"].startswith("I'll run")


async def test_plan_then_proceed_across_turns(mix_server: RunningServer):
    sid = mix_server.create_session()["id"]
    folder = mix_server.settings.storage_dir / sid
    async with mix_server.async_client() as c, Stream(c, sid) as sse:
        await sse.frame()
        await send(c, sid, 'create notes.md with "planned"', plan_mode=True)
        frames = await sse.until("complete", "error")
        assert "permission" not in [f[1] for f in frames] and not (folder / "notes.md").exists()
        tools = [f[2]["name"] for f in frames if f[1] == "tool" and f[2]["input"]]
        assert tools == ["todo_write", "ls", "todo_write", "exit_plan_mode"]
        await send(c, sid, "Proceed")  # plan mode off now: the agent goes ahead, asking first
        permission = (await sse.until("permission"))[-1][2]
        assert permission["description"] == "Create file notes.md"
        await c.post(f"/api/permissions/{permission['id']}/grant")
        frames = await sse.until("complete", "error")
    assert frames[-1][1] == "complete" and frames[-1][2]["content"] == "All steps are done."
    assert (folder / "notes.md").read_text() == "planned\n"
