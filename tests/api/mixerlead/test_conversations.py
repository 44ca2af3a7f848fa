"""The local store of MixerLead conversations: a real SQLite file shared with the client store."""

from __future__ import annotations

from pathlib import Path

from tui.api.mixerlead.conversations import ConversationStore
from tui.store import ClientStore


def test_conversations_and_messages_survive_reopening(tmp_path: Path) -> None:
    db = tmp_path / "client.db"
    store = ConversationStore(db)
    assert store.schema_version == 1
    conv = store.create("Pricing ideas", model="ml-auto")
    store.add_message(conv.id, "user", "first", status="sent")
    store.add_message(conv.id, "assistant", "answer", status="complete")
    store.set_server_id(conv.id, "conv_1")
    store.set_continuity(conv.id, "yes")
    store.close()

    again = ConversationStore(db)
    [loaded] = again.list("")
    assert (loaded.title, loaded.server_id, loaded.continuity, loaded.message_count, loaded.preview) == (
        "Pricing ideas", "conv_1", "yes", 2, "first")
    messages, start, total = again.messages(conv.id)
    assert [(m.index, m.role, m.text, m.status) for m in messages] == [(0, "user", "first", "sent"), (1, "assistant", "answer", "complete")]
    assert (start, total) == (0, 2)
    again.close()


def test_paging_from_the_newest(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    conv = store.create("t")
    for i in range(7):
        store.add_message(conv.id, "user", f"m{i}", status="sent")
    page, start, total = store.messages(conv.id, limit=3)
    assert [m.text for m in page] == ["m4", "m5", "m6"] and (start, total) == (4, 7)
    older, start, _ = store.messages(conv.id, before=4, limit=3)
    assert [m.text for m in older] == ["m1", "m2", "m3"] and start == 1
    oldest, start, _ = store.messages(conv.id, before=1, limit=3)
    assert [m.text for m in oldest] == ["m0"] and start == 0


def test_projects_are_kept_apart_and_delete_removes_messages(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    a = store.create("a", project_id="")
    b = store.create("b", project_id="proj_2")
    store.add_message(b.id, "user", "x", status="sent")
    assert [c.id for c in store.list("")] == [a.id] and [c.id for c in store.list("proj_2")] == [b.id]
    store.delete(b.id)
    assert store.get(b.id) is None and store.messages(b.id)[2] == 0


def test_shares_the_file_with_the_client_store(tmp_path: Path) -> None:
    db = tmp_path / "client.db"
    ui = ClientStore(db)
    ml = ConversationStore(db)
    ml.create("x")
    ui.set_setting("theme", "mix-light")
    assert ui.setting("theme") == "mix-light" and len(ml.list()) == 1
    ui.close()
    ml.close()
