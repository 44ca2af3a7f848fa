"""One session's history as the Mix server sent it, parsed from the newest end only as far as asked.

The Mix API returns every message of a session in one response (no paging). Decoding the JSON is
quick; turning 10,000 objects into `ChatMessage`s is not (about 60 ms), and opening a session shows
only its last page. So the objects are kept as they came and parsed backwards in chunks: the last
page when it is asked for, then the rest a chunk at a time while the UI is idle (`parse_next`), so
that Home finds them parsed; a page asked for sooner parses what it needs itself.

`ChatMessage.index` counts stored messages (what fork counts), tool-result messages included,
although those are folded into the preceding assistant's calls (`to_chat_messages`). A chunk always
starts at a message that is not a tool result, so every result is parsed with the call it belongs to.
"""

from __future__ import annotations

import bisect
from typing import Any

from tui.api.backend import ChatMessage, MessagePage
from tui.api.mix.models import MessageData, to_chat_messages

CHUNK = 200  # stored messages parsed at a time (at least)


def _is_tool_result(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("role") == "tool"


class SessionHistory:
    def __init__(self, raw: list[Any]) -> None:
        self._raw = raw
        self.total = len(raw)
        self._parsed: list[ChatMessage] = []  # the messages of raw[self._parsed_from:], oldest first
        self._parsed_from = len(raw)

    @property
    def parsed_from(self) -> int:
        """The stored index from which on every message is parsed (`total`: none yet)."""
        return self._parsed_from

    def page(self, before: int | None, limit: int) -> MessagePage:
        """The newest `limit` messages (at least one) with an index below `before` (None: of all)."""
        before = self.total if before is None else max(0, min(before, self.total))
        limit = max(1, limit)
        while self._parsed_from > 0 and self._count_below(before) < limit:
            self._parse_older(limit)
        end = self._count_below(before)
        messages = self._parsed[max(0, end - limit):end]
        return MessagePage(messages=messages, start=messages[0].index if messages else 0, total=self.total)

    def parse_next(self) -> bool:
        """Parse the next older chunk; True while older messages remain unparsed."""
        if self._parsed_from > 0:
            self._parse_older(CHUNK)
        return self._parsed_from > 0

    def _count_below(self, before: int) -> int:
        return bisect.bisect_left(self._parsed, before, key=lambda m: m.index)

    def _parse_older(self, wanted: int) -> None:
        stop = self._parsed_from
        start = max(0, stop - max(CHUNK, wanted))
        while start > 0 and _is_tool_result(self._raw[start]):
            start -= 1
        chunk = to_chat_messages([MessageData.from_json(m) for m in self._raw[start:stop]], start=start)
        self._parsed[0:0] = chunk
        self._parsed_from = start
