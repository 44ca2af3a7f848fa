"""The continuity notice follows what the backend learned from real replies of the fake."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from tests.api.mixerlead.test_backend import Listener, turn
from tests.fakes.mixerlead_server import running_fake_mixerlead
from tests.ui.mixerlead.host import fake_client
from tui.api.mixerlead.backend import MixerLeadBackend
from tui.widgets.mixerlead_continuity import ContinuityNotice


class NoticeHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ContinuityNotice(id="notice")


async def test_notice_says_plainly_when_each_message_starts_anew(tmp_path: Path) -> None:
    with running_fake_mixerlead(conversation_id_mode="none") as (_url, fake):
        backend = MixerLeadBackend(fake_client(fake), tmp_path / "client.db")
        with_id = MixerLeadBackend(fake_client(fake), tmp_path / "other.db")
        conv = await backend.create_conversation("x")
        app = NoticeHost()
        async with app.run_test(size=(100, 10)) as pilot:
            notice = app.query_one(ContinuityNotice)
            assert notice.show_for(backend, conv.id) == "unknown" and notice.display
            assert "not known whether it will remember" in str(notice.content)
            listener = Listener(backend, conv.id)
            await turn(backend, listener, conv.id, "hello")
            await listener.stop()
            assert notice.show_for(backend, conv.id) == "no"
            assert str(notice.content).startswith("⚠ MixerLead did not return a conversation id") and notice.has_class("ml-warning")
            fake.options.conversation_id_mode = "header"
            other = await with_id.create_conversation("y")
            listener = Listener(with_id, other.id)
            await turn(with_id, listener, other.id, "hello")
            await listener.stop()
            assert notice.show_for(with_id, other.id) == "yes" and not notice.display
            await pilot.pause()
        await backend.close()
        await with_id.close()
