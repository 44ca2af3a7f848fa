"""Small pure parts of the shell: URL masking, ages, key names, OSC 9, help text, export."""

from __future__ import annotations

from datetime import datetime, timezone

from tui.api.backend import ChatMessage, Conversation
from tui.keymap import ACTIONS, display_key
from tui.notify import osc9
from tui.controllers.export import export_markdown
from tui.controllers.wording import title_from
from tui.screens.help import help_markdown
from tui.widgets.sidebar import age
from tui.widgets.status_bar import safe_url


def test_safe_url_never_shows_credentials_or_query():
    assert safe_url("http://user:s3cret@127.0.0.1:8088/?token=abc") == "http://127.0.0.1:8088"
    assert "abc" not in safe_url("https://host/api?token=abc")


def test_age():
    now = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc).timestamp()
    assert age(datetime(2026, 1, 10, 11, 59, 30, tzinfo=timezone.utc), now) == "now"
    assert age(datetime(2026, 1, 10, 11, 55, tzinfo=timezone.utc), now) == "5m"
    assert age(datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc), now) == "3h"
    assert age(datetime(2026, 1, 8, 12, 0, tzinfo=timezone.utc), now) == "2d"
    assert age(None, now) == ""


def test_osc9_strips_control_characters():
    assert osc9("done\x1b]0;evil\x07") == "\x1b]9;done ]0;evil\x07"


def test_display_key():
    assert display_key("ctrl+n") == "Ctrl+N"
    assert display_key("escape") == "Esc"
    assert display_key("f1,ctrl+h") == "F1 / Ctrl+H"


def test_help_lists_every_action_with_overrides():
    text = help_markdown({"new_session": "alt+n"}, [])
    for spec in ACTIONS:
        assert f"`{spec.id}`" in text
    assert "Alt+N" in text and "Ctrl+N" not in text


def test_export_markdown():
    conv = Conversation(id="1", title="Plan", backend="mix")
    text = export_markdown(conv, [ChatMessage(id="a", role="user", text="hi"), ChatMessage(id="b", role="assistant", text="hello", reasoning="hmm")])
    assert text.startswith("# Plan\n")
    assert "## You\n\nhi" in text and "## Assistant" in text and "hello" in text and "Thinking" in text


def test_title_from_long_text():
    assert title_from("a  b\nc") == "a b c"
    assert len(title_from("x" * 100)) == 48
