"""The stream reader never raises, whatever the bytes and however they are split, and is fast."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.api import events as ev
from tui.api.mix import SseReader, decode_event

GOOD = (
    b'id: 1\nevent: connected\ndata: {"sessionId":"s1"}\nretry: 30000\n\n'
    b'id: 2\nevent: content\ndata: {"type":"content","content":"h\\u00e9llo \xe2\x9c\x93"}\nretry: 30000\n\n'
    b'id: 3\nevent: tool\ndata: {"type":"tool","name":"bash","input":"","id":"t1","status":"running"}\nretry: 30000\n\n'
    b'id: 4\nevent: complete\ndata: {"type":"complete","content":"done","messageId":"m1","done":true}\nretry: 30000\n\n'
)
EXPECTED = [
    ev.Connected("s1"),
    ev.ContentDelta("héllo ✓"),
    ev.ToolSnapshot("t1", "bash", "", "running"),
    ev.Complete(content="done", message_id="m1"),
]


def read_all(chunks: list[bytes]) -> list[ev.Event]:
    reader = SseReader()
    out: list[ev.Event] = []
    for chunk in chunks:
        out.extend(reader.feed(chunk))
    out.extend(reader.close())
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_split_gives_the_same_events(cuts):
    assert read_all(split(GOOD, cuts)) == EXPECTED


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_random_bytes_never_raise(chunks):
    events = read_all(chunks + [b"\n\n"] + [GOOD])
    assert all(isinstance(e, tuple(ev.Event.__args__)) for e in events)  # type: ignore[attr-defined]


line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@st.composite
def hostile_frames(draw):
    """Frames with known names but broken data, unknown names, odd fields, CR/CRLF endings."""
    name = draw(st.sampled_from(["content", "tool", "permission", "complete", "error", "rate_limit_error",
                                 "tool_execution_complete", "notification", "mystery", "", "heartbeat"]))
    data = draw(st.one_of(
        line_text,
        st.just("{"), st.just("[1,2]"), st.just("null"), st.just('"str"'), st.just("{}"),
        st.just('{"content":5,"params":"x","choices":"nope","retryAfter":"soon","attempt":{}}'),
        st.builds(lambda d: json.dumps(d), st.dictionaries(st.sampled_from(
            ["content", "id", "input", "params", "error", "success", "retryAfter", "choices", "messageId"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3),
                      st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)), max_size=5)),
    ))
    extra = draw(st.sampled_from(["", "retry: abc\n", "retry: 750\n", "id: 7\x00\n", ": comment\n", "weird\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    frame = f"event: {name}\n{extra}data: {data}\n\n" if name else f"{extra}data: {data}\n\n"
    return frame.replace("\n", newline).encode("utf-8", "surrogatepass")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(hostile_frames(), max_size=6), st.lists(st.integers(min_value=0, max_value=3000), max_size=12))
def test_malformed_json_and_odd_fields_never_raise(frames, cuts):
    body = b"".join(frames) + GOOD
    events = read_all(split(body, cuts))
    assert events[-len(EXPECTED):] == EXPECTED  # the good events after the junk still decode


def test_huge_line_is_read_or_reported_not_raised():
    huge = "x" * 3_000_000
    body = ("event: content\ndata: " + json.dumps({"content": huge}) + "\n\n").encode() + GOOD
    events = read_all([body[i:i + 65536] for i in range(0, len(body), 65536)])
    assert events[0] == ev.ContentDelta(huge)
    assert events[1:] == EXPECTED
    junk = b"event: content\ndata: " + b"{" * 2_000_000 + b"\n\n"
    events = read_all([junk, GOOD])
    assert isinstance(events[0], ev.MalformedEvent) and events[0].event == "content"
    assert len(events[0].data) <= 2000  # not the whole megabytes
    assert events[1:] == EXPECTED
    no_newline = b"data: " + b"y" * 1_000_000  # a line that never ends: buffered, then dropped at close
    assert read_all([no_newline]) == []


def test_unknown_and_malformed_events_are_kept():
    assert decode_event("brand_new", '{"a":1}') == ev.UnknownEvent("brand_new", '{"a":1}')
    bad = decode_event("content", "{not json")
    assert isinstance(bad, ev.MalformedEvent) and bad.data == "{not json" and "not JSON" in bad.reason
    assert isinstance(decode_event("tool", "[1]"), ev.MalformedEvent)
    assert decode_event("heartbeat", "") == ev.Heartbeat()


def test_every_catalogue_event_decodes():
    cases = {
        "heartbeat": ('{"type":"ping"}', ev.Heartbeat()),
        "thinking": ('{"type":"thinking","content":"hm","parentToolCallId":"p","assistantMessageId":"a"}', ev.ThinkingDelta("hm", "p", "a")),
        "tool_execution_start": ('{"type":"tool_execution_start","toolName":"bash","progress":"Executing bash tool","toolCallId":"t"}',
                                 ev.ToolExecutionStart("t", "bash", "Executing bash tool")),
        "tool_execution_complete": ('{"toolName":"","progress":"Failed x","success":false,"toolCallId":"t"}',
                                    ev.ToolExecutionComplete("t", "", "Failed x", False)),
        "error": ('{"error":"Invalid slash command: /x","type":"authentication_error","retryAfter":1.5,"attempt":2,"maxAttempts":8}',
                  ev.Error("Invalid slash command: /x", "authentication_error", 1.5, 2, 8)),
        "rate_limit_error": ('{"error":"slow down","type":"rate_limit_error","retryAfter":60,"attempt":1,"maxAttempts":8}',
                             ev.RateLimitError("slow down", "rate_limit_error", 60.0, 1, 8)),
        "summarize": ('{"type":"summarize","progress":"Summary complete","done":true}', ev.Summarize("Summary complete", True)),
        "user_message_created": ('{"type":"user_message_created","messageId":"m","content":"hi"}', ev.UserMessageCreated("m", "hi")),
        "tool_use_start": ('{"type":"tool_use_start","name":"Bash","id":"t"}', ev.ToolUseStart("t", "Bash")),
        "tool_use_parameter_delta": ('{"toolCallId":"t","input":"{\\"a\\":"}', ev.ToolParameterDelta("t", '{"a":')),
        "tool_parameter_delta": ('{"toolCallId":"t","input":"1}"}', ev.ToolParameterDelta("t", "1}")),
        "tool_use_parameter_streaming_complete": ('{"name":"Bash","input":"{}","id":"t"}', ev.ToolParametersComplete("t", "Bash", "{}")),
        "session_created": ('{"type":"session_created","sessionId":"s","title":"T","createdAt":1700000000}', ev.SessionCreated("s", "T", 1700000000.0)),
        "session_deleted": ('{"type":"session_deleted","sessionId":"s"}', ev.SessionDeleted("s")),
        "notification": ('{"id":"n","sessionId":"s","notificationType":"question","title":"Q","message":"?","responseType":"choice","choices":["a","b"],"timeout":30}',
                         ev.Notification("n", "s", "question", "Q", "?", "choice", ("a", "b"), 30.0)),
        "complete": ('{"type":"complete","done":true}', ev.Complete()),
    }
    for name, (data, expected) in cases.items():
        assert decode_event(name, data) == expected, name
    perm = decode_event("permission", '{"id":"p","sessionId":"s","toolName":"write","description":"Create file a","action":"write","path":"/d","params":{"file_path":"a","diff":"+x"}}')
    assert perm == ev.PermissionRequest("p", "s", "write", "Create file a", "write", "/d", {"file_path": "a", "diff": "+x"})
    assert decode_event("tool", '{"name":"bash","input":{"command":"ls"},"id":"t","status":"completed"}').input == '{"command": "ls"}'


def test_decoding_is_fast():
    """The answer path carries ~3,000 deltas per answer; the target is >= 50,000 events/s. The bound
    asserted here is lower because this machine runs other test suites at the same time."""
    n = 30_000
    body = "".join(
        f'id: {i}\nevent: content\ndata: {{"type":"content","content":" token{i}"}}\nretry: 30000\n\n' for i in range(n)
    ).encode()
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    best = 0.0
    for _ in range(3):
        reader = SseReader()
        t0 = time.perf_counter()
        count = sum(len(reader.feed(c)) for c in chunks)
        best = max(best, count / (time.perf_counter() - t0))
    assert count == n
    assert best > 25_000, f"{best:,.0f} events/s"
