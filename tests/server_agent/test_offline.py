"""The offline agent, driven through a real TurnContext: event order (as in the transcripts),
what it stores, and what it does to the session folder."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from tests.server_agent.context import RecordingContext
from tests.server_agent.shapes import shape, transcript_events
from tui.server.agent import OfflineAgent, get_todos

TOOL_TURN = ["thinking*", "content*", "tool:running", "tool:completed", "tool_execution_start",
             "tool_execution_complete", "tool:completed+input", "content*", "complete"]
ASKING_TURN = TOOL_TURN[:5] + ["permission"] + TOOL_TURN[5:]


async def run(ctx: RecordingContext, text: str) -> RecordingContext:
    await OfflineAgent().run_turn(ctx, text)
    return ctx


def final(ctx: RecordingContext) -> dict:
    assert ctx.names()[-1] == "complete" and ctx.names().count("complete") == 1
    return ctx.of("complete")[0]


def test_turn_shapes_match_the_reference_transcripts():
    # Transcripts have no thinking; ours always starts with it. The rest must be the same order.
    assert shape(transcript_events("03-tool-permission-granted.sse")) == ASKING_TURN[1:]
    assert shape(transcript_events("04-tool-permission-denied.sse")) == ASKING_TURN[1:]
    assert shape(transcript_events("02-answer-with-thinking.sse")) == ["thinking*", "content*", "complete"]


async def test_plain_answer_explains_what_it_can_do(ctx):
    await run(ctx, "Hello there, who are you?")
    assert shape(ctx.events) == ["thinking*", "content*", "complete"]
    done = final(ctx)
    assert list(done) == ["type", "content", "messageId", "done", "reasoning", "reasoningDuration"]
    assert done["content"] == ctx.text() and "```" in done["content"] and "run ls -la" in done["content"]
    assert done["reasoning"] == ctx.text("thinking") and "Hello there, who are you?" in done["reasoning"]
    assert isinstance(done["reasoningDuration"], float)
    assert len(ctx.of("content")) > 50  # streamed in small pieces
    assert max(len(d["content"]) for d in ctx.of("content")) < 40
    [msg] = ctx.messages
    assert msg["id"] == done["messageId"] and msg["role"] == "assistant" and msg["model"] == "offline-1"
    assert msg["reasoning"] == done["reasoning"] and msg["finish_reason"] == "end_turn"


async def test_chunk_delay_paces_the_stream(session_dir):
    ctx = RecordingContext(session_dir, chunk_delay=0.002)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await run(ctx, "hi")
    chunks = len(ctx.of("content")) + len(ctx.of("thinking"))
    assert loop.time() - started >= chunks * 0.002 * 0.9


async def test_listing(ctx, session_dir):
    (session_dir / "a.txt").write_text("hi\n")
    (session_dir / "docs").mkdir()
    await run(ctx, "Could you list the files?")
    assert shape(ctx.events) == TOOL_TURN
    snapshots = ctx.of("tool")
    assert {s["id"] for s in snapshots} == {ctx.of("tool_execution_start")[0]["toolCallId"]}
    assert snapshots[0]["id"].startswith("toolu_01") and snapshots[-1]["input"] == "{}"
    assert list(snapshots[0]) == ["type", "name", "input", "id", "status"]
    done = final(ctx)
    assert done["content"] == "The session folder has 2 entries:\n\n```\na.txt  (3 bytes)\ndocs/\n```"
    assert "reasoning" not in done  # the last message had no thinking (it belongs to the first one)
    # stored like Go: assistant with the call, tool message with the result, final assistant
    assert [m["role"] for m in ctx.messages] == ["assistant", "tool", "assistant"]
    call = ctx.messages[0]["tool_calls"][0]
    assert list(call) == ["id", "name", "input", "type", "finished", "result", "isError"]
    assert call["type"] == "tool_use" and call["finished"] and call["name"] == "ls"
    assert ctx.messages[0]["text"] == "Let me look at the session folder." and ctx.messages[0]["reasoning"]
    assert ctx.messages[1]["tool_calls"] == [{"id": call["id"], "name": "ls", "result": call["result"], "isError": False}]
    assert ctx.messages[2]["id"] == done["messageId"]


async def test_read(ctx, session_dir):
    (session_dir / "app.py").write_text("print('hi')\n")
    await run(ctx, "show me app.py")
    assert shape(ctx.events) == TOOL_TURN
    assert json.loads(ctx.of("tool")[-1]["input"]) == {"file_path": "app.py"}
    assert final(ctx)["content"] == "Here is `app.py` (1 line):\n\n```python\nprint('hi')\n```"


async def test_read_missing_file_says_so(ctx):
    await run(ctx, "read missing.md")
    assert final(ctx)["content"] == "I could not read `missing.md`: file not found: missing.md"


async def test_grep(ctx, session_dir):
    (session_dir / "a.md").write_text("alpha\nTODO: beta\n")
    (session_dir / "b.md").write_text("nothing\n")
    await run(ctx, 'search for "TODO"')
    assert shape(ctx.events) == TOOL_TURN
    assert json.loads(ctx.of("tool")[-1]["input"]) == {"pattern": "TODO", "literal": True}
    assert final(ctx)["content"] == "Found 1 match in 1 file:\n\n```\na.md:2: TODO: beta\n```"
    ctx2 = await run(RecordingContext(session_dir), "grep zebra")
    assert final(ctx2)["content"] == "No matches for `zebra` in the session folder."


async def test_write_granted(ctx, session_dir):
    await run(ctx, 'create notes.md with "hello"')
    assert shape(ctx.events) == ASKING_TURN
    assert (session_dir / "notes.md").read_text() == "hello\n"
    perm = ctx.of("permission")[0]
    assert perm["toolName"] == "write" and perm["description"] == "Create file notes.md"
    assert "+hello" in perm["params"]["diff"]
    done = final(ctx)
    assert done["content"] == "Created `notes.md`."  # only the last assistant message, as Go does
    assert ctx.text() == "I'll create `notes.md`.Created `notes.md`."


async def test_write_from_a_fenced_block(ctx, session_dir):
    await run(ctx, "Please create a file called plan.txt:\n```\nstep one\nstep two\n```")
    assert (session_dir / "plan.txt").read_text() == "step one\nstep two\n"


async def test_write_denied_says_so_and_changes_nothing(session_dir):
    ctx = await run(RecordingContext(session_dir, permission_answer="deny"), 'create notes.md with "hello"')
    assert shape(ctx.events) == ASKING_TURN
    assert not (session_dir / "notes.md").exists()
    assert ctx.of("tool_execution_complete")[0]["success"] is False
    assert final(ctx)["content"] == "Permission was denied, so I did not write `notes.md`. Nothing was changed."
    assert ctx.messages[1]["tool_calls"][0]["isError"] is True


async def test_permission_timeout_behaves_as_denied(session_dir):
    ctx = RecordingContext(session_dir, permission_answer="timeout", permission_timeout=0.02)
    await run(ctx, "run touch made.txt")
    assert shape(ctx.events) == ASKING_TURN
    assert not (session_dir / "made.txt").exists()
    assert ctx.of("tool_execution_complete")[0]["progress"].endswith("permission denied")
    assert final(ctx)["content"] == "Permission was denied, so I did not run `touch made.txt`. Nothing was changed."


async def test_edit(ctx, session_dir):
    (session_dir / "greeting.txt").write_text("hello world\n")
    await run(ctx, 'replace "world" with "there" in greeting.txt')
    assert shape(ctx.events) == ASKING_TURN
    assert (session_dir / "greeting.txt").read_text() == "hello there\n"
    assert ctx.of("permission")[0]["description"] == "Replace content in file greeting.txt"
    content = final(ctx)["content"]
    assert content.startswith("Edited `greeting.txt`: 1 replacement.") and "-hello world\n+hello there" in content


async def test_edit_that_cannot_apply_asks_nobody(ctx, session_dir):
    (session_dir / "greeting.txt").write_text("hello world\n")
    await run(ctx, "in greeting.txt replace moon with sun")
    assert "permission" not in ctx.names()
    assert final(ctx)["content"] == "I could not edit `greeting.txt`: old_string was not found in greeting.txt"


async def test_bash_granted_shows_output(ctx, session_dir):
    (session_dir / "x.txt").write_text("")
    await run(ctx, "run `ls`")
    assert shape(ctx.events) == ASKING_TURN
    assert ctx.of("permission")[0]["params"] == {"command": "ls", "timeout": 0}
    assert final(ctx)["content"] == "Ran `ls`. Output:\n\n```\nx.txt\n```"


async def test_bash_failure_reports_exit_code_and_output(ctx):
    await run(ctx, "run cat nothing-here")
    content = final(ctx)["content"]
    assert content.startswith("`cat nothing-here` failed with exit code 1. Its output:\n\n```\n")
    assert "nothing-here" in content.split("```")[1]


async def test_cancel_during_running_bash_kills_it_and_keeps_partial_text(ctx, session_dir):
    task = asyncio.create_task(run(ctx, "run `sleep 30 & echo $! > child.pid; wait`"))
    pid_file = session_dir / "child.pid"
    for _ in range(500):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.01)
    child = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert shape(ctx.events) == ASKING_TURN[:7]  # … permission, failed completion; the runner sends the error
    done = ctx.of("tool_execution_complete")[0]
    assert done["success"] is False
    assert re.fullmatch(r"Failed bash tool after [\d.]+(µs|ms|s): context canceled", done["progress"])
    stat = Path(f"/proc/{child}/stat")
    for _ in range(100):  # killed: gone, or a zombie waiting to be reaped by init
        if not stat.exists() or stat.read_text().split(") ")[1][0] == "Z":
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the command's child process is still running")
    assistant, tool = ctx.messages
    assert assistant["finish_reason"] == "canceled" and assistant["text"].startswith("I'll run ")
    assert assistant["tool_calls"][0]["result"] == "Tool execution cancelled"
    assert tool["role"] == "tool"


async def test_cancel_while_waiting_for_permission(session_dir):
    waiting = asyncio.Event()

    async def never(_request: dict) -> bool:
        waiting.set()
        await asyncio.sleep(3600)
        return True

    ctx = RecordingContext(session_dir, permission_answer=never)
    task = asyncio.create_task(run(ctx, 'create a.txt with "x"'))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctx.of("tool_execution_complete")[0]["progress"].endswith(": context canceled")
    assert not (session_dir / "a.txt").exists()


async def test_plan_mode_plans_instead_of_writing(session_dir):
    ctx = await run(RecordingContext(session_dir, plan_mode=True), 'create notes.md with "hi"')
    assert "permission" not in ctx.names()
    assert not (session_dir / "notes.md").exists()
    names = [s["name"] for s in ctx.of("tool") if s["status"] == "completed" and s["input"]]
    assert names == ["todo_write", "ls", "todo_write", "exit_plan_mode"]
    plan = json.loads(ctx.of("tool")[-1]["input"])["plan"]
    assert "1. Create `notes.md` with the requested content" in plan
    assert "Plan mode is on" in ctx.text("thinking")


async def test_plan_mode_still_reads(session_dir):
    (session_dir / "a.txt").write_text("hi\n")
    ctx = await run(RecordingContext(session_dir, plan_mode=True), "read a.txt")
    assert shape(ctx.events) == TOOL_TURN and "hi" in final(ctx)["content"]


async def test_planning_turn_updates_todos_and_exits_plan_mode(session_dir):
    (session_dir / "draft.md").write_text("# Draft\n")
    ctx = await run(RecordingContext(session_dir, plan_mode=True),
                    "plan a blog post: outline the sections, write the intro and then proofread it")
    todo_inputs = [json.loads(s["input"])["todos"] for s in ctx.of("tool") if s["name"] == "todo_write" and s["input"]]
    assert len(todo_inputs) == 2
    first, second = todo_inputs
    assert [t["content"] for t in first] == ["Look at the files in the session folder", "A blog post: outline the sections",
                                             "Write the intro", "Proofread it", "Check the result"]
    assert [t["status"] for t in first] == ["in_progress", "pending", "pending", "pending", "pending"]
    assert [t["status"] for t in second] == ["completed", "pending", "pending", "pending", "pending"]
    assert get_todos(ctx.session_id)[0]["status"] == "completed"
    plan = json.loads(ctx.of("tool")[-1]["input"])["plan"]
    assert plan.startswith("## Plan: a blog post") and "`draft.md`" in plan and "### Steps" in plan
    assert final(ctx)["content"].startswith("The plan is ready.")
    assert [m["role"] for m in ctx.messages] == ["assistant", "tool"] * 4 + ["assistant"]


async def test_proceed_carries_out_the_plan(session_dir):
    planning = await run(RecordingContext(session_dir, plan_mode=True), 'create notes.md with "hi"')
    history = [{"role": "user", "text": 'create notes.md with "hi"\n<system-reminder>plan mode</system-reminder>',
                "tool_calls": [], "reasoning": ""}] + planning.next_turn_history()
    ctx = await run(RecordingContext(session_dir, history=history), "Proceed")
    assert (session_dir / "notes.md").read_text() == "hi\n"
    todo_inputs = [json.loads(s["input"])["todos"] for s in ctx.of("tool") if s["name"] == "todo_write" and s["input"]]
    assert [t["status"] for t in todo_inputs[0]] == ["completed", "in_progress", "pending"]
    assert [t["status"] for t in todo_inputs[-1]] == ["completed", "completed", "completed"]
    assert final(ctx)["content"] == "All steps are done."


async def test_proceed_without_a_plan_is_just_help(ctx):
    await run(ctx, "go ahead")
    assert shape(ctx.events) == ["thinking*", "content*", "complete"]


async def test_a_big_file_goes_out_in_a_few_events_not_word_by_word(session_dir):
    from tui.server.agent.base import STREAMED_WORDS

    lines = [f"line {i} " + "word " * 40 for i in range(2000)]
    (session_dir / "big.txt").write_text("\n".join(lines) + "\n")  # ~85,000 words, 0.5 MB
    ctx = RecordingContext(session_dir, chunk_delay=0.001)
    started = asyncio.get_running_loop().time()
    await run(ctx, "read big.txt")
    took = asyncio.get_running_loop().time() - started
    content = ctx.of("content")
    assert "line 1999 " in ctx.text()  # all of it arrived
    assert len(content) <= 3 * (STREAMED_WORDS + 1), len(content)  # the sentences around it, then one block
    assert took < 5
