"""Slash-command answers kept by the client, and put back in their place in a session's history.

Neither Mix nor the embedded server store a command's answer (PROTOCOL §5.6: one `complete`, no
message), so a `/help` card would vanish on reload. The client keeps each answer in its own store,
keyed by session and anchored to the last message the history held when the command ran (its id,
and its index for when ids change); a history page read later gets the command and its answer back
as two messages after that anchor. This works against any server, since it asks nothing of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Callable

from tui.api.backend import ChatMessage, MessagePage
from tui.store import ClientStore

COMMAND_TYPES = ("help", "clear", "session", "sessions", "tools", "mcp", "context", "status", "login", "logout")


def parse_command_output(text: str) -> dict | None:
    """The structured answer of a slash command, or None when `text` is not one (then: Markdown)."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") in COMMAND_TYPES:
        return data
    return None


@dataclass(frozen=True)
class CommandRecord:
    """One command and its answer; `after_id`/`after_index`: the message it came after (None: the start)."""

    id: int
    command: str
    output: str
    after_id: str | None
    after_index: int | None

    def messages(self, index: int) -> list[ChatMessage]:
        """The command and its answer as history messages, at `index` (the message they follow)."""
        return [ChatMessage(id=f"command-{self.id}-asked", role="user", text=self.command, index=index),
                ChatMessage(id=f"command-{self.id}", role="assistant", text=self.output, index=index)]


def interleave(messages: list[ChatMessage], records: list[CommandRecord], *, from_start: bool,
               before: int | None = None) -> list[ChatMessage]:
    """`messages` (a page of the history, oldest first) with the commands that belong to it put after
    their anchors. `from_start`: the page begins the conversation (commands run on an empty history go
    first); `before`: the index of the next page already shown (its commands are not this page's)."""
    first = messages[0].index if messages else 0
    ids = {m.id: i for i, m in enumerate(messages)}
    after: dict[int, list[CommandRecord]] = {}  # position in `messages` (-1: before all) -> records, in order
    for record in records:
        if record.after_index is None and record.after_id is None:
            if from_start:
                after.setdefault(-1, []).append(record)
            continue
        if record.after_id in ids:
            after.setdefault(ids[record.after_id], []).append(record)
            continue
        anchor = record.after_index if record.after_index is not None else -1
        if anchor < first:
            continue  # an older page's
        if before is not None and anchor >= before:
            continue  # the next page's
        position = max((i for i, m in enumerate(messages) if m.index <= anchor), default=-1)
        after.setdefault(position, []).append(record)
    if not after:
        return messages
    merged = [m for r in after.get(-1, []) for m in r.messages(first)]
    for i, message in enumerate(messages):
        merged.append(message)
        merged += [m for r in after.get(i, []) for m in r.messages(message.index)]
    return merged


def interleave_page(page: MessagePage, records: list[CommandRecord], before: int | None = None) -> MessagePage:
    if not records:
        return page
    return replace(page, messages=interleave(page.messages, records, from_start=not page.has_older, before=before))


class CommandLog:
    """The kept commands of every session, in the client store (`store`), under `key(session_id)`."""

    def __init__(self, store: ClientStore, key: Callable[[str], str]) -> None:
        self._store = store
        self._key = key

    def records(self, session_id: str) -> list[CommandRecord]:
        return [CommandRecord(*row) for row in self._store.command_cards(self._key(session_id))]

    def record(self, session_id: str, command: str, output: str, anchor: ChatMessage | None) -> None:
        self._store.add_command_card(
            self._key(session_id), command, output,
            anchor.id if anchor is not None else None, anchor.index if anchor is not None else None)
