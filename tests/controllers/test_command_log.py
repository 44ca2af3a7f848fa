"""Kept slash commands go back after the message they followed, on the page that holds it."""

from __future__ import annotations

from tui.api.backend import ChatMessage, MessagePage
from tui.controllers.command_log import CommandLog, CommandRecord, interleave, interleave_page
from tui.store import ClientStore


def _msgs(*indexes: int) -> list[ChatMessage]:
    return [ChatMessage(id=f"m{i}", role="user" if i % 2 == 0 else "assistant", text=f"t{i}", index=i) for i in indexes]


def _ids(messages: list[ChatMessage]) -> list[str]:
    return [m.id for m in messages]


def test_commands_go_after_their_anchor_by_id_then_by_index():
    records = [CommandRecord(1, "/help", "{}", "m1", 1),          # after m1, by id
               CommandRecord(2, "/tools", "{}", "gone", 2),       # id unknown now: after the last index <= 2
               CommandRecord(3, "/session", "{}", None, None)]    # on an empty history: first
    merged = interleave(_msgs(0, 1, 3), records, from_start=True)
    assert _ids(merged) == ["command-3-asked", "command-3", "m0", "m1", "command-1-asked", "command-1",
                            "command-2-asked", "command-2", "m3"]
    assert [m.index for m in merged][:2] == [0, 0] and merged[4].index == 1


def test_each_page_takes_only_its_own_commands():
    records = [CommandRecord(1, "/help", "{}", "m1", 1), CommandRecord(2, "/mcp", "{}", "m5", 5),
               CommandRecord(3, "/status", "{}", None, None)]
    newest = interleave_page(MessagePage(_msgs(4, 5, 6), start=4, total=7), records)
    assert _ids(newest.messages) == ["m4", "m5", "command-2-asked", "command-2", "m6"]
    older = interleave_page(MessagePage(_msgs(0, 1, 2, 3), start=0, total=7), records, before=4)
    assert _ids(older.messages) == ["command-3-asked", "command-3", "m0", "m1", "command-1-asked", "command-1", "m2", "m3"]


def test_the_log_keeps_commands_per_session_across_stores(tmp_path):
    store = ClientStore(tmp_path / "client.db")
    log = CommandLog(store, lambda sid: f"mix:{sid}")
    log.record("a", "/help", '{"type":"help"}', ChatMessage(id="m1", role="assistant", index=1))
    log.record("a", "/tools", '{"type":"tools"}', None)
    log.record("b", "/mcp", '{"type":"mcp"}', None)
    store.close()
    again = CommandLog(ClientStore(tmp_path / "client.db"), lambda sid: f"mix:{sid}")
    assert [(r.command, r.after_id, r.after_index) for r in again.records("a")] == [("/help", "m1", 1), ("/tools", None, None)]
    assert [r.command for r in again.records("b")] == ["/mcp"]


def test_export_writes_a_command_as_its_card_text_or_else_its_json():
    from tui.api.backend import Conversation
    from tui.controllers.export import export_markdown

    answer = '{"type":"help","commands":[{"name":"tools","description":"The tools","usage":"/tools"}]}'
    messages = [*CommandRecord(1, "/help", answer, None, None).messages(0)]
    conversation = Conversation(id="c", title="T", backend="mix")
    plain = export_markdown(conversation, messages)
    assert "## You\n\n/help" in plain and f"```json\n{answer}\n```" in plain
    drawn = export_markdown(conversation, messages,
                            command_text=lambda data: f"/{data['type']} card: {len(data['commands'])} command")
    assert "```text\n/help card: 1 command\n```" in drawn and '"type"' not in drawn


def test_forgetting_a_session_drops_its_commands(tmp_path):
    store = ClientStore(tmp_path / "client.db")
    log = CommandLog(store, lambda sid: f"mix:{sid}")
    log.record("a", "/help", '{"type":"help"}', None)
    store.forget("mix:a")
    assert log.records("a") == []
