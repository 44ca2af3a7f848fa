"""Anthropic's Messages API over httpx: streamed answers, tool use and extended thinking.

Wire format (docs.anthropic.com, "Streaming messages"): `message_start`, then per content block
`content_block_start` / `content_block_delta` (text_delta, thinking_delta, signature_delta,
input_json_delta) / `content_block_stop`, then `message_delta` (stop_reason, cumulative usage) and
`message_stop`; `ping` anywhere; `error` ends the stream with {"error":{"type","message"}}.
"""

from __future__ import annotations

import json
from typing import AsyncIterator

import httpx

from tui.server.agent.tools import ToolSpec
from tui.server.providers.models import ANTHROPIC_ALIASES
from tui.server.providers.base import (
    TIMEOUT, VALIDATE_TIMEOUT, ChatMessage, ProviderError, ProviderEvent, ProviderRateLimited, Stop, TextDelta,
    ThinkingDelta, ThinkingDone, ThinkingPart, ToolCallEnd, ToolCallInputDelta, ToolCallStart, ToolOutcome, Usage,
    ValidationResult, connect_error, http_error, sse_events,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
ALIASES = ANTHROPIC_ALIASES
CACHE = {"type": "ephemeral"}
THINKING_BUDGET = {"low": 2048, "medium": 8192, "high": 24576}  # tokens; the API wants ≥ 1024
# Models from before extended thinking: a `thinking` parameter is refused by them (400).
NO_THINKING = ("claude-3-5", "claude-3-haiku", "claude-3-opus", "claude-3-sonnet", "claude-2", "claude-instant")
STOP_REASONS = {"end_turn": "end_turn", "stop_sequence": "end_turn", "tool_use": "tool_use",
                "max_tokens": "max_tokens", "refusal": "refusal", "pause_turn": "pause_turn"}


IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # what the Messages API accepts


def _result_content(result: ToolOutcome) -> str | list[dict]:
    """A tool result's text, with its images as image blocks when there are any."""
    images = [i for i in result.images if i.get("mimeType") in IMAGE_TYPES and i.get("data")]
    if not images:
        return result.text or "(no output)"
    return [{"type": "text", "text": result.text or "(no output)"}] + [
        {"type": "image", "source": {"type": "base64", "media_type": i["mimeType"], "data": i["data"]}} for i in images]


def request_messages(messages: list[ChatMessage]) -> list[dict]:
    """The `messages` array: tool results as user tool_result blocks, consecutive roles merged."""
    out: list[dict] = []
    for m in messages:
        blocks: list[dict] = []
        if m.role == "tool":
            role = "user"
            blocks = [{"type": "tool_result", "tool_use_id": r.call_id, "content": _result_content(r),
                       **({"is_error": True} if r.is_error else {})} for r in m.results]
        elif m.role == "assistant":
            role = "assistant"
            for part in m.thinking:
                if part.redacted:
                    blocks.append({"type": "redacted_thinking", "data": part.redacted})
                elif part.signature:  # unsigned thinking cannot be sent back; it may be left out
                    blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
            if m.text.strip():
                blocks.append({"type": "text", "text": m.text})
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.input} for c in m.tool_calls]
        else:
            role = "user"
            if m.text.strip():
                blocks = [{"type": "text", "text": m.text}]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            merged = out[-1]["content"] + blocks
            # tool_result blocks must open a user message
            merged.sort(key=lambda b: 0 if b["type"] == "tool_result" else 1)
            out[-1]["content"] = merged
        else:
            out.append({"role": role, "content": blocks})
    return out


def takes_thinking(model: str) -> bool:
    return not ALIASES.get(model, model).startswith(NO_THINKING)


