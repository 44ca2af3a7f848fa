"""Each provider against its local fake over loopback: headers, bodies, errors, validation, models."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tui.server.agent.tools import TOOL_SPECS
from tui.server.providers.anthropic import AnthropicProvider
from tui.server.providers.base import (
    ChatMessage, ProviderError, ProviderRateLimited, Stop, TextDelta, ThinkingDelta, ToolCallEnd, Usage,
)
from tui.server.providers.openai_compat import OLLAMA, OPENAI, OPENROUTER, OpenAICompatProvider


@pytest.fixture
def anthropic_fake():
    with fa.running_fake_anthropic() as fake:
        yield fake


@pytest.fixture
def openai_fake():
    with fo.running_fake_openai() as fake:
        yield fake


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run(provider, text="hi", **kw) -> list:
    kw.setdefault("model", "m")
    try:
        return [e async for e in provider.stream([ChatMessage("user", text)], tools=TOOL_SPECS, system="be brief",
                                                 max_tokens=512, **kw)]
    finally:
        await provider.aclose()


# ------------------------------------------------------------------------------ Anthropic


async def test_anthropic_streams_thinking_text_and_tools(anthropic_fake):
    anthropic_fake.script(fa.Reply.think("Let me see.", "Here goes.",),
                          fa.Reply.call("write", {"file_path": "n.md", "content": "x"}, text="Writing."))
    provider = AnthropicProvider(fa.API_KEY, anthropic_fake.base_url)
    events = await run(provider, model="claude-sonnet-4-5", reasoning_effort="medium")
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Let me see."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Here goes."
    assert events[-2:] == [Usage(120, 30), Stop("end_turn")]
    sent = anthropic_fake.requests[0]
    assert sent.headers["x-api-key"] == fa.API_KEY and sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body["system"] == [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]
    assert sent.body["thinking"]["budget_tokens"] == 8192
    events = await run(provider)
    assert ToolCallEnd(events[-3].id, "write", {"file_path": "n.md", "content": "x"}) == events[-3]
    assert events[-1] == Stop("tool_use")


async def test_anthropic_refused_key(anthropic_fake):
    with pytest.raises(ProviderError, match="API key was refused") as caught:
        await run(AnthropicProvider("sk-ant-wrong-key-xxxxxxxxxxxxxxxxxxxx", anthropic_fake.base_url))
    assert caught.value.status == 401 and caught.value.kind == "authentication_error"


async def test_anthropic_429_carries_retry_after(anthropic_fake):
    anthropic_fake.script(fa.Reply.http_error(429, "rate_limit_error", "Number of requests has exceeded your rate limit",
                                              retry_after="7"))
    with pytest.raises(ProviderRateLimited) as caught:
        await run(AnthropicProvider(fa.API_KEY, anthropic_fake.base_url))
    assert caught.value.retry_after == 7.0 and "exceeded your rate limit" in caught.value.message


async def test_anthropic_overloaded_529(anthropic_fake):
    anthropic_fake.script(fa.Reply.http_error(529, "overloaded_error", "Overloaded"))
    with pytest.raises(ProviderError, match="529: Overloaded") as caught:
        await run(AnthropicProvider(fa.API_KEY, anthropic_fake.base_url))
    assert caught.value.retryable


async def test_anthropic_validate_and_models(anthropic_fake):
    good = await AnthropicProvider(fa.API_KEY, anthropic_fake.base_url).validate()
    assert good.ok and good.checked_online and good.models == fa.MODELS
    bad = await AnthropicProvider("sk-ant-nope-nope-nope-nope-nope-nope", anthropic_fake.base_url).validate()
    assert not bad.ok and bad.checked_online and "refused" in bad.message
    offline = await AnthropicProvider(fa.API_KEY, f"http://127.0.0.1:{closed_port()}").validate()
    assert not offline.ok and not offline.checked_online and "could not reach Anthropic" in offline.message


async def test_anthropic_closing_the_iterator_closes_the_http_stream(anthropic_fake):
    anthropic_fake.script(fa.Reply.hanging("Thinking about it"))
    provider = AnthropicProvider(fa.API_KEY, anthropic_fake.base_url)
    stream = provider.stream([ChatMessage("user", "hi")], model="m", tools=[], system="", max_tokens=10)
    first = await stream.__anext__()
    assert isinstance(first, TextDelta)
    await stream.aclose()
    await provider.aclose()
    assert await asyncio.to_thread(anthropic_fake.client_left.wait, 5)
    assert anthropic_fake.streams_closed_early == 1


# ------------------------------------------------------------------------ OpenAI family


async def test_openai_streams_and_sends_bearer(openai_fake):
    openai_fake.script(fo.Reply.think("Reason.", "Answer."))
    events = await run(OpenAICompatProvider(OPENAI, fo.API_KEY, openai_fake.base_url), model="gpt-4.1")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Answer."
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Reason."
    assert events[-2:] == [Usage(200, 40), Stop("end_turn")]
    sent = openai_fake.requests[0]
    assert sent.headers["authorization"] == f"Bearer {fo.API_KEY}"
    assert sent.body["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent.body["max_completion_tokens"] == 512


async def test_openai_429_and_401(openai_fake):
    openai_fake.script(fo.Reply.http_error(429, "Rate limit reached for gpt-4.1", "requests", retry_after="3"))
    with pytest.raises(ProviderRateLimited) as caught:
        await run(OpenAICompatProvider(OPENAI, fo.API_KEY, openai_fake.base_url))
    assert caught.value.retry_after == 3.0
    openai_fake.script(fo.Reply.http_error(429, "You exceeded your current quota", "insufficient_quota"))
    with pytest.raises(ProviderError, match="no quota left") as quota:
        await run(OpenAICompatProvider(OPENAI, fo.API_KEY, openai_fake.base_url))
    assert not isinstance(quota.value, ProviderRateLimited)
    with pytest.raises(ProviderError, match="Incorrect API key"):
        await run(OpenAICompatProvider(OPENAI, "sk-bad-bad-bad-bad-bad-bad-bad", openai_fake.base_url))


async def test_openai_models_are_the_chat_models(openai_fake):
    result = await OpenAICompatProvider(OPENAI, fo.API_KEY, openai_fake.base_url).validate()
    assert result.ok and result.models == ["gpt-4.1", "gpt-4.1-mini", "o3"]


async def test_openrouter_validates_with_its_key_endpoint_and_reports_cost(openai_fake):
    provider = OpenAICompatProvider(OPENROUTER, fo.API_KEY, openai_fake.base_url)
    assert (await provider.validate()).ok
    openai_fake.script(fo.Reply.say("ok", cost=0.0123))
    events = await run(provider, model="anthropic/claude-sonnet-4")
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.cost == pytest.approx(0.0123)
    assert openai_fake.requests[-1].body["usage"] == {"include": True}
    assert openai_fake.requests[-1].headers["x-title"] == "mix-tui"


async def test_ollama_needs_no_key_and_lists_installed_models():
    with fo.running_fake_openai(api_key="", models=["qwen3:8b", "llama3.2:latest"]) as fake:
        provider = OpenAICompatProvider(OLLAMA, "", fake.base_url)
        result = await provider.validate()
        assert result.ok and result.models == ["llama3.2:latest", "qwen3:8b"] and "answered" in result.message
        fake.script(fo.Reply.say("local hello"))
        events = await run(provider, model="qwen3:8b")
        assert "authorization" not in fake.requests[-1].headers
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "local hello"


async def test_ollama_not_running_is_reported_as_offline():
    result = await OpenAICompatProvider(OLLAMA, "", f"http://127.0.0.1:{closed_port()}/v1").validate()
    assert not result.ok and not result.checked_online and "could not reach Ollama" in result.message
