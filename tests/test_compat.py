"""What tui.compat takes from dependencies' private modules still behaves as mix-tui relies on.
A failure here means a dependency release changed it: see tui/compat.py for what to do."""

from __future__ import annotations

from httpx_sse import ServerSentEvent

from tui.compat import SSEDecoder, SSELineDecoder


def _lines(chunks: list[str]) -> list[str]:
    decoder = SSELineDecoder()
    out: list[str] = []
    for chunk in chunks:
        out += decoder.decode(chunk)
    return out + decoder.flush()


def test_the_line_decoder_splits_on_cr_lf_and_crlf_across_chunk_boundaries():
    assert _lines(["event: a\r", "\ndata: 1\n", "\r\n", "data: 2\rda", "ta: 3\n\n"]) == [
        "event: a", "data: 1", "", "data: 2", "data: 3", ""]
    assert _lines(["no newline at the end"]) == ["no newline at the end"]  # flush keeps the tail


def test_the_event_decoder_assembles_events_from_lines():
    decoder = SSEDecoder()
    lines = ["id: 7", "event: content", ": a comment", "data: {\"a\":", "data: 1}", "retry: 500", ""]
    results = [decoder.decode(line) for line in lines]
    assert results[:-1] == [None] * (len(lines) - 1)
    event = results[-1]
    assert isinstance(event, ServerSentEvent)
    assert (event.event, event.data, event.id, event.retry) == ("content", "{\"a\":\n1}", "7", 500)
    unnamed = [decoder.decode(line) for line in ("data:x", "")][-1]
    assert unnamed.event == "message" and unnamed.data == "x" and unnamed.id == "7"  # the id is kept (spec)
    assert SSEDecoder().decode("") is None  # an empty line with nothing pending is no event
