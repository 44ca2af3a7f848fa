"""The Anthropic SSE decoder on whole, split, re-chunked and broken streams."""

from __future__ import annotations

import json

import pytest

from tests.server_providers.streams import collect, random_pieces, response_of, split_at
from tui.server.providers.anthropic import decode_stream, request_body, request_messages
from tui.server.providers.base import (
    ChatMessage, ProviderError, ProviderRateLimited, Stop, TextDelta, ThinkingDelta, ThinkingDone, ThinkingPart,
    ToolCall, ToolCallEnd, ToolCallInputDelta, ToolCallStart, ToolOutcome, Usage,
)
from tui.server.agent.tools import TOOL_SPECS


def frame(event: str, data: dict, eol: str = "\n") -> str:
    return f"event: {event}{eol}data: {json.dumps(data)}{eol}{eol}"


def transcript(eol: str = "\n") -> bytes:
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                                "content": [], "usage": {"input_tokens": 321, "output_tokens": 1,
                                                                                         "cache_read_input_tokens": 40}}}),
        ("ping", {"type": "ping"}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm, é✓ "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "write it."}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQB"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Writing 🙂 "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "now."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("content_block_start", {"type": "content_block_start", "index": 2,
                                 "content_block": {"type": "tool_use", "id": "toolu_01A", "name": "write", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"file_path\": \"a.t"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "xt\", \"content\": \"hi\"}"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        ("some_future_event", {"type": "some_future_event", "x": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                           "usage": {"output_tokens": 57}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    text = ": a comment line" + eol + "".join(frame(e, d, eol) for e, d in events)
    return text.encode()


EXPECTED = [
    ThinkingDelta("Hmm, é✓ "), ThinkingDelta("write it."), ThinkingDone(ThinkingPart("Hmm, é✓ write it.", "EqQB")),
    TextDelta("Writing 🙂 "), TextDelta("now."),
    ToolCallStart("toolu_01A", "write"), ToolCallInputDelta("toolu_01A", "{\"file_path\": \"a.t"),
    ToolCallInputDelta("toolu_01A", "xt\", \"content\": \"hi\"}"),
    ToolCallEnd("toolu_01A", "write", {"file_path": "a.txt", "content": "hi"}),
    Usage(321, 57, 40, 0), Stop("tool_use"),
]


async def test_whole_stream():
    assert await collect(decode_stream, response_of([transcript()])) == EXPECTED


async def test_split_at_every_byte_gives_the_same_events():
    raw = transcript()
    for cut in range(1, len(raw), 3):  # every third byte keeps it quick; multibyte characters included
        assert await collect(decode_stream, response_of(split_at(raw, cut))) == EXPECTED, cut


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
async def test_random_pieces_and_line_endings(eol):
    raw = transcript(eol)
    for seed in range(15):
        assert await collect(decode_stream, response_of(random_pieces(raw, seed))) == EXPECTED


async def test_error_event_raises_a_clear_error():
    raw = (frame("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}})
           + frame("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})).encode()
    with pytest.raises(ProviderError) as caught:
        await collect(decode_stream, response_of([raw]))
    assert caught.value.kind == "overloaded_error"
    assert "Overloaded" in caught.value.message and caught.value.retryable


async def test_rate_limit_error_event_is_rate_limited():
    raw = frame("error", {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}).encode()
    with pytest.raises(ProviderRateLimited):
        await collect(decode_stream, response_of([raw]))


async def test_stream_cut_before_message_stop():
    raw = transcript()
    cut = raw.index(b"event: message_delta")
    with pytest.raises(ProviderError, match="ended before"):
        await collect(decode_stream, response_of([raw[:cut]]))


async def test_broken_tool_json_is_reported_on_the_call():
    raw = (frame("content_block_start", {"type": "content_block_start", "index": 0,
                                         "content_block": {"type": "tool_use", "id": "t1", "name": "bash", "input": {}}})
           + frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "input_json_delta", "partial_json": "{\"command\": \"ls"}})
           + frame("content_block_stop", {"type": "content_block_stop", "index": 0})
           + frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 9}})
           + frame("message_stop", {"type": "message_stop"})).encode()
    events = await collect(decode_stream, response_of([raw]))
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert end.input == {} and "not valid JSON" in end.input_error
    assert events[-1] == Stop("max_tokens")


async def test_tool_without_input_deltas_has_empty_input():
    raw = (frame("content_block_start", {"type": "content_block_start", "index": 0,
                                         "content_block": {"type": "tool_use", "id": "t1", "name": "ls", "input": {}}})
           + frame("content_block_stop", {"type": "content_block_stop", "index": 0})
           + frame("message_stop", {"type": "message_stop"})).encode()
    events = await collect(decode_stream, response_of([raw]))
    assert ToolCallEnd("t1", "ls", {}) in events


async def test_not_an_event_stream():
    with pytest.raises(ProviderError, match="instead of a stream: nope"):
        await collect(decode_stream, response_of([b'{"error": {"message": "nope"}}'], "application/json"))


async def test_garbage_data_is_a_clear_error():
    with pytest.raises(ProviderError, match="unreadable"):
        await collect(decode_stream, response_of([b"event: content_block_delta\ndata: {not json\n\n"]))


def test_request_shape_merges_roles_and_feeds_tool_results_first():
    messages = [
        ChatMessage("user", "make a.txt"),
        ChatMessage("assistant", "ok", tool_calls=[ToolCall("t1", "write", {"file_path": "a.txt", "content": ""})],
                    thinking=[ThinkingPart("plan", "sig"), ThinkingPart("unsigned")]),
        ChatMessage("tool", results=[ToolOutcome("t1", "write", "Created a.txt", False)]),
        ChatMessage("user", "thanks"),
        ChatMessage("assistant", ""),  # empty (e.g. canceled before any text): left out
        ChatMessage("user", "again"),
    ]
    out = request_messages(messages)
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[1]["content"][0] == {"type": "thinking", "thinking": "plan", "signature": "sig"}
    assert [b["type"] for b in out[1]["content"]] == ["thinking", "text", "tool_use"]
    assert [b["type"] for b in out[2]["content"]] == ["tool_result", "text", "text"]
    assert out[2]["content"][0]["tool_use_id"] == "t1"


def test_thinking_budget_is_added_to_max_tokens_and_aliases_resolve():
    body = request_body([ChatMessage("user", "hi")], model="claude-4-sonnet", tools=TOOL_SPECS, system="s",
                        max_tokens=4096, reasoning_effort="low")
    assert body["model"] == "claude-sonnet-4-0"
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 4096 + 2048 and body["stream"] is True
    assert {t["name"] for t in body["tools"]} == {s.name for s in TOOL_SPECS}
    assert all("input_schema" in t for t in body["tools"])
    assert "thinking" not in request_body([ChatMessage("user", "hi")], model="m", tools=[], system="", max_tokens=10)
