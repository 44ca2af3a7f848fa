"""Which messages the first frame of a place shown mounts (plain Python, no drawing)."""

from __future__ import annotations

from tui.api.backend import ChatMessage
from tui.widgets.transcript_entries import Entry, estimated_rows, first_screens


def entries(lines: list[int]) -> list[Entry]:
    return [Entry(index=i, message=ChatMessage(id=f"m{i}", role="user", text="\n".join(["x"] * n))) for i, n in enumerate(lines)]


def test_rows_count_lines_frame_and_tool_cards() -> None:
    (entry,) = entries([4])
    assert estimated_rows(entry, live_rows=40) == 4 + 2  # four lines, the frame and the gap below
    assert estimated_rows(Entry(index=0, user_text="one line"), live_rows=40) == 3
    called = Entry(index=1, message=ChatMessage(id="a", role="assistant", text="ok", tool_calls=[object(), object()]))  # type: ignore[list-item]
    assert estimated_rows(called, live_rows=40) == 3 + 2  # a row per tool card


def test_first_screens_from_the_end_and_from_the_top() -> None:
    es = entries([8] * 100)  # 10 estimated rows each
    assert first_screens(es, 100, -1, rows=60, most=50) == 94  # six messages fill 60 rows
    assert first_screens(es, 0, 1, rows=60, most=50) == 6
    assert first_screens(es, 100, -1, rows=10_000, most=50) == 50  # never more than the window
    assert first_screens(es[:3], 3, -1, rows=60, most=50) == 0  # fewer than a screen: all of them
    assert first_screens([], 0, 1, rows=60, most=50) == 0
