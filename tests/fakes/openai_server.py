"""A local fake of an OpenAI-compatible chat completions server (OpenAI, OpenRouter, Ollama).

POST /v1/chat/completions with stream:true answers `data:` lines of `chat.completion.chunk`
objects as documented: the first chunk carries the role, text arrives in `delta.content`,
reasoning (Ollama/OpenRouter style) in `delta.reasoning_content`, tool calls as `delta.tool_calls`
fragments keyed by `index` (id and name first, then `function.arguments` pieces), then a chunk with
`finish_reason`, a usage chunk with empty `choices` when `stream_options.include_usage` was asked,
and `data: [DONE]`. Errors are the `{"error":{message,type,code}}` envelope, 429 with retry-after,
or an `{"error": …}` chunk mid-stream (as OpenRouter sends). GET /v1/models lists models;
GET /v1/key answers like OpenRouter's key endpoint.

It checks the Bearer key (unless `api_key=""`, like Ollama) and that every assistant tool call is
answered by a `tool` message with its tool_call_id before the conversation goes on.

`style="ollama"` behaves as Ollama's OpenAI-compatible API does: reasoning in `delta.reasoning`,
parallel tool calls streamed whole, one per chunk, all at `index: 0` with their own ids; a request
with `reasoning_effort` for a model not in `thinking_models` is refused with 400 "does not support
thinking"; and the native `POST /api/show` lists each model's capabilities. `style="openrouter"`
streams `Reply.reasoning_details` as `delta.reasoning_details` pieces (text split, the signature
last, per `index`) beside `delta.reasoning`, as OpenRouter does for reasoning models.

    with running_fake_openai() as fake:
        fake.script(Reply.call("bash", {"command": "ls"}), Reply.say("Done."))
        # base URL for the client: fake.base_url (ends in /v1)
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

API_KEY = "sk-proj-fakefakefakefakefakefakefake"
MODELS = ["gpt-4.1", "gpt-4.1-mini", "text-embedding-3-small", "o3"]


@dataclass
class FunctionCall:
    name: str
    arguments: dict
    id: str = ""


@dataclass
class Reply(ScriptedReply):
    """One scripted answer; a stream error is an `{"error": …}` chunk, a hanging stream sends keep-alives."""

    reasoning: str = ""
    calls: list[FunctionCall] = field(default_factory=list)
    error_code: Any = None
    usage: tuple[int, int] = (200, 40)
    cost: float | None = None  # OpenRouter's usage.cost
    reasoning_details: list[dict] = field(default_factory=list)  # OpenRouter style: whole entries, streamed in pieces

    @classmethod
    def calls_of(cls, *calls: FunctionCall, text: str = "", **kw: Any) -> "Reply":
        return cls(text=text, calls=list(calls), **kw)

    @classmethod
    def think(cls, reasoning: str, text: str, **kw: Any) -> "Reply":
        return cls(reasoning=reasoning, text=text, **kw)

    @classmethod
    def call(cls, name: str, arguments: dict, text: str = "", **kw: Any) -> "Reply":
        return cls(text=text, calls=[FunctionCall(name, arguments)], **kw)

    @classmethod
    def http_error(cls, status: int, message: str, error_type: str = "invalid_request_error",
                   retry_after: str | None = None, code: Any = None) -> "Reply":
        return cls.refusal(status, error_type, message, retry_after, error_code=code)

    @classmethod
    def error_chunk(cls, message: str, code: Any = 502, text: str = "") -> "Reply":
        return cls(text=text, stream_error=True, error_message=message, error_code=code)


@dataclass
class RecordedRequest(ChatRequest):
    def tool_messages(self) -> list[dict]:
        """The trailing `tool` messages (what the client fed back after the last assistant message)."""
        out = []
        for message in reversed(self.messages):
            if message.get("role") != "tool":
                break
            out.insert(0, message)
        return out


def _data(obj: Any) -> str:
    return f"data: {json.dumps(obj, separators=(',', ':'))}\n\n"


class FakeOpenAI(ScriptedFake):
    def __init__(self, api_key: str = API_KEY, models: list[str] | None = None, *, style: str = "openai",
                 thinking_models: tuple[str, ...] = ()) -> None:
        super().__init__(api_key)
        self.models_list = list(models or MODELS)
        self.style = style
        self.thinking_models = set(thinking_models)
        self.shown: list[str] = []  # models asked about on /api/show
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"]),
                                     Route("/v1/models", self.models, methods=["GET"]),
                                     Route("/v1/key", self.key, methods=["GET"]),
                                     Route("/api/show", self.show, methods=["POST"])])

    async def show(self, request: Request) -> Response:
        """Ollama's native model details: 404 for a model that is not installed."""
        model = str((await request.json()).get("model", ""))
        self.shown.append(model)
        if self.style != "ollama" or model not in self.models_list:
            return JSONResponse({"error": f"model '{model}' not found"}, 404)
        capabilities = ["completion", "tools"] + (["thinking"] if model in self.thinking_models else [])
        return JSONResponse({"modelfile": "", "details": {"format": "gguf"}, "capabilities": capabilities})

    @staticmethod
    def _error(status: int, message: str, kind: str, code: Any = None, headers: dict | None = None) -> Response:
        return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status,
                            headers=headers)

    def _auth_problem(self, request: Request) -> Response | None:
        if not self.api_key:
            return None
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return None

    @staticmethod
    def body_problem(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be a JSON object"
        if not body.get("model") or not isinstance(body.get("messages"), list):
            return "model and messages are required"
        if body.get("stream") is not True:
            return "the fake only answers streaming requests"
        messages = body["messages"]
        for i, message in enumerate(messages):
            if message.get("role") not in ("system", "user", "assistant", "tool", "developer"):
                return f"messages[{i}].role is not valid"
            calls = message.get("tool_calls") or []
            if message.get("role") != "assistant" or not calls:
                continue
            answered = set()
            for later in messages[i + 1:]:
                if later.get("role") != "tool":
                    break
                answered.add(later.get("tool_call_id"))
            for call in calls:
                if call.get("id") not in answered:
                    return ("An assistant message with 'tool_calls' must be followed by tool messages responding to "
                            f"each 'tool_call_id'. Missing: {call.get('id')}")
                try:
                    json.loads(call["function"]["arguments"])
                except (KeyError, TypeError, ValueError):
                    return f"messages[{i}].tool_calls: arguments must be a JSON string"
        return None

    async def models(self, request: Request) -> Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "created": 1700000000,
                                                          "owned_by": "fake"} for m in self.models_list]})

    async def key(self, request: Request) -> Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        return JSONResponse({"data": {"label": "sk-or-v1-fak...", "usage": 0, "limit": None, "is_free_tier": False}})

    async def completions(self, request: Request) -> Response:
        record = await self._record(request, RecordedRequest)
        body = record.body
        problem = self._auth_problem(request)
        if problem is None:
            text = self.body_problem(body)
            if not text and self.style == "ollama" and body.get("reasoning_effort") \
                    and body["model"] not in self.thinking_models:
                text = f'"{body["model"]}" does not support thinking'
            if text:
                problem = self._error(400, text, "invalid_request_error")
        if problem is not None:
            record.status = problem.status_code
            return problem
        reply = self._next_reply()
        if reply is None:
            record.status = 500
            return self._error(500, "the fake has no scripted reply left", "server_error")
        record.status = reply.status
        if reply.status != 200:
            return self._error(reply.status, reply.error_message, reply.error_type, reply.error_code, reply.headers)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(self._stream(reply, body["model"], include_usage), media_type="text/event-stream")

    async def _stream(self, reply: Reply, model: str, include_usage: bool):
        self.streams_opened += 1
        finished = False
        chunk_id = f"chatcmpl-fake{next(self._ids)}"

        def chunk(delta: dict, finish: str | None = None) -> str:
            return _data({"id": chunk_id, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                          "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

        try:
            yield chunk({"role": "assistant", "content": ""})
            reasoning_key = "reasoning_content" if self.style == "openai" else "reasoning"
            for piece in chunks(reply.reasoning, reply.chunk):
                yield chunk({reasoning_key: piece})
            for index, detail in enumerate(reply.reasoning_details):
                for piece in self._detail_pieces(detail, index, reply.chunk):
                    yield chunk({"reasoning": piece.get("text", ""), "reasoning_details": [piece]})
            for piece in chunks(reply.text, reply.chunk):
                yield chunk({"content": piece})
            if reply.stream_error:
                finished = True
                yield _data({"error": {"message": reply.error_message, "code": reply.error_code}})
                return
            if reply.hang:
                self.hanging.set()
                for _ in range(500):
                    await asyncio.sleep(0.02)
                    yield ": keep-alive\n\n"
                return
            for index, call in enumerate(reply.calls):
                call_id = call.id or f"call_fake{next(self._ids):05d}"
                if self.style == "ollama":  # whole, one per chunk, every one at index 0
                    yield chunk({"tool_calls": [{"id": call_id, "index": 0, "type": "function", "function": {
                        "name": call.name, "arguments": json.dumps(call.arguments)}}]})
                    continue
                yield chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                             "function": {"name": call.name, "arguments": ""}}]})
                for piece in chunks(json.dumps(call.arguments), 6):
                    yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            yield chunk({}, "tool_calls" if reply.calls else "stop")
            if include_usage:
                usage: dict = {"prompt_tokens": reply.usage[0], "completion_tokens": reply.usage[1],
                               "total_tokens": sum(reply.usage), "prompt_tokens_details": {"cached_tokens": 0}}
                if reply.cost is not None:
                    usage["cost"] = reply.cost
                yield _data({"id": chunk_id, "object": "chat.completion.chunk", "created": 1700000000,
                             "model": model, "choices": [], "usage": usage})
            yield "data: [DONE]\n\n"
            finished = True
        finally:
            self._stream_ended(finished)


    @staticmethod
    def _detail_pieces(detail: dict, index: int, size: int) -> list[dict]:
        """One reasoning_details entry as OpenRouter streams it: its text in pieces, then the signature."""
        base = {k: v for k, v in detail.items() if k not in ("text", "signature")}
        base["index"] = index
        pieces = [{**base, "text": piece} for piece in chunks(detail.get("text", ""), size)] or [dict(base)]
        if detail.get("signature"):
            pieces.append({**base, "text": "", "signature": detail["signature"]})
        return pieces


@contextlib.contextmanager
def running_fake_openai(api_key: str = API_KEY, models: list[str] | None = None, **kw: Any) -> Iterator[FakeOpenAI]:
    """Start the fake on 127.0.0.1 (a free port) in a thread; `fake.base_url` ends in /v1."""
    fake = FakeOpenAI(api_key, models, **kw)
    with serve_in_thread(fake.app, "OpenAI") as url:
        fake.base_url = url + "/v1"
        fake.root_url = url
        yield fake
