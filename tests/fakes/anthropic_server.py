"""A local fake of Anthropic's Messages API (POST /v1/messages with stream:true, GET /v1/models).

It speaks the documented streaming format (message_start, content_block_start / _delta / _stop
with text_delta, thinking_delta, signature_delta and input_json_delta, message_delta with usage
and stop_reason, message_stop, ping, error) and checks each request the way the real API does:
the x-api-key and anthropic-version headers, a streaming body, a thinking budget of at least 1024
below max_tokens, and a tool_result for every tool_use of the previous assistant message.

Each POST takes the next scripted `Reply`:

    with running_fake_anthropic() as fake:
        fake.script(Reply.call("write", {"file_path": "a.txt", "content": "hi"}), Reply.say("Done."))
        ...  # point MIX_TUI_ANTHROPIC_BASE_URL at fake.base_url, use fake.api_key
        assert fake.requests[1].tool_results() == [...]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.loopback import ChatRequest, ScriptedFake, ScriptedReply, chunks, serve_in_thread

API_KEY = "sk-ant-api03-fakefakefakefakefakefakefake"
MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]


@dataclass
class ToolUse:
    name: str
    input: dict
    id: str = ""


@dataclass
class Reply(ScriptedReply):
    """One scripted answer. Built with the class methods below (and `say`, `hanging`); a stream
    error is an `error` event, a hanging stream sends pings."""

    thinking: str = ""
    tools: list[ToolUse] = field(default_factory=list)
    usage: tuple[int, int] = (120, 30)

    @classmethod
    def think(cls, thinking: str, text: str, **kw: Any) -> "Reply":
        return cls(thinking=thinking, text=text, **kw)

    @classmethod
    def call(cls, name: str, input: dict, text: str = "", **kw: Any) -> "Reply":
        return cls(text=text, tools=[ToolUse(name, input)], **kw)

    @classmethod
    def http_error(cls, status: int, error_type: str, message: str, retry_after: str | None = None) -> "Reply":
        return cls.refusal(status, error_type, message, retry_after)

    @classmethod
    def error_event(cls, error_type: str, message: str, text: str = "") -> "Reply":
        return cls(text=text, stream_error=True, error_type=error_type, error_message=message)


@dataclass
class RecordedRequest(ChatRequest):
    def tool_results(self) -> list[dict]:
        """The tool_result blocks of the last user message (what the client fed back)."""
        last = self.messages[-1] if self.messages else {}
        content = last.get("content") if isinstance(last.get("content"), list) else []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class FakeAnthropic(ScriptedFake):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__(api_key)
        self.app = Starlette(routes=[Route("/v1/messages", self.messages, methods=["POST"]),
                                     Route("/v1/models", self.models, methods=["GET"])])

    # ------------------------------------------------------------------ checks

    def _auth_problem(self, request: Request) -> Response | None:
        if request.headers.get("x-api-key") != self.api_key:
            return self._error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self._error(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    @staticmethod
    def _error(status: int, kind: str, message: str, headers: dict | None = None) -> Response:
        return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status, headers=headers)

    @staticmethod
    def body_problem(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be a JSON object"
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return f"{key}: Field required"
        if body.get("stream") is not True:
            return "the fake only answers streaming requests"
        thinking = body.get("thinking")
        if thinking:
            budget = thinking.get("budget_tokens", 0)
            if budget < 1024 or budget >= body["max_tokens"]:
                return "thinking.budget_tokens must be ≥ 1024 and less than max_tokens"
        messages = body["messages"]
        if not messages or messages[0].get("role") != "user":
            return "messages: the first message must use the user role"
        for i, message in enumerate(messages):
            if i and messages[i - 1].get("role") == message.get("role"):
                return f"messages.{i}: roles must alternate between user and assistant"
            content = message.get("content")
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
            for block in blocks:
                if block.get("type") == "text" and not str(block.get("text", "")).strip():
                    return f"messages.{i}: text content blocks must be non-empty"
            if message.get("role") != "assistant":
                continue
            uses = [b["id"] for b in blocks if b.get("type") == "tool_use"]
            if not uses:
                continue
            following = messages[i + 1]["content"] if i + 1 < len(messages) else []
            results = [b.get("tool_use_id") for b in following if isinstance(b, dict) and b.get("type") == "tool_result"]
            missing = [u for u in uses if u not in results]
            if missing:
                return (f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                        f"after: {', '.join(missing)}")
        return None

    # ------------------------------------------------------------------ routes

    async def models(self, request: Request) -> Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in MODELS]
        return JSONResponse({"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]})

    async def messages(self, request: Request) -> Response:
        record = await self._record(request, RecordedRequest)
        body = record.body
        problem = self._auth_problem(request)
        if problem is None:
            text = self.body_problem(body)
            if text:
                problem = self._error(400, "invalid_request_error", text)
        if problem is not None:
            record.status = problem.status_code
            return problem
        reply = self._next_reply()
        if reply is None:
            record.status = 500
            return self._error(500, "api_error", "the fake has no scripted reply left")
        record.status = reply.status
        if reply.status != 200:
            return self._error(reply.status, reply.error_type, reply.error_message, reply.headers)
        return StreamingResponse(self._stream(reply, body["model"]), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache", "request-id": f"req_fake{next(self._ids)}"})

    async def _stream(self, reply: Reply, model: str):
        self.streams_opened += 1
        finished = False
        try:
            message_id = f"msg_fake{next(self._ids):04d}"
            yield _sse("message_start", {"type": "message_start", "message": {
                "id": message_id, "type": "message", "role": "assistant", "content": [], "model": model,
                "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": reply.usage[0], "output_tokens": 1, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0}}})
            yield _sse("ping", {"type": "ping"})
            index = 0
            if reply.thinking:
                yield _sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
                for piece in chunks(reply.thinking, reply.chunk):
                    yield _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "thinking_delta", "thinking": piece}})
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "signature_delta", "signature": "sig-" + message_id}})
                yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            if reply.text:
                yield _sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}})
                for piece in chunks(reply.text, reply.chunk):
                    yield _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "text_delta", "text": piece}})
                yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            if reply.stream_error:
                finished = True
                yield _sse("error", {"type": "error", "error": {"type": reply.error_type, "message": reply.error_message}})
                return
            if reply.hang:
                self.hanging.set()
                for _ in range(500):  # at most ~10 s
                    await asyncio.sleep(0.02)
                    yield _sse("ping", {"type": "ping"})
                return
            for tool in reply.tools:
                tool_id = tool.id or f"toolu_fake{next(self._ids):06d}"
                yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": tool_id, "name": tool.name, "input": {}}})
                for piece in chunks(json.dumps(tool.input), 7):
                    yield _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "input_json_delta", "partial_json": piece}})
                yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            stop = "tool_use" if reply.tools else "end_turn"
            yield _sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": {"output_tokens": reply.usage[1]}})
            yield _sse("message_stop", {"type": "message_stop"})
            finished = True
        finally:
            self._stream_ended(finished)


@contextlib.contextmanager
def running_fake_anthropic(api_key: str = API_KEY) -> Iterator[FakeAnthropic]:
    """Start the fake on 127.0.0.1 (a free port) in a thread; stop it on exit."""
    fake = FakeAnthropic(api_key)
    with serve_in_thread(fake.app, "Anthropic") as fake.base_url:
        yield fake
