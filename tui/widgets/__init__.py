"""Textual widgets of mix-tui. The message pane lives in `transcript`, `message`, `tool_card`,
`thinking`, `streaming_markdown` and `permission_prompt`.

The names below are imported on first use (PEP 562): importing one light widget (the composer)
must not pull in the message pane and Markdown, which the first frame does not show.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "AssistantMessage": "message",
    "PermissionAnswered": "permission_prompt",
    "PermissionPrompt": "permission_prompt",
    "StreamingMarkdown": "streaming_markdown",
    "ThinkingView": "thinking",
    "ToolCard": "tool_card",
    "Transcript": "transcript",
    "UserMessage": "message",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
