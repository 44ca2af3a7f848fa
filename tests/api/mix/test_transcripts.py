"""Each reference transcript, served byte for byte over loopback HTTP, read by the real client and
folded into a TurnModel; the client's actions (grant, deny, cancel) go to the server for real."""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from tests.api.mix.loopback import SESSION_ID, read_until, serve, split_after_event, transcript
from tui.api import events as ev
from tui.api.mix import MixClient
from tui.api.turn import TextBlock, ThinkingBlock, ToolCall, ToolStatus, TurnModel, TurnStatus


@dataclass
class Script:
    """A transcript served in two parts: the second only after the client acted (grant/deny/cancel)."""

    first: bytes
    rest: bytes = b""
    gate: threading.Event = field(default_factory=threading.Event)
    actions: list[str] = field(default_factory=list)
    gated: bool = False


def transcript_app(script: Script) -> Starlette:
    async def stream(request: Request) -> StreamingResponse:
        assert request.query_params["sessionId"] == SESSION_ID

        async def body():
            # Small uneven chunks: frames split across reads, as on a real network.
            for i in range(0, len(script.first), 97):
                yield script.first[i:i + 97]
            if script.gated:
                await asyncio.to_thread(script.gate.wait, 10)
            if script.rest:
                yield script.rest

        return StreamingResponse(body(), media_type="text/event-stream")

    async def grant(request: Request) -> JSONResponse:
        pid = request.path_params["id"]
        script.actions.append(f"grant {pid}")
        script.gate.set()
        return JSONResponse({"status": "granted", "id": pid, "message": "Permission granted successfully"})

    async def deny(request: Request) -> JSONResponse:
        pid = request.path_params["id"]
        script.actions.append(f"deny {pid}")
        script.gate.set()
        return JSONResponse({"status": "denied", "id": pid, "message": "Permission denied successfully"})

    async def cancel(request: Request) -> JSONResponse:
        script.actions.append("cancel")
        script.gate.set()
        return JSONResponse({"status": "cancelled", "sessionId": request.path_params["id"]})

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse([])

    return Starlette(routes=[
        Route("/stream", stream),
        Route("/api/permissions/{id}/grant", grant, methods=["POST"]),
        Route("/api/permissions/{id}/deny", deny, methods=["POST"]),
        Route("/api/sessions/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/sessions/{id}/messages", messages),
    ])


def ticking_clock():
    counter = itertools.count()
    return lambda: float(next(counter))


async def play(name: str, *, gate_after: int | None = None, answer: bool | None = None, cancel_after: type | None = None):
    raw = transcript(name)
    script = Script(first=raw)
    if gate_after is not None:
        script.first, script.rest = split_after_event(raw, gate_after)
        script.gated = True
    turn = TurnModel(clock=ticking_clock())
    seen: list[ev.Event] = []
    with serve(transcript_app(script)) as url:
        client = MixClient(url, timeout=5)
        stream = client.stream(SESSION_ID)
        try:
            async with asyncio.timeout(10):
                async for event in stream:
                    seen.append(event)
                    turn.apply(event)
                    if isinstance(event, ev.PermissionRequest) and answer is not None:
                        assert turn.answer_permission(event.id, answer)
                        if answer:
                            result = await client.grant_permission(event.id)
                        else:
                            result = await client.deny_permission(event.id)
                        assert result.granted is answer and result.id == event.id
                    if cancel_after is not None and isinstance(event, cancel_after):
                        assert (await client.cancel_session(SESSION_ID)).cancelled
                    if turn.status.finished:
                        break
        finally:
            await stream.aclose()
            await client.aclose()
    assert not [e for e in seen if isinstance(e, (ev.MalformedEvent, ev.UnknownEvent))]
    assert seen[0] == ev.ConnectionChanged("connected")
    assert seen[1] == ev.Connected(SESSION_ID)
    return turn, seen, script.actions


def kinds(turn: TurnModel) -> list[str]:
    return [type(b).__name__ for b in turn.blocks]


