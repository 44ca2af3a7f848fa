"""OpenAI-compatible chat completions over httpx: OpenAI, OpenRouter, Ollama and other local servers.

Wire format (platform.openai.com, "Streaming"): `data:` lines holding `chat.completion.chunk`
objects; `choices[0].delta` carries `content`, and `tool_calls` fragments keyed by `index` (the
first fragment has `id` and `function.name`, later ones append to `function.arguments`);
`finish_reason` closes the choice; with `stream_options.include_usage` a last chunk has empty
`choices` and `usage`; the stream ends with `data: [DONE]`. Some servers add `delta.reasoning` or
`delta.reasoning_content` (OpenRouter, Ollama, DeepSeek-style) and send `{"error": …}` mid-stream.

As they behave in the field: Ollama streams parallel tool calls whole, one per chunk, every one with
`index: 0` (told apart by their ids); OpenRouter streams `delta.reasoning_details` pieces that must
be sent back on the assistant message of a tool loop, merged per index; Ollama refuses
`reasoning_effort` (400) for a model that does not think, so it is sent only to models whose
capabilities (`POST /api/show`) include "thinking".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import AsyncIterator

import httpx

from tui.server.agent.base import new_tool_call_id
from tui.server.agent.tools import ToolSpec
from tui.server.providers.models import DISPLAY, STATIC_MODELS
from tui.server.providers.base import (
    TIMEOUT, VALIDATE_TIMEOUT, ChatMessage, ProviderError, ProviderEvent, ProviderRateLimited, Stop, TextDelta,
    ThinkingDelta, ThinkingDone, ThinkingPart, ToolCallEnd, ToolCallInputDelta, ToolCallStart, Usage,
    ValidationResult, connect_error, error_text, http_error, sse_events,
)

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens",
                "content_filter": "refusal"}


@dataclass(frozen=True)
class Flavor:
    """What differs between OpenAI-compatible services."""

    name: str
    display_name: str
    default_base_url: str
    needs_key: bool = True
    static_models: tuple[str, ...] = ()
    max_tokens_field: str = "max_tokens"  # OpenAI's reasoning models want max_completion_tokens
    validate_path: str = "/models"  # a cheap authenticated GET
    models_from_api: bool = True  # False: the API list is too long to offer (OpenRouter)


OPENAI = Flavor("openai", DISPLAY["openai"], "https://api.openai.com/v1", static_models=STATIC_MODELS["openai"],
                max_tokens_field="max_completion_tokens")
OPENROUTER = Flavor("openrouter", DISPLAY["openrouter"], "https://openrouter.ai/api/v1",
                    static_models=STATIC_MODELS["openrouter"], validate_path="/key", models_from_api=False)
OLLAMA = Flavor("ollama", DISPLAY["ollama"], "http://127.0.0.1:11434/v1", needs_key=False)
FLAVORS = {f.name: f for f in (OPENAI, OPENROUTER, OLLAMA)}
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def request_messages(messages: list[ChatMessage], system: str, *, reasoning_details: bool = False) -> list[dict]:
    """The `messages` array; `reasoning_details` (OpenRouter) sends each assistant message's back."""
    out: list[dict] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        if m.role == "tool":
            out += [{"role": "tool", "tool_call_id": r.call_id, "content": r.text or "(no output)"} for r in m.results]
        elif m.role == "assistant":
            if not m.text and not m.tool_calls:
                continue
            entry: dict = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                entry["tool_calls"] = [{"id": c.id, "type": "function",
                                        "function": {"name": c.name, "arguments": json.dumps(c.input, ensure_ascii=False)}}
                                       for c in m.tool_calls]
            details = [d for part in m.thinking for d in part.details] if reasoning_details else []
            if details:
                entry["reasoning_details"] = details
            out.append(entry)
        elif m.text:
            out.append({"role": "user", "content": m.text})
    return out


def request_body(flavor: Flavor, messages: list[ChatMessage], *, model: str, tools: list[ToolSpec], system: str,
                 max_tokens: int, reasoning_effort: str = "") -> dict:
    body: dict = {"model": model, "messages": request_messages(messages, system, reasoning_details=flavor is OPENROUTER),
                  "stream": True,
                  "stream_options": {"include_usage": True}, flavor.max_tokens_field: max_tokens}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                           "parameters": t.input_schema}} for t in tools]
    if flavor is OPENROUTER:
        body["usage"] = {"include": True}  # OpenRouter then reports the request's cost
        if reasoning_effort:
            body["reasoning"] = {"effort": reasoning_effort}
    elif reasoning_effort and (flavor is not OPENAI or model.startswith(REASONING_PREFIXES)):
        body["reasoning_effort"] = reasoning_effort
    return body


