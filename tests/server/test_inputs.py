"""The request-reading helpers every route uses (tui.server.inputs)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from tui.server.inputs import MAX_JSON_DEPTH, BadInput, classify, decode_json, int_param


def test_sound_json_passes_and_empty_bodies_give_the_default():
    assert decode_json(b'{"title": "caf\\u00e9", "n": [1, {"a": null}]}') == {"title": "café", "n": [1, {"a": None}]}
    assert decode_json(b"  ", empty={}) == {}
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert decode_json(nested) is not None
    assert decode_json(b'{"s": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')  # in a string


@pytest.mark.parametrize("raw,says", [
    (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nested deeper"),
    (b"[" * 100_000, "nested deeper"),
    (b'{"title": "\\ud800"}', "lone surrogate"),
    (b'{"\\udfff": 1}', "lone surrogate"),
    (b'{"title": "\xff"}', "not UTF-8"),
    (b"{", "invalid JSON"),
])
def test_unsound_json_is_bad_input(raw, says):
    with pytest.raises(BadInput) as refused:
        decode_json(raw)
    assert says in str(refused.value)
    assert classify(refused.value)[0] == 400


def _request(query: str) -> Request:
    return Request({"type": "http", "query_string": query.encode(), "headers": []})


@pytest.mark.parametrize("query,expected", [
    ("", 50), ("limit=7", 7), ("limit=0", 50), ("limit=-3", 50), ("limit=abc", 50), ("limit=5000", 1000),
    ("limit=9223372036854775808", 1000), ("limit=" + "9" * 5000, 1000), ("limit=-" + "9" * 5000, 50),
])
def test_query_integers_are_clamped_never_overflowing(query, expected):
    assert int_param(_request(query), "limit", 50, 1, 1000) == expected


def test_only_input_caused_errors_become_4xx():
    assert classify(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))[0] == 400
    assert classify(OverflowError("Python int too large to convert to SQLite INTEGER"))[0] == 400
    assert classify(OSError(36, "File name too long"))[0] == 400
    assert classify(RuntimeError("a real bug")) is None
    assert classify(KeyError("x")) is None
