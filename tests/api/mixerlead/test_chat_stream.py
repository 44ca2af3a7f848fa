"""`POST /api/chat`: text as it arrives, split UTF-8, every way a conversation id may come back,
continuity across turns, and no retry once streaming began."""

from __future__ import annotations

import pytest

from tests.api.mixerlead.conftest import collect, text_into
from tests.fakes.mixerlead_server import ID_MODES, FakeMixerLead, running_fake_mixerlead
from tui.api.mixerlead import ChatDone, ChatStarted, MixerLeadClient, StreamInterrupted
from tui.api.mixerlead.stream import EndMarker, Utf8Text, decode_ndjson_line, decode_sse

EXPECTED_SOURCE = {"header": "header", "none": "none", "body-marker": "body-marker", "sse": "sse", "ndjson": "ndjson", "json": "json"}


def text_of(items: list) -> str:
    return "".join(i for i in items if isinstance(i, str))


@pytest.mark.parametrize("mode", ID_MODES)
async def test_continuity_across_turns_in_every_id_mode(mode: str, make_client) -> None:
    with running_fake_mixerlead(conversation_id_mode=mode) as (_url, fake):
        client = make_client(fake)
        conversation_id = None
        for turn in (1, 2, 3):
            items = await collect(client.chat(f"message {turn}", conversation_id=conversation_id))
            assert isinstance(items[0], ChatStarted) and isinstance(items[-1], ChatDone)
            done = items[-1]
            expected_turn = turn if mode != "none" else 1  # without an id every message starts anew
            assert text_of(items) == f"Reply {expected_turn} to “message {turn}” — ünïcödé ✓ 🎉 done."
            assert done.text == text_of(items) and done.source == EXPECTED_SOURCE[mode]
            assert done.continuity_known is (mode != "none")
            if done.conversation_id:
                conversation_id = done.conversation_id
        sent = [r.body for r in fake.calls("/api/chat")]
        if mode == "none":
            assert all("conversationId" not in b for b in sent) and len(fake.conversations) == 3
        else:
            assert "conversationId" not in sent[0] and sent[1]["conversationId"] == sent[2]["conversationId"] == conversation_id
            assert len(fake.conversations) == 1


async def test_text_arrives_in_pieces_and_split_multibyte_characters_survive(make_client) -> None:
    reply = "Grüße aus Köln — 日本語 🎉🎉 ok"
    with running_fake_mixerlead(chunk_bytes=1, chunk_delay=0.002, reply=lambda m, t, c: reply) as (_url, fake):
        client = make_client(fake)
        items = await collect(client.chat("hi"))
    pieces = [i for i in items if isinstance(i, str)]
    assert "".join(pieces) == reply and "\ufffd" not in "".join(pieces)
    assert len(pieces) > 5  # rendered as it arrives, not at the end