async def test_01_plain_answer():
    turn, seen, _ = await play("01")
    assert any(isinstance(e, ev.Heartbeat) for e in seen)
    assert kinds(turn) == ["TextBlock"]
    assert turn.blocks[0].text == "Hello there, nice to meet you!"
    assert turn.answer == turn.final_text == "Hello there, nice to meet you!"
    assert turn.thinking == ""
    assert turn.tool_calls == [] and turn.pending_permissions == []
    assert turn.status is TurnStatus.COMPLETE
    assert turn.message_id == "a1b2c3d4-0001-4c1e-8f00-000000000001"
    assert turn.error is None
    assert turn.finished_at is not None and turn.duration > 0


async def test_02_answer_with_thinking():
    turn, _, _ = await play("02")
    assert kinds(turn) == ["ThinkingBlock", "TextBlock"]
    thinking = turn.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.text == "The user wants 17 times 3. 17*3 = 51."
    assert thinking.duration == 2.0  # the server's reasoningDuration, seconds
    assert turn.thinking == "The user wants 17 times 3. 17*3 = 51."
    assert turn.final_text == "17 × 3 = **51**."
    assert turn.status is TurnStatus.COMPLETE
    assert turn.message_id == "a1b2c3d4-0002-4c1e-8f00-000000000002"


def _the_tool(turn: TurnModel, tool_id: str, name: str) -> ToolCall:
    assert list(turn.tools) == [tool_id]
    tool = turn.tools[tool_id]
    assert tool.name == name
    assert turn.tool_calls == [tool]
    return tool


async def test_03_tool_permission_granted():
    turn, seen, actions = await play("03", gate_after=7, answer=True)
    assert actions == ["grant 9d4e2f10-5a6b-4c7d-8e9f-0a1b2c3d4e5f"]
    assert kinds(turn) == ["TextBlock", "ToolCall", "TextBlock"]
    assert turn.blocks[0].text == "I'll create the file."
    tool = _the_tool(turn, "toolu_01HxQm3kVt7ZpL2sWd9RbN4c", "bash")
    assert tool.input == '{"command":"touch draft.md"}'
    assert tool.params == {"command": "touch draft.md"}
    assert tool.status is ToolStatus.DONE and tool.success is True
    assert tool.progress == "Completed bash tool in 18.402ms"
    assert tool.duration is not None and tool.duration > 0
    assert tool.kind == "bash"
    assert tool.permission is not None and tool.permission.answer is True
    req = tool.permission.request
    assert (req.tool_name, req.description, req.action) == ("bash", "Execute command: touch draft.md", "Execute command: touch draft.md")
    assert req.params == {"command": "touch draft.md", "timeout": 0}
    assert req.session_id == SESSION_ID
    assert req.path.endswith(SESSION_ID)
    assert turn.pending_permissions == []
    assert turn.final_text == "Created `draft.md`."
    assert turn.answer == "I'll create the file.\n\nCreated `draft.md`."  # a tool call between: two paragraphs
    assert turn.status is TurnStatus.COMPLETE
    assert turn.message_id == "a1b2c3d4-0003-4c1e-8f00-000000000004"
    snapshots = [e for e in seen if isinstance(e, ev.ToolSnapshot)]
    assert [s.status for s in snapshots] == ["running", "completed", "completed"]


async def test_03_permission_is_pending_until_answered():
    """Without an answer the turn waits on the permission: the model shows it pending."""
    raw = transcript("03")
    first, _ = split_after_event(raw, 7)
    turn = TurnModel(clock=ticking_clock())
    script = Script(first=first, gated=True)
    with serve(transcript_app(script)) as url:
        async with MixClient(url, timeout=5) as client:
            await read_until(client.stream(SESSION_ID), ev.PermissionRequest, each=turn.apply)
        script.gate.set()
    tool = turn.tools["toolu_01HxQm3kVt7ZpL2sWd9RbN4c"]
    assert tool.status is ToolStatus.WAITING_PERMISSION
    assert [p.request.id for p in turn.pending_permissions] == ["9d4e2f10-5a6b-4c7d-8e9f-0a1b2c3d4e5f"]
    assert turn.status is TurnStatus.STREAMING