class StreamDecoder:
    """Turns `data:` payloads into ProviderEvents; assembles tool calls by their index."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.calls: dict[int, dict] = {}  # slot -> {id, name, args: [..]}, slots in arrival order
        self._slots: dict[int, int] = {}  # the server's index -> the slot of its current call
        self.details: dict[int, dict] = {}  # OpenRouter reasoning_details, merged per index
        self.finish_reason = ""
        self.usage: Usage | None = None
        self.finished = False

    def feed(self, data: str) -> list[ProviderEvent]:
        data = data.strip()
        if not data:
            return []
        if data == "[DONE]":
            return self.finish()
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ProviderError(f"{self.provider} sent an unreadable stream chunk", 0, "bad_stream") from None
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            message, kind = error_text(chunk)
            code = (chunk.get("error") or {}).get("code") if isinstance(chunk.get("error"), dict) else None
            if code == 429 or kind in ("rate_limit_exceeded", "rate_limit_error", "429"):
                raise ProviderRateLimited(f"{self.provider} rate limit: {message}", None)
            raise ProviderError(f"{self.provider} error: {message or 'unknown error'}", int(code) if isinstance(code, int) else 0, kind)
        events: list[ProviderEvent] = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            thinking = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thinking, str) and thinking:
                events.append(ThinkingDelta(thinking))
            content = delta.get("content")
            if isinstance(content, str) and content:
                events.append(TextDelta(content))
            for fragment in delta.get("tool_calls") or []:
                events += self._tool_fragment(fragment)
            for detail in delta.get("reasoning_details") or []:
                self._reasoning_detail(detail)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            details = usage.get("prompt_tokens_details") or {}
            cost = usage.get("cost")
            self.usage = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
                               int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0, 0,
                               float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None)
        return events

    def _reasoning_detail(self, detail: dict) -> None:
        """One streamed piece of a reasoning_details entry: its strings are appended, the rest kept."""
        if not isinstance(detail, dict):
            return
        index = detail.get("index")
        if not isinstance(index, int):
            index = max(self.details, default=0)
        merged = self.details.setdefault(index, {})
        for key, value in detail.items():
            if key in ("text", "summary", "data", "signature") and isinstance(value, str) and isinstance(merged.get(key), str):
                merged[key] += value
            elif value is not None or key not in merged:
                merged[key] = value

    def _is_new_call(self, call: dict, fragment: dict, function: dict) -> bool:
        """Whether a fragment at an index already in use starts another call (Ollama sends every call
        whole at index 0): it carries another id, or a name after a call whose arguments are complete."""
        given = fragment.get("id")
        if given:
            return given != call["id"]
        if not function.get("name") or not call["name"]:
            return False
        try:
            json.loads("".join(call["args"]) or "-")
        except ValueError:
            return False
        return True

    def _tool_fragment(self, fragment: dict) -> list[ProviderEvent]:
        if not isinstance(fragment, dict):
            return []
        index = fragment.get("index")
        if not isinstance(index, int):
            index = -1 - len(self.calls)  # some local servers leave index out of whole calls
        function = fragment.get("function") or {}
        slot = self._slots.get(index)
        call = self.calls.get(slot) if slot is not None else None
        events: list[ProviderEvent] = []
        if call is None or self._is_new_call(call, fragment, function):
            call = {"id": fragment.get("id") or new_tool_call_id(), "name": function.get("name") or "", "args": []}
            self._slots[index] = len(self.calls)
            self.calls[len(self.calls)] = call
            events.append(ToolCallStart(call["id"], call["name"]))
        elif function.get("name") and not call["name"]:
            call["name"] = function["name"]
        args = function.get("arguments")
        if isinstance(args, dict):  # a few servers send the arguments already parsed
            args = json.dumps(args)
        if isinstance(args, str) and args:
            call["args"].append(args)
            events.append(ToolCallInputDelta(call["id"], args))
        return events

    def finish(self) -> list[ProviderEvent]:
        if self.finished:
            return []
        self.finished = True
        events: list[ProviderEvent] = []
        if self.details:
            events.append(ThinkingDone(ThinkingPart(details=[self.details[i] for i in sorted(self.details)])))
        for index in sorted(self.calls):
            call = self.calls[index]
            raw = "".join(call["args"]).strip()
            try:
                value = json.loads(raw) if raw else {}
            except ValueError:
                events.append(ToolCallEnd(call["id"], call["name"], {},
                                          f"the tool input was cut off or not valid JSON: {raw[:200]}"))
                continue
            if isinstance(value, dict):
                events.append(ToolCallEnd(call["id"], call["name"], value))
            else:
                events.append(ToolCallEnd(call["id"], call["name"], {}, "the tool input was not a JSON object"))
        if self.usage is not None:
            events.append(self.usage)
        reason = STOP_REASONS.get(self.finish_reason, self.finish_reason or "end_turn")
        if self.calls and reason == "end_turn":
            reason = "tool_use"  # some servers say "stop" even when they called tools
        events.append(Stop(reason))
        return events


class OpenAICompatProvider:
    def __init__(self, flavor: Flavor, api_key: str = "", base_url: str = "") -> None:
        self.flavor = flavor
        self.name = flavor.name
        self.display_name = flavor.display_name
        self.api_key = api_key
        self.base_url = (base_url or flavor.default_base_url).rstrip("/")
        self._client: httpx.AsyncClient | None = None
        self._thinks: dict[str, bool] = {}  # Ollama: model -> whether its capabilities include thinking

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        if self.flavor is OPENROUTER:
            headers["x-title"] = "mix-tui"  # OpenRouter's app attribution header
        return headers

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _get(self, path: str) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=VALIDATE_TIMEOUT) as client:
                response = await client.get(self.base_url + path, headers=self._headers())
        except httpx.HTTPError as exc:
            raise connect_error(self.display_name, self.base_url, exc) from None
        if response.status_code != 200:
            raise http_error(self.display_name, response, response.text)
        return response

    async def list_models(self) -> list[str]:
        if not self.flavor.models_from_api:
            return list(self.flavor.static_models)
        response = await self._get("/models")
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise ProviderError(f"{self.display_name} answered the model list with something that is not JSON") from None
        models = [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
        if self.flavor is OPENAI:
            # The list holds embeddings, audio, images…; offer the chat models
            models = [m for m in models if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-"))
                      and not any(x in m for x in ("audio", "realtime", "transcribe", "tts", "image", "search"))]
        return sorted(models)

    async def validate(self) -> ValidationResult:
        try:
            if self.flavor.validate_path == "/models":
                models = await self.list_models()
            else:
                await self._get(self.flavor.validate_path)
                models = list(self.flavor.static_models)
        except ProviderError as exc:
            online = exc.kind not in ("connection_error", "timeout")
            return ValidationResult(False, exc.message, checked_online=online)
        if self.flavor.needs_key:
            message = f"{self.display_name} accepted the key"
        else:
            message = f"{self.display_name} answered at {self.base_url} ({len(models)} models installed)"
        return ValidationResult(True, message, True, models)

    async def takes_reasoning(self, model: str) -> bool:
        """Ollama: whether `model` thinks, from its capabilities (asked once per model; unknown: no)."""
        if self.flavor is not OLLAMA:
            return True
        if model not in self._thinks:
            root = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
            try:
                async with httpx.AsyncClient(timeout=VALIDATE_TIMEOUT) as client:
                    response = await client.post(f"{root}/api/show", json={"model": model}, headers=self._headers())
                capabilities = response.json().get("capabilities") if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError, AttributeError):
                return False  # not remembered: asked again next time
            self._thinks[model] = isinstance(capabilities, list) and "thinking" in capabilities
        return self._thinks[model]

    async def stream(self, messages: list[ChatMessage], *, model: str, tools: list[ToolSpec], system: str,
                     max_tokens: int, reasoning_effort: str = "") -> AsyncIterator[ProviderEvent]:
        if reasoning_effort and not await self.takes_reasoning(model):
            reasoning_effort = ""
        body = request_body(self.flavor, messages, model=model, tools=tools, system=system, max_tokens=max_tokens,
                            reasoning_effort=reasoning_effort)
        headers = {**self._headers(), "accept": "text/event-stream"}
        try:
            async with self.client.stream("POST", f"{self.base_url}/chat/completions", json=body,
                                          headers=headers) as response:
                if response.status_code != 200:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise http_error(self.display_name, response, text)
                async for event in decode_stream(response, self.display_name):
                    yield event
        except httpx.HTTPError as exc:
            raise connect_error(self.display_name, self.base_url, exc) from None


async def decode_stream(response: httpx.Response, provider: str = "OpenAI") -> AsyncIterator[ProviderEvent]:
    """The ProviderEvents of one streamed chat completion (also used by the parser tests)."""
    decoder = StreamDecoder(provider)
    async for sse in sse_events(response, provider):
        for event in decoder.feed(sse.data):
            yield event
        if decoder.finished:
            return
    if decoder.finish_reason:  # a server that ends without [DONE] but said it was finished
        for event in decoder.finish():
            yield event
        return
    raise ProviderError(f"{provider}'s stream ended before the answer was complete", 0, "incomplete_stream")
