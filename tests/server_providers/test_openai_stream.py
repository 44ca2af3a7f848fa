"""The OpenAI-compatible SSE decoder on whole, split, re-chunked and broken streams."""

from __future__ import annotations

import json

import pytest

from tests.server_providers.streams import collect, random_pieces, response_of, split_at
from tui.server.agent.tools import TOOL_SPECS
from tui.server.providers.base import (
    ChatMessage, ProviderError, ProviderRateLimited, Stop, TextDelta, ThinkingDelta, ToolCall, ToolCallEnd,
    ToolCallInputDelta, ToolCallStart, ToolOutcome, Usage,
)
from tui.server.providers.openai_compat import OLLAMA, OPENAI, OPENROUTER, decode_stream, request_body


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4.1", "choices": choices, **extra}


def stream_of(chunks: list, eol: str = "\n", done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(c)}{eol}{eol}" for c in chunks)
    return (text + (f"data: [DONE]{eol}{eol}" if done else "")).encode()


CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"reasoning_content": "Think é "}),
    chunk({"reasoning": "more."}),
    chunk({"content": "Two 🙂 "}),
    chunk({"content": "calls."}),
    chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "ls", "arguments": ""}}]}),
    chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "read", "arguments": "{\"file_"}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
    chunk({"tool_calls": [{"index": 1, "function": {"arguments": "path\": \"a.md\"}"}}]}),
    chunk({}, "tool_calls"),
    chunk(None, usage={"prompt_tokens": 500, "completion_tokens": 42, "prompt_tokens_details": {"cached_tokens": 100}}),
]
EXPECTED = [
    ThinkingDelta("Think é "), ThinkingDelta("more."), TextDelta("Two 🙂 "), TextDelta("calls."),
    ToolCallStart("call_a", "ls"), ToolCallStart("call_b", "read"), ToolCallInputDelta("call_b", "{\"file_"),
    ToolCallInputDelta("call_a", "{}"), ToolCallInputDelta("call_b", "path\": \"a.md\"}"),
    ToolCallEnd("call_a", "ls", {}), ToolCallEnd("call_b", "read", {"file_path": "a.md"}),
    Usage(500, 42, 100, 0), Stop("tool_use"),
]


async def test_whole_stream():
    assert await collect(decode_stream, response_of([stream_of(CHUNKS)])) == EXPECTED


async def test_split_anywhere():
    raw = stream_of(CHUNKS)
    for cut in range(1, len(raw), 3):
        assert await collect(decode_stream, response_of(split_at(raw, cut))) == EXPECTED, cut


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
async def test_random_pieces(eol):
    raw = stream_of(CHUNKS, eol)
    for seed in range(15):
        assert await collect(decode_stream, response_of(random_pieces(raw, seed))) == EXPECTED


async def test_plain_answer_without_usage():
    raw = stream_of([chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")])
    assert await collect(decode_stream, response_of([raw])) == [TextDelta("Hi"), Stop("end_turn")]


async def test_whole_call_in_one_chunk_with_parsed_arguments_and_no_id():
    # Some local servers send a call at once, arguments as an object, and say "stop".
    raw = stream_of([chunk({"tool_calls": [{"function": {"name": "bash", "arguments": {"command": "ls"}}}]}),
                     chunk({}, "stop")])
    events = await collect(decode_stream, response_of([raw]))
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert end.name == "bash" and end.input == {"command": "ls"} and end.id.startswith("toolu_01")
    assert events[-1] == Stop("tool_use")


async def test_error_chunk_mid_stream():
    raw = stream_of([chunk({"content": "par"}), {"error": {"message": "Upstream overloaded", "code": 502}}], done=False)
    with pytest.raises(ProviderError, match="Upstream overloaded") as caught:
        await collect(decode_stream, response_of([raw]))
    assert caught.value.status == 502


async def test_rate_limit_chunk():
    raw = stream_of([{"error": {"message": "Rate limit exceeded", "code": 429}}], done=False)
    with pytest.raises(ProviderRateLimited):
        await collect(decode_stream, response_of([raw]))


async def test_finished_without_done_still_completes():
    raw = stream_of([chunk({"content": "ok"}), chunk({}, "length")], done=False)
    assert await collect(decode_stream, response_of([raw])) == [TextDelta("ok"), Stop("max_tokens")]


async def test_cut_off_stream_is_an_error():
    raw = stream_of([chunk({"content": "o"})], done=False)
    with pytest.raises(ProviderError, match="ended before"):
        await collect(decode_stream, response_of([raw]))


async def test_truncated_arguments_are_reported_on_the_call():
    raw = stream_of([chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "write", "arguments": "{\"file"}}]}),
                     chunk({}, "length")])
    events = await collect(decode_stream, response_of([raw]))
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert "not valid JSON" in end.input_error


def test_request_shapes_per_flavor():
    messages = [ChatMessage("user", "hi"),
                ChatMessage("assistant", "", tool_calls=[ToolCall("c1", "ls", {})]),
                ChatMessage("tool", results=[ToolOutcome("c1", "ls", "a.md", False)])]
    body = request_body(OPENAI, messages, model="o3", tools=TOOL_SPECS, system="sys", max_tokens=100,
                        reasoning_effort="high")
    assert body["messages"][0] == {"role": "system", "content": "sys"}
    assert body["messages"][2]["tool_calls"][0]["function"] == {"name": "ls", "arguments": "{}"}
    assert body["messages"][2]["content"] is None
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "c1", "content": "a.md"}
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body
    assert body["reasoning_effort"] == "high" and body["stream_options"] == {"include_usage": True}
    assert body["tools"][0]["type"] == "function" and "parameters" in body["tools"][0]["function"]
    assert "reasoning_effort" not in request_body(OPENAI, messages, model="gpt-4.1", tools=[], system="",
                                                  max_tokens=1, reasoning_effort="high")
    router = request_body(OPENROUTER, messages, model="x/y", tools=[], system="", max_tokens=5, reasoning_effort="low")
    assert router["usage"] == {"include": True} and router["reasoning"] == {"effort": "low"} and router["max_tokens"] == 5
    assert request_body(OLLAMA, messages, model="qwen3", tools=[], system="", max_tokens=5)["max_tokens"] == 5
