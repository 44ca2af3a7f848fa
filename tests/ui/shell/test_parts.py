"""Small pure parts of the shell: URL masking, ages, key names, OSC 9, help text, export."""

from __future__ import annotations

from datetime import datetime, timezone

from tui.api.backend import ChatMessage, Conversation
from tui.keymap import ACTIONS, display_key
from tui.notify import osc9
from tui.controllers.export import export_markdown
from tui.controllers.wording import slug, title_from
from tui.screens.help import help_markdown
from rich.cells import cell_len

from tui.widgets.sidebar import Sidebar, SessionItem, age
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


def test_session_rows_fit_their_width_in_cells_with_wide_characters():
    sidebar = Sidebar()
    for title in ("plain", "✅ Ship the release notes for Friday", "🇨🇭 Grüße aus Zürich 🎉🎉🎉🎉", "日本語のタイトルです長い長い"):
        item = SessionItem(Conversation(id="x", title=title, backend="mix", created_at=datetime.now(timezone.utc)))
        row = sidebar._label(item, 27).plain
        assert cell_len(row) == 27 and row.endswith(" now"), row


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


def test_export_file_names_keep_the_words_of_the_title():
    assert slug("Grüße aus Zürich") == "grusse-aus-zurich"  # was "gr-e-aus-z-rich"
    assert slug("Crème brûlée / plan") == "creme-brulee-plan"
    assert slug("日本語のドキュメント") == "日本語のドキュメント"  # other scripts kept, their marks too
    assert slug("✅ Ship it 🇨🇭") == "ship-it" and slug("✅") == "session"


def test_export_markdown():
    conv = Conversation(id="1", title="Plan", backend="mix")
    text = export_markdown(conv, [ChatMessage(id="a", role="user", text="hi"), ChatMessage(id="b", role="assistant", text="hello", reasoning="hmm")])
    assert text.startswith("# Plan\n")
    assert "## You\n\nhi" in text and "## Assistant" in text and "hello" in text and "Thinking" in text


def test_title_from_long_text():
    assert title_from("a  b\nc") == "a b c"
    assert len(title_from("x" * 100)) == 48
