"""SessionList: listing with retries, local titles, drafts, unseen marks, and the requests on a whole
session (create, rename, delete, fork, export), against the embedded server and a real ClientStore."""

from __future__ import annotations

import asyncio

import pytest

from tests.controllers.conftest import closed_port_url
from tui.api.mix import MixBackend
from tui.controllers.outbox import Unsent
from tui.controllers.session_list import ExportFailed, SessionList

pytestmark = pytest.mark.usefixtures("server")


async def test_the_list_carries_local_titles_unseen_marks_and_the_session_to_reopen(sessions, store, backend):
    first = await sessions.create("What is the weather like on Mars in the spring, roughly, and why so cold?")
    second = await sessions.create("", title="Second")
    assert first.title == "What is the weather like on Mars in the spring,…"  # the first 47 characters
    store.set_title(sessions.key(second.id), "Renamed here")
    sessions.mark_unseen(first.id)
    sessions.opened(second.id)
    sessions.pending_open = sessions.last_open()

    listed = await sessions.load(on_failure=pytest.fail)

    assert sessions.loaded and {c.id: c.title for c in listed}[second.id] == "Renamed here"
    assert sessions.unseen(listed) == [first.id]
    assert sessions.take_pending(listed).id == second.id and sessions.take_pending(listed) is None


async def test_a_relisting_answers_only_when_another_client_changed_the_list(sessions, server):
    assert await sessions.relist([]) is None  # not listed yet: the first listing is `load`'s
    mine = await sessions.create("", title="mine")
    shown = await sessions.load(on_failure=pytest.fail)
    assert await sessions.relist(shown) is None  # nothing changed: nothing to redraw

    made = await asyncio.to_thread(server.create_session, "made elsewhere")
    listed = await sessions.relist(shown)
    assert [c.id for c in listed] == [made["id"], mine.id]
    async with server.async_client() as c:
        assert (await c.patch(f"/api/sessions/{mine.id}", json={"title": "renamed elsewhere"})).status_code == 200
    assert [c.title for c in await sessions.relist(listed)] == ["made elsewhere", "renamed elsewhere"]


async def test_an_unreachable_server_is_retried_and_each_failure_said(store):
    gone = MixBackend(closed_port_url())
    failures: list[str] = []
    sessions = SessionList(store, lambda: "mix", lambda: gone)
    loading = asyncio.ensure_future(sessions.load(failures.append, first_wait=0.01))
    try:
        async with asyncio.timeout(10):
            while len(failures) < 2:
                await asyncio.sleep(0.01)
    finally:
        loading.cancel()
        await gone.close()
    assert "127.0.0.1" in failures[0] and not sessions.loaded


async def test_no_backend_lists_nothing(store):
    assert await SessionList(store, lambda: "mix", lambda: None).load(pytest.fail) is None


async def test_drafts_are_kept_per_backend_and_session_and_a_typed_one_is_never_overwritten(sessions, store):
    sessions.save_draft(None, "for a new session")
    sessions.save_draft("s1", "for s1")
    assert sessions.draft(None) == "for a new session" and store.draft("mix:new") == "for a new session"
    assert not sessions.keep_unsent("mix:s1", "failed text")  # the user typed something since: kept
    assert sessions.draft("s1") == "for s1"
    sessions.clear_draft("s1")
    assert sessions.keep_unsent("mix:s1", "failed text") and sessions.draft("s1") == "failed text"


async def test_rename_delete_and_fork_on_the_server(sessions, backend, open_session):
    session, _, listener = await open_session("original")
    await session.send("one")
    await listener.wait(lambda: not session.busy)
    sessions.save_draft(session.id, "half typed")

    await sessions.rename(session.conversation, "Better title")
    assert session.conversation.title == "Better title"
    assert {c.id: c.title for c in await backend.list_conversations()}[session.id] == "Better title"

    assert sessions.can_fork(session.id)
    fork = await sessions.fork(session.conversation, 0)  # up to and including the first message
    assert fork.title == "Better title (fork)" and fork.id != session.id
    assert [m.text for m in (await backend.load_messages(fork.id)).messages] == ["one"]

    await sessions.delete(session.conversation)
    assert session.id not in {c.id for c in await backend.list_conversations()}
    assert sessions.draft(session.id) == ""


async def test_export_writes_markdown_and_says_why_when_it_cannot(sessions, open_session, tmp_path):
    session, _, listener = await open_session("Export me!")
    await session.send("hello")
    await listener.wait(lambda: not session.busy)

    path = await sessions.export(session, tmp_path / "exports")

    assert path.parent == tmp_path / "exports" and path.name.startswith("export-me-") and path.suffix == ".md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Export me!") and "## You\n\nhello" in text and "You said: hello" in text

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportFailed, match="^Could not write "):
        await sessions.export(session, blocker)


def test_unsent_keeps_what_was_typed_for_the_newest_messages_only():
    unsent = Unsent(keep=2)
    unsent.remember("plain", "plain", [])  # nothing folded in: nothing to keep
    assert len(unsent) == 0
    unsent.remember("ctx\n\nfirst", "first", ["ctx"])
    unsent.remember("ctx\n\nsecond", "second", ["ctx"])
    unsent.remember("ctx\n\nthird", "third", [])
    assert len(unsent) == 2 and unsent.typed("ctx\n\nfirst") == "ctx\n\nfirst"  # the oldest went
    assert unsent.typed("ctx\n\nsecond") == "second"
    assert unsent.take("ctx\n\nsecond") == ("second", ["ctx"]) and len(unsent) == 1
    unsent.delivered("ctx\n\nthird")
    assert len(unsent) == 0
