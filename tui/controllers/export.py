"""A session written out as Markdown."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from tui.api.backend import ChatMessage, Conversation
from tui.controllers.wording import slug


def export_markdown(conversation: Conversation, messages: list[ChatMessage]) -> str:
    lines = [f"# {conversation.title or 'Session'}", ""]
    if conversation.created_at:
        lines += [f"_Created {conversation.created_at:%Y-%m-%d %H:%M}_", ""]
    for message in messages:
        if message.role == "user":
            lines += ["## You", "", message.text, ""]
        elif message.role == "assistant":
            lines += ["## Assistant", ""]
            if message.reasoning:
                lines += ["<details><summary>Thinking</summary>", "", message.reasoning, "", "</details>", ""]
            if message.text:
                lines += [message.text, ""]
            for call in message.tool_calls:
                lines += [f"**Tool `{call.name}`**", "", "```json", call.input or "{}", "```", ""]
                if call.result:
                    lines += ["```", call.result, "```", ""]
        elif message.text:
            lines += [f"_{message.role}: {message.text}_", ""]
    return "\n".join(lines).rstrip() + "\n"


def export_path(folder: Path, conversation: Conversation, now: datetime | None = None) -> Path:
    return folder / f"{slug(conversation.title)}-{(now or datetime.now()):%Y%m%d-%H%M%S}.md"


async def write_export(path: Path, text: str) -> None:
    """Off the event loop: a slow disk never stalls the screen."""
    await asyncio.to_thread(_write_text, path, text)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
