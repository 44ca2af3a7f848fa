"""`!` shell passthrough and the scripted agent."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_agent.context import RecordingContext
from tests.server_agent.shapes import shape
from tui.server.agent import ScriptedAgent, run_shell_passthrough


async def test_passthrough_granted_answers_with_one_code_block(ctx, session_dir):
    (session_dir / "a.txt").write_text("x")
    await run_shell_passthrough(ctx, "ls")
    assert ctx.names() == ["permission", "complete"]
    perm = ctx.of("permission")[0]
    assert perm["toolName"] == "bash" and perm["description"] == perm["action"] == "Execute command: ls"
    assert perm["params"] == {"command": "ls", "timeout": 0} and perm["path"] == str(session_dir)
    done = ctx.of("complete")[0]
    assert done == {"type": "complete", "content": "```\na.txt\n```", "done": True}
    assert ctx.messages[0]["role"] == "assistant" and ctx.messages[0]["text"] == done["content"]


async def test_passthrough_accepts_the_bang_and_reports_failure(ctx):
    await run_shell_passthrough(ctx, "!echo oops; exit 2")
    assert ctx.of("permission")[0]["params"]["command"] == "echo oops; exit 2"
    assert ctx.of("complete")[0]["content"] == "Error: exit status 2\n\n```\noops\n[exit code 2]\n```"


async def test_passthrough_denied_runs_nothing(session_dir):
    ctx = RecordingContext(session_dir, permission_answer="deny")
    await run_shell_passthrough(ctx, "touch made.txt")
    assert ctx.names() == ["permission", "complete"]
    assert ctx.of("complete")[0]["content"] == "Error: permission denied; the command was not run."
    assert not (session_dir / "made.txt").exists()


async def test_passthrough_in_plan_mode_is_refused_without_asking(session_dir):
    ctx = RecordingContext(session_dir, plan_mode=True)
    await run_shell_passthrough(ctx, "touch made.txt")
    assert ctx.names() == ["complete"]
    assert ctx.of("complete")[0]["content"].startswith("Error: plan mode is on: the agent may only read")
    assert not (session_dir / "made.txt").exists()


async def test_passthrough_empty_command(ctx):
    await run_shell_passthrough(ctx, "  ")
    assert ctx.names() == ["complete"] and ctx.of("complete")[0]["content"].startswith("Error: no command")


async def test_scripted_agent_streams_exactly_its_chunks(ctx):
    agent = ScriptedAgent(["Let me ", "think."], ["Hello", ", ", "world"])
    await agent.run_turn(ctx, "anything")
    assert ctx.names() == ["thinking", "thinking", "content", "content", "content", "complete"]
    assert [d["content"] for d in ctx.of("content")] == ["Hello", ", ", "world"]
    done = ctx.of("complete")[0]
    assert done["content"] == "Hello, world" and done["reasoning"] == "Let me think."
    assert done["messageId"] == ctx.messages[0]["id"] and ctx.messages[0]["text"] == "Hello, world"


async def test_scripted_agent_big_answer_is_fast(ctx):
    chunks = [f"w{i % 10} " for i in range(2800)]
    agent = ScriptedAgent([], chunks)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await agent.run_turn(ctx, "go")
    assert len(ctx.of("content")) == 2800 and "reasoning" not in ctx.of("complete")[0]
    assert shape(ctx.events) == ["content*", "complete"]
    assert loop.time() - started < 1.0


async def test_scripted_agent_cancel_stores_what_was_sent(session_dir):
    ctx = RecordingContext(session_dir)
    agent = ScriptedAgent([], ["a", "b", "c", "d"], delay=0.05)
    task = asyncio.create_task(agent.run_turn(ctx, "go"))
    while len(ctx.of("content")) < 2:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "complete" not in ctx.names()
    assert ctx.messages[0]["finish_reason"] == "canceled" and ctx.messages[0]["text"] == "ab"
