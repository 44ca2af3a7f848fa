"""The transcript's entries (every loaded message, as plain data) and which of them get widgets first.

Plain Python, no drawing: the Transcript keeps one `Entry` per message and gives widgets to a window
of them; `first_screens` says how far the first frame of a place shown (an end of the entries) goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.api.backend import ChatMessage
from tui.api.turn import TurnModel


@dataclass(eq=False)
class Entry:
    index: int
    message: ChatMessage | None = None
    user_text: str | None = None
    turn: TurnModel | None = None
    widget: Any = None  # its widget while it is in the window


def estimated_rows(entry: Entry, live_rows: int) -> int:
    """At least the rows a message takes (its lines, its frame, a row per tool card): wrapping and
    cards only add rows, so a screen filled by the estimate is filled on screen too. A live answer
    counts `live_rows`."""
    if entry.turn is not None:
        return live_rows
    message = entry.message
    text = entry.user_text if message is None else message.text
    calls = 0 if message is None else len(message.tool_calls)
    return (text or "").count("\n") + 3 + calls


def first_screens(entries: list[Entry], start: int, direction: int, rows: int, most: int) -> int:
    """From `start` (an end of what is shown) going `direction` (-1: up, 1: down): where the messages
    that fill about `rows` rows end, at most `most` messages away."""
    limit = max(0, start - most) if direction < 0 else min(len(entries), start + most)
    filled, position = 0, start
    while position != limit and filled < rows:
        filled += estimated_rows(entries[position if direction > 0 else position - 1], rows)
        position += direction
    return position
