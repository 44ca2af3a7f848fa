"""The completion's pure parts: what is being completed, ranking, and attaching `@` files."""

from __future__ import annotations

from tui.widgets.completion import Item, Query, attach_files, completion_at, rank, referenced_files


def test_slash_completes_only_the_first_word_of_the_message() -> None:
    assert completion_at("/he", 0, 3) == Query("/", "he", 0, 0, 3)
    assert completion_at("/", 0, 1) == Query("/", "", 0, 0, 1)
    assert completion_at("/help me", 0, 8) is None  # past the command: arguments are free text
    assert completion_at("say /he", 0, 7) is None
    assert completion_at("x\n/he", 1, 3) is None


def test_at_completes_a_file_token_anywhere() -> None:
    assert completion_at("read @no", 0, 8) == Query("@", "no", 0, 5, 8)
    assert completion_at("@", 0, 1) == Query("@", "", 0, 0, 1)
    assert completion_at("line one\nsee @a.t", 1, 8) == Query("@", "a.t", 1, 4, 8)
    assert completion_at("mail me@example", 0, 15) is None  # not after a space: an address, not a file
    assert completion_at("read @notes.md and", 0, 18) is None


def test_rank_prefers_prefixes_then_substrings() -> None:
    items = [Item("@", n) for n in ("report.md", "data.csv", "old-report.txt", "Readme")]
    assert [i.value for i in rank(items, "re")] == ["report.md", "Readme", "old-report.txt"]
    assert [i.value for i in rank(items, "")] == ["report.md", "data.csv", "old-report.txt", "Readme"]
    assert rank(items, "zzz") == []


def test_attach_files_names_the_referenced_session_files() -> None:
    names = ["notes.md", "data.csv"]
    assert referenced_files("compare @notes.md with @data.csv, and @notes.md again", names) == ["notes.md", "data.csv"]
    assert attach_files("summarise @notes.md.", names) == "summarise @notes.md.\n\n(Attached session files: ./notes.md)"
    assert attach_files("email me@notes.md", names) == "email me@notes.md"
    assert attach_files("@missing.txt please", names) == "@missing.txt please"