async def test_model_is_sent_and_auto_is_omitted(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    await collect(client.chat("a", model="ml-auto"))
    await collect(client.chat("b", model="ml-fast"))
    bodies = [r.body for r in fake.calls("/api/chat")]
    assert bodies == [{"message": "a"}, {"message": "b", "model": "ml-fast"}]


async def test_429_before_any_byte_is_retried_and_the_reply_streams(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.rate_limit_path, fake.options.retry_after = 2, "/api/chat", "2"
    notices = []
    client = make_client(fake)
    items = await collect(client.chat("hi", on_retry=notices.append))
    assert items[0].attempts == 3 and text_of(items).startswith("Reply 1")
    assert [n.wait for n in notices] == [2.0, 2.0] and client.sleeper.waits == [2.0, 2.0]
    assert fake.chat_calls == 3 and fake.chat_streams_started == 1


async def test_a_reply_cut_mid_stream_is_not_retried_and_keeps_the_partial_text(fake: FakeMixerLead, make_client) -> None:
    fake.options.drop_after_bytes = 12
    fake.options.rate_limit_first = 0
    client = make_client(fake)
    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        await text_into(received, client.chat("hi"))
    assert "".join(received) == "Reply 1 to “"[: len("".join(received))] and received
    assert info.value.partial == "".join(received)
    assert "not sent again" in info.value.message
    assert fake.chat_calls == 1 and client.sleeper.waits == []


@pytest.mark.parametrize("mode", ["sse", "ndjson"])
async def test_an_error_inside_the_stream_is_an_error_not_assistant_text(mode: str, make_client) -> None:
    with running_fake_mixerlead(conversation_id_mode=mode, stream_error_after_bytes=10) as (_url, fake):
        client = make_client(fake)
        received: list[str] = []
        with pytest.raises(StreamInterrupted, match="The model failed mid-reply") as info:
            await text_into(received, client.chat("hi"))
        assert "failed" not in "".join(received) and info.value.partial == "".join(received)
        assert fake.chat_calls == 1


async def test_closing_the_stream_early_cancels_the_reply(make_client) -> None:
    with running_fake_mixerlead(chunk_bytes=2, chunk_delay=0.01) as (_url, fake):
        client = make_client(fake)
        stream = client.chat("hi")
        got = []
        async for item in stream:
            got.append(item)
            if len(got) == 3:
                break
        await stream.aclose()
        assert isinstance(got[0], ChatStarted) and not any(isinstance(g, ChatDone) for g in got)
        assert len(await client.list_models()) == 3  # the client is still usable


# ---------------------------------------------------------------- decoders, piece by piece


def test_utf8_decoder_joins_split_characters() -> None:
    data = "é🎉".encode()
    decoder = Utf8Text()
    out = [decoder.feed(data[i:i + 1]) for i in range(len(data))] + [decoder.finish()]
    assert "".join(out) == "é🎉" and out[0] == ""


def feed_all(marker: EndMarker, chunks: list[str]) -> tuple[str, str | None]:
    shown = "".join(marker.feed(c) for c in chunks)
    tail, conv, error = marker.finish()
    assert error is None
    return shown + tail, conv


def test_an_error_object_at_the_end_or_as_the_whole_body_is_an_error() -> None:
    for body, shown in (('{"error": "Content was moderated."}', ""), ('Partial answer\n{"error": "Model overloaded."}', "Partial answer")):
        marker = EndMarker()
        text = "".join(marker.feed(body[i:i + 4]) for i in range(0, len(body), 4))
        tail, conv, error = marker.finish()
        assert text + tail == shown and conv is None and error in ("Content was moderated.", "Model overloaded.")


def test_end_marker_is_stripped_even_when_split() -> None:
    body = 'Hello there.\n{"conversationId": "conv_9"}'
    for size in (1, 3, 7, 100):
        chunks = [body[i:i + size] for i in range(0, len(body), size)]
        assert feed_all(EndMarker(), chunks) == ("Hello there.", "conv_9")


def test_a_pretty_printed_marker_is_stripped_too() -> None:
    body = 'Done.\n{\n  "conversationId": "conv_7"\n}\n'
    for size in (1, 2, 5):
        chunks = [body[i:i + size] for i in range(0, len(body), size)]
        assert feed_all(EndMarker(), chunks) == ("Done.", "conv_7")


def test_json_in_the_answer_is_not_taken_for_a_marker() -> None:
    body = 'Here is config:\n{"name": "x"}\nand more text after it.'
    assert feed_all(EndMarker(), [body[:20], body[20:]]) == (body, None)
    ending = 'Config:\n{"name": "x"}'
    assert feed_all(EndMarker(), [ending]) == (ending, None)
    answer_with_id_then_text = 'A\n{"conversationId": "c"} trailing words'
    assert feed_all(EndMarker(), [answer_with_id_then_text]) == (answer_with_id_then_text, None)


def test_ordinary_text_is_not_held_back() -> None:
    marker = EndMarker()
    assert marker.feed("plain text ") == "plain text "
    assert marker.feed("{not json at all") == "{not json at all"
    assert marker.feed("\n{") == ""  # could be the start of a marker
    assert marker.feed("oops") == "\n{oops"


def test_sse_and_ndjson_pieces() -> None:
    assert decode_sse("message", '{"content": "hi"}').text == "hi"
    assert decode_sse("message", "raw words").text == "raw words"
    assert decode_sse("message", '{"choices": [{"delta": {"content": "x"}}]}').text == "x"
    assert decode_sse("conversation", "conv_1").conversation_id == "conv_1"
    assert decode_sse("done", '{"conversation": {"id": "c2"}}').conversation_id == "c2"
    assert decode_sse("message", "[DONE]").done
    assert decode_sse("error", "boom").error == "boom"
    assert decode_sse("message", '{"error": "nope"}').error == "nope"
    assert decode_ndjson_line('{"text": "a"}').text == "a"
    assert decode_ndjson_line("not json").text == "not json\n"
    assert decode_ndjson_line('{"type": "done", "conversation_id": "c3"}').conversation_id == "c3"


async def test_a_refusal_sent_as_an_error_body_with_200_is_never_shown_as_the_answer(make_client) -> None:
    with running_fake_mixerlead(refusal_in_body="This message was blocked by content moderation.") as (_url, fake):
        client = make_client(fake)
        received: list[str] = []
        with pytest.raises(StreamInterrupted, match="blocked by content moderation") as info:
            await text_into(received, client.chat("something"))
        assert received == [] and info.value.partial == ""


# ---------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ANSWER_CHARS = st.text(alphabet=list('ab{}[]\n":, 1\\é🎉'), max_size=300)  # no letters of "error"/"conversation"


def chunked(draw_sizes: list[int], text: str) -> list[str]:
    out, i = [], 0
    for size in draw_sizes:
        if i >= len(text):
            break
        out.append(text[i:i + size])
        i += size
    out.append(text[i:])
    return out


@settings(max_examples=150, deadline=None)
@given(ANSWER_CHARS, st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_any_answer_passes_through_unchanged_in_any_chunking(body: str, sizes: list[int]) -> None:
    assert feed_all(EndMarker(), chunked(sizes, body)) == (body, None)


@settings(max_examples=150, deadline=None)
@given(ANSWER_CHARS, st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_a_trailing_marker_is_always_found_and_removed(body: str, sizes: list[int]) -> None:
    full = body + '\n{"conversationId": "conv_1"}'
    assert feed_all(EndMarker(), chunked(sizes, full)) == (body, "conv_1")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.lists(st.integers(min_value=1, max_value=7), max_size=80))
def test_utf8_split_anywhere_decodes_to_the_same_text(text: str, sizes: list[int]) -> None:
    data = text.encode("utf-8")
    decoder = Utf8Text()
    out, i = [], 0
    for size in sizes:
        out.append(decoder.feed(data[i:i + size]))
        i += size
    out.append(decoder.feed(data[i:]))
    out.append(decoder.finish())
    assert "".join(out) == text
