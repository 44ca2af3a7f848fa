"""SessionHistory: a session's messages as the server sent them, parsed from the newest end as pages are asked for."""

from __future__ import annotations

from typing import Any

from tui.api.mix import history as history_module
from tui.api.mix.history import SessionHistory
from tui.api.mix.models import MessageData, to_chat_messages


def wire_messages(blocks: int) -> list[dict[str, Any]]:
    """Stored messages in the wire shape (MessageData): a question, an answer calling a tool, the tool's
    result message (`role:"tool"`, folded into the call), and a final answer."""
    out: list[dict[str, Any]] = []
    for b in range(blocks):
        call_id = f"toolu_{b:04d}"
        out.append({"id": f"u{b}", "role": "user", "userInput": f"question {b}"})
        out.append({"id": f"a{b}", "role": "assistant", "assistantResponse": f"looking {b}",
                    "toolCalls": [{"id": call_id, "name": "bash", "input": "{}", "type": "tool_use", "finished": True}]})
        out.append({"id": f"t{b}", "role": "tool", "toolCalls": [{"id": call_id, "result": f"out {b}", "isError": b % 5 == 0}]})
        out.append({"id": f"f{b}", "role": "assistant", "assistantResponse": f"answer {b}"})
    return out


def shape(messages: list[Any]) -> list[tuple]:
    return [(m.index, m.id, m.role, m.text, [(c.id, c.result, c.is_error, c.status) for c in m.tool_calls]) for m in messages]


def test_pages_walked_back_to_the_start_equal_the_whole_history_parsed_at_once(monkeypatch) -> None:
    monkeypatch.setattr(history_module, "CHUNK", 7)  # chunk edges fall between a call and its result
    raw = wire_messages(40)
    whole = to_chat_messages([MessageData.from_json(m) for m in raw])
    history = SessionHistory(raw)
    page = history.page(None, 5)
    assert history.parsed_from > 0  # the newest page did not parse everything
    pages = [page]
    while page.has_older:
        page = history.page(page.start, 5)
        pages.append(page)
    walked = [m for p in reversed(pages) for m in p.messages]
    assert shape(walked) == shape(whole)  # in order, none missing or doubled, every result with its call
    assert all(len(p.messages) == 5 for p in pages[:-1]) and all(p.total == len(raw) for p in pages)
    assert history.parsed_from == 0


def test_one_page_with_everything_older_and_an_empty_history() -> None:
    raw = wire_messages(300)
    history = SessionHistory(raw)
    newest = history.page(None, 50)
    assert history.parsed_from >= len(raw) - 2 * history_module.CHUNK
    older = history.page(newest.start, newest.start)  # Home: all that is older, in one page
    assert older.start == 0 and not older.has_older
    assert shape(older.messages + newest.messages) == shape(to_chat_messages([MessageData.from_json(m) for m in raw]))
    empty = SessionHistory([])
    assert empty.page(None, 50).messages == [] and not empty.page(None, 50).has_older


def test_parsed_ahead_a_chunk_at_a_time_the_pages_are_the_same(monkeypatch) -> None:
    monkeypatch.setattr(history_module, "CHUNK", 7)
    raw = wire_messages(40)
    history = SessionHistory(raw)
    newest = history.page(None, 5)
    chunks = 0
    while history.parse_next():  # what the backend does while the UI is idle
        chunks += 1
    assert history.parsed_from == 0 and chunks > 10  # in many small steps
    older = history.page(newest.start, newest.start)
    assert shape(older.messages + newest.messages) == shape(to_chat_messages([MessageData.from_json(m) for m in raw]))