def request_body(messages: list[ChatMessage], *, model: str, tools: list[ToolSpec], system: str, max_tokens: int,
                 reasoning_effort: str = "") -> dict:
    body: dict = {"model": ALIASES.get(model, model), "max_tokens": max_tokens, "stream": True,
                  "messages": request_messages(messages)}
    # Prompt caching: the tools + system prefix and the conversation so far are re-read at a tenth of
    # the price on the next request of the tool loop (breakpoints on the system block and the last block).
    if system:
        body["system"] = [{"type": "text", "text": system, "cache_control": CACHE}]
    if tools:
        body["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]
    if body["messages"]:
        last = body["messages"][-1]["content"][-1]
        if last.get("type") in ("text", "tool_result"):
            body["messages"][-1]["content"][-1] = {**last, "cache_control": CACHE}
    budget = THINKING_BUDGET.get(reasoning_effort) if takes_thinking(model) else None
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        body["max_tokens"] = max_tokens + budget  # the budget counts against max_tokens
    return body


class StreamDecoder:
    """Turns decoded SSE events (name, data) into ProviderEvents; keeps per-block state."""

    def __init__(self) -> None:
        self.blocks: dict[int, dict] = {}
        self.usage = Usage()
        self.stop_reason = ""
        self.finished = False

    def feed(self, event: str, data: str) -> list[ProviderEvent]:
        if event == "ping" or not data.strip():
            return []
        try:
            payload = json.loads(data)
        except ValueError:
            raise ProviderError(f"Anthropic sent an unreadable {event or 'stream'} event", 0, "bad_stream") from None
        kind = payload.get("type") or event
        if kind == "error":
            err = payload.get("error") or {}
            message, err_type = str(err.get("message") or "unknown error"), str(err.get("type") or "")
            if err_type == "rate_limit_error":
                raise ProviderRateLimited(f"Anthropic rate limit: {message}", None)
            raise ProviderError(f"Anthropic error ({err_type or 'error'}): {message}", 0, err_type)
        handler = getattr(self, "_" + kind, None)
        return handler(payload) if handler else []  # unknown events are ignored, as the docs ask

    def _message_start(self, p: dict) -> list[ProviderEvent]:
        self._add_usage((p.get("message") or {}).get("usage") or {})
        return []

    def _add_usage(self, u: dict) -> None:
        # message_delta's counts are cumulative: keep the largest seen
        usage = self.usage
        usage.input_tokens = max(usage.input_tokens, int(u.get("input_tokens") or 0))
        usage.output_tokens = max(usage.output_tokens, int(u.get("output_tokens") or 0))
        usage.cache_read_tokens = max(usage.cache_read_tokens, int(u.get("cache_read_input_tokens") or 0))
        usage.cache_write_tokens = max(usage.cache_write_tokens, int(u.get("cache_creation_input_tokens") or 0))

    def _content_block_start(self, p: dict) -> list[ProviderEvent]:
        block = dict(p.get("content_block") or {})
        index = int(p.get("index", len(self.blocks)))
        block["_json"] = []
        block["_thinking"] = [block.get("thinking", "")] if block.get("type") == "thinking" else []
        self.blocks[index] = block
        if block.get("type") == "tool_use":
            return [ToolCallStart(str(block.get("id", "")), str(block.get("name", "")))]
        if block.get("type") == "text" and block.get("text"):
            return [TextDelta(block["text"])]
        return []

    def _content_block_delta(self, p: dict) -> list[ProviderEvent]:
        block = self.blocks.get(int(p.get("index", 0)))
        delta = p.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(delta.get("text", ""))] if delta.get("text") else []
        if kind == "thinking_delta":
            text = delta.get("thinking", "")
            if block is not None:
                block["_thinking"].append(text)
            return [ThinkingDelta(text)] if text else []
        if kind == "signature_delta" and block is not None:
            block["signature"] = block.get("signature", "") + delta.get("signature", "")
            return []
        if kind == "input_json_delta" and block is not None:
            part = delta.get("partial_json", "")
            block["_json"].append(part)
            return [ToolCallInputDelta(str(block.get("id", "")), part)] if part else []
        return []

    def _content_block_stop(self, p: dict) -> list[ProviderEvent]:
        block = self.blocks.get(int(p.get("index", 0)))
        if block is None:
            return []
        kind = block.get("type")
        if kind == "tool_use":
            raw = "".join(block["_json"]).strip()
            start = block.get("input") if isinstance(block.get("input"), dict) else {}
            try:
                value = json.loads(raw) if raw else start
            except ValueError:
                return [ToolCallEnd(str(block.get("id", "")), str(block.get("name", "")), {},
                                    f"the tool input was cut off or not valid JSON: {raw[:200]}")]
            if not isinstance(value, dict):
                return [ToolCallEnd(str(block.get("id", "")), str(block.get("name", "")), {},
                                    "the tool input was not a JSON object")]
            return [ToolCallEnd(str(block.get("id", "")), str(block.get("name", "")), value)]
        if kind == "thinking":
            return [ThinkingDone(ThinkingPart("".join(block["_thinking"]), block.get("signature", "")))]
        if kind == "redacted_thinking":
            return [ThinkingDone(ThinkingPart(redacted=str(block.get("data", ""))))]
        return []

    def _message_delta(self, p: dict) -> list[ProviderEvent]:
        reason = (p.get("delta") or {}).get("stop_reason")
        if reason:
            self.stop_reason = reason
        self._add_usage(p.get("usage") or {})
        return []

    def _message_stop(self, p: dict) -> list[ProviderEvent]:
        self.finished = True
        reason = STOP_REASONS.get(self.stop_reason, self.stop_reason or "end_turn")
        return [self.usage, Stop(reason)]


