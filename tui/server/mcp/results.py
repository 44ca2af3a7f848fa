"""An MCP `CallToolResult` as the ToolResult the agents read: its text blocks, a note for each
image, audio or resource block, the structured content when there is no text."""

from __future__ import annotations

import base64
import json
from typing import Any

from tui.server.agent.tools import ToolResult

MAX_RESULT_CHARS = 100_000  # what a model is given from one call; the rest is cut with a note


def _size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (ValueError, TypeError):
        return 0


def _block_text(block: Any, images: list[dict]) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind == "image":
        images.append({"mimeType": block.mime_type, "data": block.data})
        return f"[image: {block.mime_type}, {_size(block.data)} bytes]"
    if kind == "audio":
        return f"[audio: {block.mime_type}, {_size(block.data)} bytes]"
    if kind == "resource_link":
        return f"[resource: {block.uri}" + (f" ({block.name})" if getattr(block, "name", "") else "") + "]"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return f"[resource {resource.uri}]\n{text}"
        return f"[resource {resource.uri}: {getattr(resource, 'mime_type', None) or 'binary'}]"
    return f"[{kind or 'unknown'} content]"


def tool_result(result: Any) -> ToolResult:
    images: list[dict] = []
    parts = [_block_text(block, images) for block in result.content or []]
    if not any(p.strip() for p in parts) and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts).strip() or "(no output)"
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n[output cut after {MAX_RESULT_CHARS} characters]"
    return ToolResult(text, is_error=bool(result.is_error), metadata={"images": images} if images else {})