async def test_04_tool_permission_denied():
    turn, _, actions = await play("04", gate_after=7, answer=False)
    assert actions == ["deny 9d4e2f10-5a6b-4c7d-8e9f-0a1b2c3d4e5f"]
    assert kinds(turn) == ["TextBlock", "ToolCall", "TextBlock"]
    tool = _the_tool(turn, "toolu_01HxQm3kVt7ZpL2sWd9RbN4c", "bash")
    assert tool.status is ToolStatus.FAILED and tool.success is False
    assert tool.progress == "Failed bash tool after 4.211s: permission denied"
    assert tool.params == {"command": "touch draft.md"}
    assert tool.duration is not None and tool.duration > 0
    assert tool.permission is not None and tool.permission.answer is False
    assert turn.pending_permissions == []
    assert turn.final_text == "Okay, I did not run it. What should I do instead?"
    assert turn.status is TurnStatus.COMPLETE  # the model answered the denial; the turn still completes
    assert turn.error is None


async def test_05_error():
    turn, _, _ = await play("05")
    assert kinds(turn) == ["TextBlock"]
    assert turn.answer == "Let me look into that"
    assert turn.status is TurnStatus.ERROR
    assert isinstance(turn.error, ev.Error)
    assert turn.error.error == "failed to process events: provider stream error: overloaded_error (529)"
    assert turn.message_id is None


async def test_06_cancel():
    turn, _, actions = await play("06", gate_after=6, cancel_after=ev.ToolExecutionStart)
    assert actions == ["cancel"]
    assert kinds(turn) == ["TextBlock", "ToolCall"]
    assert turn.answer == "Running the long job now."
    tool = _the_tool(turn, "toolu_01Jr8sVn2PqW5yTc6Lm3Xa7E", "bash")
    assert tool.status is ToolStatus.FAILED and tool.success is False
    assert tool.progress == "Failed bash tool after 3.067s: context canceled"
    assert tool.input == ""  # the snapshot with the full input never came
    assert tool.params is None
    assert tool.duration is not None and tool.duration > 0
    assert turn.status is TurnStatus.CANCELLED
    assert turn.error is not None and turn.error.error == "request cancelled by user"


async def test_07_latest_server_tool_turn():
    turn, seen, actions = await play("07", gate_after=10, answer=True)
    assert actions == ["grant 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]
    assert turn.user_message_id == "b7e1c2d3-0007-4a2b-9c3d-000000000010"
    assert turn.user_text == "make a folder called out"
    assert kinds(turn) == ["ThinkingBlock", "TextBlock", "ToolCall", "TextBlock"]
    assert turn.blocks[0].text == "Use Bash."
    assert turn.blocks[0].duration is not None  # measured: the server sent no reasoningDuration
    assert turn.blocks[1].text == "Creating it."
    tool = _the_tool(turn, "toolu_01Kd5wZr9MnB3vXq7Ht2Ly6P", "Bash")  # toolName "" on execution events
    assert tool.input == '{"command":"mkdir out"}'
    assert tool.params == {"command": "mkdir out"}
    assert tool.kind == "bash"
    assert tool.status is ToolStatus.DONE and tool.success is True
    assert tool.progress == "Completed Bash tool in 9.87ms"
    assert tool.duration is not None and tool.duration > 0
    assert tool.permission is not None and tool.permission.answer is True
    assert tool.permission.request.tool_name == "Bash"
    assert turn.final_text == "Done: `out/` exists."
    assert turn.status is TurnStatus.COMPLETE
    assert turn.message_id == "b7e1c2d3-0007-4a2b-9c3d-000000000013"
    deltas = [e.input for e in seen if isinstance(e, ev.ToolParameterDelta)]
    assert "".join(deltas) == '{"command": "mkdir out"}'
    contents = [e for e in seen if isinstance(e, ev.ContentDelta)]
    assert contents[0].assistant_message_id == "b7e1c2d3-0007-4a2b-9c3d-000000000011"
