"""How the offline agent reads plain English: one table, every form it promises to understand."""

from __future__ import annotations

import pytest

from tui.server.agent.intents import parse_request

CASES = [
    ("list files", "list", {"path": ""}),
    ("Could you please list the files?", "list", {"path": ""}),
    ("ls docs", "list", {"path": "docs"}),
    ("what files are there?", "list", {"path": ""}),
    ("show me the files in src", "list", {"path": "src"}),
    ("read notes.md", "read", {"file_path": "notes.md"}),
    ("show src/app.py", "read", {"file_path": "src/app.py"}),
    ("cat README", "read", {"file_path": "README"}),
    ("what's in todo.txt?", "read", {"file_path": "todo.txt"}),
    ("search for TODO", "search", {"pattern": "TODO", "path": "", "regex": False}),
    ('grep "foo bar" in src', "search", {"pattern": "foo bar", "path": "src", "regex": False}),
    ("search for regex ^def", "search", {"pattern": "^def", "path": "", "regex": True}),
    ("which files contain hello", "search", {"pattern": "hello", "path": "", "regex": False}),
    ("find *.md", "glob", {"pattern": "*.md", "path": ""}),
    ('create notes.md with "hello"', "write", {"file_path": "notes.md", "content": "hello\n"}),
    ("make a file called a.txt containing hi there", "write", {"file_path": "a.txt", "content": "hi there\n"}),
    ('write "first line" to draft.txt', "write", {"file_path": "draft.txt", "content": "first line\n"}),
    ("create empty.txt", "write", {"file_path": "empty.txt", "content": ""}),
    ("create a file x.py:\n```python\nprint(1)\n```", "write", {"file_path": "x.py", "content": "print(1)\n"}),
    ('replace "a" with "b" in x.txt', "edit", {"file_path": "x.txt", "old_string": "a", "new_string": "b", "replace_all": False}),
    ("in x.txt, change foo to bar", "edit", {"file_path": "x.txt", "old_string": "foo", "new_string": "bar", "replace_all": False}),
    ("edit x.txt: replace all foo with bar", "edit", {"file_path": "x.txt", "old_string": "foo", "new_string": "bar", "replace_all": True}),
    ("run ls -la", "run", {"command": "ls -la"}),
    ("run `echo hi`", "run", {"command": "echo hi"}),
    ("execute the command 'make test'", "run", {"command": "make test"}),
    ("`pwd`", "run", {"command": "pwd"}),
    ("plan a blog post", "plan", {"task": "a blog post"}),
    ('plan: create notes.md with "hi"', "plan", {"task": 'create notes.md with "hi"'}),
    ("Proceed", "proceed", {}),
    ("hello", "help", {}),
    ("what can you do?", "help", {}),
    ("create a todo list", "help", {}),  # no file name: not a write
]


@pytest.mark.parametrize("text,kind,args", CASES)
def test_requests_are_understood(text, kind, args):
    intent = parse_request(text)
    assert (intent.kind, intent.args) == (kind, args)


def test_plan_mode_reminder_is_ignored():
    intent = parse_request("read a.md\n<system-reminder>Plan mode is active.</system-reminder>")
    assert (intent.kind, intent.args) == ("read", {"file_path": "a.md"})


@pytest.mark.parametrize("typed, kind, args", [
    ("read @notes.md", "read", {"file_path": "notes.md"}),
    ("search for hello in @docs/a.md", "search", {"pattern": "hello", "path": "docs/a.md", "regex": False}),
    ("in @notes.md replace hello with bye", "edit",
     {"file_path": "notes.md", "old_string": "hello", "new_string": "bye", "replace_all": False}),
])
def test_the_composers_file_mentions_are_understood(typed, kind, args):
    """What the composer sends for `@file`: the mention and a closing line naming the file."""
    from tui.widgets.completion import attach_files

    sent = attach_files(typed, ["notes.md", "docs/a.md"])
    assert "(Attached session files:" in sent
    intent = parse_request(sent)
    assert (intent.kind, intent.args) == (kind, args)


def test_an_email_address_keeps_its_at():
    assert parse_request('create a.txt with "me@example.com"').args["content"] == "me@example.com\n"