class AnthropicProvider:
    name = "anthropic"
    display_name = "Anthropic"

    def __init__(self, api_key: str, base_url: str = "") -> None:
        self.api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._client: httpx.AsyncClient | None = None

    def _headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key, "anthropic-version": API_VERSION, "content-type": "application/json"}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def list_models(self) -> list[str]:
        try:
            async with httpx.AsyncClient(timeout=VALIDATE_TIMEOUT) as client:
                response = await client.get(f"{self.base_url}/v1/models", params={"limit": 100}, headers=self._headers())
        except httpx.HTTPError as exc:
            raise connect_error("Anthropic", self.base_url, exc) from None
        if response.status_code != 200:
            raise http_error("Anthropic", response, response.text)
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise ProviderError("Anthropic answered the model list with something that is not JSON") from None
        return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]

    async def validate(self) -> ValidationResult:
        try:
            models = await self.list_models()
        except ProviderError as exc:
            if exc.kind in ("connection_error", "timeout"):
                return ValidationResult(False, exc.message, checked_online=False)
            return ValidationResult(False, exc.message, checked_online=True)
        return ValidationResult(True, f"Anthropic accepted the key ({len(models)} models available)", True, models)

    async def stream(self, messages: list[ChatMessage], *, model: str, tools: list[ToolSpec], system: str,
                     max_tokens: int, reasoning_effort: str = "") -> AsyncIterator[ProviderEvent]:
        body = request_body(messages, model=model, tools=tools, system=system, max_tokens=max_tokens,
                            reasoning_effort=reasoning_effort)
        headers = {**self._headers(), "accept": "text/event-stream"}
        try:
            async with self.client.stream("POST", f"{self.base_url}/v1/messages", json=body, headers=headers) as response:
                if response.status_code != 200:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise http_error("Anthropic", response, text)
                async for event in decode_stream(response):
                    yield event
        except httpx.HTTPError as exc:
            raise connect_error("Anthropic", self.base_url, exc) from None


async def decode_stream(response: httpx.Response) -> AsyncIterator[ProviderEvent]:
    """The ProviderEvents of one streamed Messages response (also used by the parser tests)."""
    decoder = StreamDecoder()
    async for sse in sse_events(response, "Anthropic"):
        for event in decoder.feed(sse.event, sse.data):
            yield event
        if decoder.finished:
            return
    raise ProviderError("Anthropic's stream ended before the message was complete", 0, "incomplete_stream")
