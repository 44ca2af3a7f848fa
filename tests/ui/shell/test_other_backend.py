"""The shell is backend-neutral: the same flows on MixerLead (its documented wire format, served by the
loopback fake in tests/fakes), injected with `MixApp(backend=...)`."""

from __future__ import annotations

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tui.api.mixerlead import MixerLeadClient
from tui.api.mixerlead.backend import MixerLeadBackend
from tui.api.turn import TurnStatus
from tui.app import MixApp
from tui.config import Config, resolve_paths

from .helpers import wait_for


async def test_send_stream_rename_delete_on_mixerlead(tmp_path):
    with running_fake_mixerlead() as (_url, fake):
        backend = MixerLeadBackend(MixerLeadClient(fake.api_key, base_url=fake.base_url), tmp_path / "ml.db")
        app = MixApp(Config(), resolve_paths(tmp_path / "client"), backend=backend)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                chat = app.chat
                await wait_for(pilot, lambda: chat.connection == "connected", what="ready")
                assert app.backend_name == "mixerlead"
                chat.composer.load("hello mixerlead")
                await pilot.press("enter")
                await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                               and chat.current.turn.status.finished, timeout=10, what="the answer")
                turn = chat.current.turn
                assert turn.status is TurnStatus.COMPLETE, turn.error
                assert turn.answer.strip()
                assert chat.sidebar.items[0].id == chat.current.id
                # rename
                await pilot.press("f2")
                await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen", what="rename")
                app.screen.query_one("#rename-input").value = "ML chat"
                await pilot.press("enter")
                await wait_for(pilot, lambda: chat.sidebar.items[0].title == "ML chat", what="renamed")
                # delete
                await pilot.press("f8")
                await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="confirm")
                await pilot.press("y")
                await wait_for(pilot, lambda: not chat.sidebar.items, what="deleted")
                assert await backend.list_conversations() == []
        finally:
            await backend.close()
