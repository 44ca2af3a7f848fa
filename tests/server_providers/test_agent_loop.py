"""ProviderAgent through the real embedded server (loopback HTTP + SSE) against the fake providers."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tests.fixtures.mix_server import async_running_server
from tests.server.sse import SSEReader
from tui.server.providers.agent import ProviderAgent
from tui.server.providers.anthropic import AnthropicProvider
from tui.server.providers.openai_compat import OPENAI, OpenAICompatProvider


@pytest.fixture
def anthropic_fake():
    with fa.running_fake_anthropic() as fake:
        yield fake


@pytest.fixture
def openai_fake():
    with fo.running_fake_openai() as fake:
        yield fake


def claude(fake, **kw):
    return lambda: ProviderAgent(AnthropicProvider(fa.API_KEY, fake.base_url), "claude-sonnet-4-5", **kw)


def gpt(fake, **kw):
    return lambda: ProviderAgent(OpenAICompatProvider(OPENAI, fo.API_KEY, fake.base_url), "gpt-4.1", **kw)


async def no_sleep(seconds: float) -> None:
    no_sleep.waits.append(seconds)


no_sleep.waits = []


async def turn(tmp_path, factory, text, *, answer=None, plan_mode=False, until=("complete", "error", "rate_limit_error")):
    """Run one turn; `answer` ("grant"/"deny") answers each permission. Returns (server, sid, frames)."""
    frames = []
    async with async_running_server(tmp_path, agent_factory=factory, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            r = await c.post(f"/api/sessions/{sid}/messages", json={"text": text, "plan_mode": plan_mode})
            assert r.status_code == 202
            while True:
                got = await sse.until("permission", *until)
                frames += got
                if got[-1].event != "permission":
                    break
                assert answer, "unexpected permission request"
                await c.post(f"/api/permissions/{got[-1].data['id']}/{answer}")
            messages = (await c.get(f"/api/sessions/{sid}/messages")).json()
            session = (await c.get(f"/api/sessions/{sid}")).json()
    return server, sid, frames, messages, session


def text_of(frames, event="content"):
    return "".join(f.data["content"] for f in frames if f.event == event)


async def test_plain_answer_usage_and_cost(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.say("Hello from Claude.", usage=(1000, 200)))
    _, _, frames, messages, session = await turn(tmp_path, claude(anthropic_fake), "hi")
    assert [f.event for f in frames][-1] == "complete"
    assert text_of(frames) == "Hello from Claude."
    assert frames[-1].data["content"] == "Hello from Claude." and frames[-1].data["messageId"] == messages[-1]["id"]
    assert [(m["role"], m.get("assistantResponse")) for m in messages] == [("user", None), ("assistant", "Hello from Claude.")]
    assert messages[-1]["model"] == "claude-sonnet-4-5"
    assert session["promptTokens"] == 1000 and session["completionTokens"] == 200
    assert session["cost"] == pytest.approx(1000 * 3e-6 + 200 * 15e-6)
    sent = anthropic_fake.requests[0].body
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi",
                                                              "cache_control": {"type": "ephemeral"}}]}]
    assert "session folder" in sent["system"][0]["text"] and {t["name"] for t in sent["tools"]} >= {"write", "bash", "read"}


async def test_thinking_streams_and_lands_in_complete(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.think("The user greets me.", "Hi there."))
    _, _, frames, messages, _ = await turn(tmp_path, claude(anthropic_fake, reasoning_effort="low"), "hello")
    events = [f.event for f in frames]
    assert events.index("thinking") < events.index("content")
    assert text_of(frames, "thinking") == "The user greets me."
    done = frames[-1].data
    assert done["reasoning"] == "The user greets me." and done["content"] == "Hi there."
    assert isinstance(done["reasoningDuration"], (int, float))
    assert messages[-1]["reasoning"] == "The user greets me."
    assert anthropic_fake.requests[0].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_tool_call_granted_writes_in_the_session_folder(tmp_path, anthropic_fake):
    anthropic_fake.script(
        fa.Reply(thinking="Need a file.", text="I'll create it.", tools=[fa.ToolUse("write", {"file_path": "notes.md", "content": "# Notes\n"})]),
        fa.Reply.say("Created notes.md."))
    server, sid, frames, messages, _ = await turn(tmp_path, claude(anthropic_fake, reasoning_effort="low"),
                                                  "make notes.md", answer="grant")
    events = [f.event for f in frames]
    start = events.index("tool")
    assert events[start:start + 7] == ["tool", "tool", "tool_execution_start", "permission", "tool_execution_complete",
                                       "tool", "content"]
    running, streamed, done_tool = frames[start], frames[start + 1], frames[start + 5]
    assert running.data["status"] == "running" and running.data["input"] == "" and streamed.data["input"] == ""
    assert json.loads(done_tool.data["input"]) == {"file_path": "notes.md", "content": "# Notes\n"}
    assert running.data["id"] == done_tool.data["id"] == frames[start + 2].data["toolCallId"]
    assert frames[start + 4].data["success"] is True
    assert (server.settings.storage_dir / sid / "notes.md").read_text() == "# Notes\n"
    assert frames[-1].event == "complete" and frames[-1].data["content"] == "Created notes.md."
    # what went back to the model: the signed thinking, the call, and the tool's result
    second = anthropic_fake.requests[1].body["messages"]
    assert [b["type"] for b in second[1]["content"]] == ["thinking", "text", "tool_use"]
    assert second[1]["content"][0]["signature"].startswith("sig-")
    results = anthropic_fake.requests[1].tool_results()
    assert len(results) == 1 and "Created notes.md" in results[0]["content"] and not results[0].get("is_error")
    roles = [(m["role"], len(m.get("toolCalls", []))) for m in messages]
    assert roles == [("user", 0), ("assistant", 1), ("tool", 1), ("assistant", 0)]
    assert messages[1]["toolCalls"][0]["result"].startswith("Created notes.md")


async def test_tool_call_denied_is_fed_back_and_nothing_written(tmp_path, openai_fake):
    openai_fake.script(fo.Reply.call("bash", {"command": "touch draft.md"}, text="Running it."),
                       fo.Reply.say("Understood, I did not run it."))
    server, sid, frames, messages, _ = await turn(tmp_path, gpt(openai_fake), "touch draft.md", answer="deny")
    complete = next(f for f in frames if f.event == "tool_execution_complete")
    assert complete.data["success"] is False and "permission denied" in complete.data["progress"]
    perm = next(f for f in frames if f.event == "permission")
    assert perm.data["toolName"] == "bash" and perm.data["params"]["command"] == "touch draft.md"
    assert not (server.settings.storage_dir / sid / "draft.md").exists()
    fed_back = openai_fake.requests[1].tool_messages()
    assert len(fed_back) == 1 and "Permission denied" in fed_back[0]["content"]
    assert frames[-1].event == "complete" and frames[-1].data["content"] == "Understood, I did not run it."
    assert messages[2]["toolCalls"][0]["isError"] is True


async def test_command_granted_output_reaches_the_model(tmp_path, openai_fake):
    openai_fake.script(fo.Reply.call("bash", {"command": "echo provider-ok"}), fo.Reply.say("It printed provider-ok."))
    _, _, frames, _, _ = await turn(tmp_path, gpt(openai_fake), "run echo", answer="grant")
    assert "provider-ok" in openai_fake.requests[1].tool_messages()[0]["content"]
    assert frames[-1].data["content"] == "It printed provider-ok."


async def test_plan_mode_refuses_changes_without_asking(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.call("write", {"file_path": "x.md", "content": "x"}), fa.Reply.say("Here is my plan."))
    server, sid, frames, _, _ = await turn(tmp_path, claude(anthropic_fake), "write x", plan_mode=True)
    assert "permission" not in [f.event for f in frames]
    assert "plan mode" in anthropic_fake.requests[1].tool_results()[0]["content"]
    assert "Plan mode is ON" in anthropic_fake.requests[0].body["system"][0]["text"]
    assert not (server.settings.storage_dir / sid / "x.md").exists()


async def test_escaping_the_session_folder_is_refused(tmp_path, openai_fake):
    openai_fake.script(fo.Reply.call("read", {"file_path": "../../etc/passwd"}), fo.Reply.say("I can't read that."))
    _, _, frames, _, _ = await turn(tmp_path, gpt(openai_fake), "read passwd")
    result = openai_fake.requests[1].tool_messages()[0]["content"]
    assert "outside the session folder" in result and "root:" not in result


async def test_error_mid_stream_ends_the_turn_and_keeps_the_partial_text(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.error_event("overloaded_error", "Overloaded", text="Partial answer"))
    _, _, frames, messages, _ = await turn(tmp_path, claude(anthropic_fake), "hi")
    assert frames[-1].event == "error" and "Overloaded" in frames[-1].data["error"]
    assert "complete" not in [f.event for f in frames]
    assert messages[-1]["assistantResponse"] == "Partial answer"
    assert len(anthropic_fake.requests) == 1  # text had been shown: no silent retry


async def test_refused_key_is_an_authentication_error(tmp_path, anthropic_fake):
    factory = lambda: ProviderAgent(AnthropicProvider("sk-ant-wrong-wrong-wrong-wrong-wrong", anthropic_fake.base_url), "m")
    _, _, frames, _, _ = await turn(tmp_path, factory, "hi")
    assert frames[-1].event == "error" and frames[-1].data["type"] == "authentication_error"
    assert "API key was refused" in frames[-1].data["error"]


async def test_rate_limit_with_long_retry_after_is_a_rate_limit_error(tmp_path, openai_fake):
    openai_fake.script(fo.Reply.http_error(429, "Rate limit reached for gpt-4.1 on requests per min", "requests", "60"))
    _, _, frames, _, _ = await turn(tmp_path, gpt(openai_fake), "hi")
    last = frames[-1]
    assert last.event == "error"  # neither spec has a rate_limit_error event: an error of that type, retryAfter in ms
    assert last.data["type"] == "rate_limit_error" and last.data["retryAfter"] == 60_000
    assert last.data["attempt"] == 1 and last.data["maxAttempts"] == 4 and "Rate limit reached" in last.data["error"]


async def test_short_rate_limits_are_retried(tmp_path, anthropic_fake):
    no_sleep.waits.clear()
    anthropic_fake.script(fa.Reply.http_error(429, "rate_limit_error", "slow down", retry_after="2"),
                          fa.Reply.http_error(529, "overloaded_error", "Overloaded"),
                          fa.Reply.say("Got through."))
    _, _, frames, _, _ = await turn(tmp_path, claude(anthropic_fake, sleep=no_sleep), "hi")
    assert frames[-1].event == "complete" and frames[-1].data["content"] == "Got through."
    assert len(anthropic_fake.requests) == 3 and no_sleep.waits[0] == 2.0


async def test_rate_limit_after_all_attempts(tmp_path, anthropic_fake):
    anthropic_fake.script(*[fa.Reply.http_error(429, "rate_limit_error", "slow down", retry_after="1")] * 2)
    _, _, frames, _, _ = await turn(tmp_path, claude(anthropic_fake, sleep=no_sleep, max_attempts=2), "hi")
    assert frames[-1].event == "error" and frames[-1].data["type"] == "rate_limit_error"
    assert frames[-1].data["attempt"] == 2 and frames[-1].data["maxAttempts"] == 2 and frames[-1].data["retryAfter"] == 1000


async def test_cancel_mid_stream_closes_the_provider_stream(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.hanging("Working on it"))
    async with async_running_server(tmp_path, agent_factory=claude(anthropic_fake), send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"text": "long task"})
            await sse.until("content")
            assert await asyncio.to_thread(anthropic_fake.hanging.wait, 5)
            await c.post(f"/api/sessions/{sid}/cancel")
            frames = await sse.until("error", "complete")
            assert frames[-1].event == "error" and frames[-1].data["error"] == "request cancelled by user"
            assert await asyncio.to_thread(anthropic_fake.client_left.wait, 5)
            assert anthropic_fake.streams_closed_early == 1
            messages = (await c.get(f"/api/sessions/{sid}/messages")).json()
            stored = server.app.state.store.list_messages(sid)
    assert messages[-1]["role"] == "assistant" and messages[-1]["assistantResponse"].startswith("Work")
    assert stored[-1].finish_reason == "canceled"


async def test_step_limit_ends_with_a_clear_message(tmp_path, openai_fake):
    openai_fake.script(*[fo.Reply.call("ls", {})] * 3)
    _, _, frames, _, _ = await turn(tmp_path, gpt(openai_fake, max_steps=3), "loop forever")
    assert frames[-1].event == "complete" and "stopped after 3 model steps" in frames[-1].data["content"]
    assert len(openai_fake.requests) == 3


async def test_history_goes_back_to_the_model(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.call("ls", {}, text="Looking."), fa.Reply.say("Empty folder."), fa.Reply.say("You asked about files."))
    async with async_running_server(tmp_path, agent_factory=claude(anthropic_fake)) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c:
            assert (await c.post(f"/api/sessions/{sid}/messages", json={"text": "list files"})).status_code == 200
            r = await c.post(f"/api/sessions/{sid}/messages", json={"text": "what did I ask?"})
            assert r.json()["assistantResponse"] == "You asked about files."
    sent = anthropic_fake.requests[2].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert sent[1]["content"][-1]["type"] == "tool_use" and sent[2]["content"][0]["type"] == "tool_result"
    assert sent[-1]["content"] == [{"type": "text", "text": "what did I ask?", "cache_control": {"type": "ephemeral"}}]
