"""A session written out as Markdown. A slash command's answer (structured JSON, PROTOCOL §5.6) is
written as the card shows it when the UI passes `command_text`, else as its JSON."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Callable

from tui.api.backend import ChatMessage, Conversation
from tui.controllers.command_log import parse_command_output
from tui.controllers.wording import slug


CommandText = Callable[[dict], str]  # a slash command's answer as plain text (what its card shows)


def export_markdown(conversation: Conversation, messages: list[ChatMessage], command_text: CommandText | None = None) -> str:
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
            command = parse_command_output(message.text) if message.text and not message.tool_calls else None
            if command is not None:
                lines += _command_lines(command, message.text, command_text)
            elif message.text:
                lines += [message.text, ""]
            for call in message.tool_calls:
                lines += [f"**Tool `{call.name}`**", "", "```json", call.input or "{}", "```", ""]
                if call.result:
                    lines += ["```", call.result, "```", ""]
        elif message.text:
            lines += [f"_{message.role}: {message.text}_", ""]
    return "\n".join(lines).rstrip() + "\n"


def _command_lines(command: dict, raw: str, command_text: CommandText | None) -> list[str]:
    if command_text is not None:
        return ["```text", command_text(command), "```", ""]
    return ["```json", raw.strip(), "```", ""]


def export_path(folder: Path, conversation: Conversation, now: datetime | None = None) -> Path:
    return folder / f"{slug(conversation.title)}-{(now or datetime.now()):%Y%m%d-%H%M%S}.md"


async def write_export(path: Path, text: str) -> None:
    """Off the event loop: a slow disk never stalls the screen."""
    await asyncio.to_thread(_write_text, path, text)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
