"""The MixerLead model picker, with Pilot against the fake over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tests.ui.mixerlead.host import Host, fake_client, settle
from tui.api.mixerlead.backend import MixerLeadBackend
from tui.screens.mixerlead_models import MixerLeadModelPicker

SIZE = (100, 30)


async def test_lists_models_marks_paid_and_defaults_to_auto() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        app = Host(lambda: MixerLeadModelPicker(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            options = app.shown.query_one(OptionList)
            prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
            assert prompts[0].startswith("Auto (ml-auto) · default") and "current" in prompts[0]
            assert "★ paid plan" in prompts[2] and "Pro Reasoner" in prompts[2]
            assert "★" not in prompts[1]
            assert options.highlighted == 0
            assert "1 marked ★ paid plan" in str(app.shown.query_one("#ml-models-status", Static).content)
            await pilot.press("down", "enter")
            await pilot.pause()
            assert app.results == ["ml-fast"]
        await client.aclose()


async def test_choosing_through_the_backend_sets_the_conversation_model(tmp_path: Path) -> None:
    with running_fake_mixerlead() as (_url, fake):
        backend = MixerLeadBackend(fake_client(fake), tmp_path / "client.db")
        conv = await backend.create_conversation("x")
        app = Host(lambda: MixerLeadModelPicker(backend, conversation_id=conv.id))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("down", "down", "enter")
            await pilot.pause()
        assert app.results == ["ml-pro"] and backend.model_for(conv.id) == "ml-pro"
        assert await backend.current_model() == "MixerLead · Pro Reasoner"
        await backend.close()


async def test_after_a_restart_the_status_label_is_the_conversations_model(tmp_path: Path) -> None:
    """Pro chosen for a conversation, the app restarted: the status bar said "MixerLead · Auto"
    while the picker marked Pro current. Both now read the conversation's stored choice."""
    with running_fake_mixerlead() as (_url, fake):
        backend = MixerLeadBackend(fake_client(fake), tmp_path / "client.db")
        conv = await backend.create_conversation("x")
        backend.set_model("ml-pro", conv.id)
        await backend.close()
        again = MixerLeadBackend(fake_client(fake), tmp_path / "client.db")
        assert await again.current_model(conv.id) == "MixerLead · Pro Reasoner"
        assert await again.current_model() == "MixerLead · Auto"  # new conversations keep the default
        await again.close()


async def test_escape_keeps_the_current_model_and_errors_still_offer_auto() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake, api_key="ml_live_wrong")
        app = Host(lambda: MixerLeadModelPicker(client, current="ml-auto"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            status = str(app.shown.query_one("#ml-models-status", Static).content)
            assert "Invalid or missing API key." in status and "Auto is still available" in status
            assert app.shown.query_one(OptionList).option_count == 1
            await pilot.press("escape")
            await pilot.pause()
            assert app.results == [None]
        await client.aclose()


def test_snapshot_of_the_model_picker(snap_compare) -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)

        async def loaded(pilot) -> None:
            await settle(pilot, pilot.app)

        assert snap_compare(Host(lambda: MixerLeadModelPicker(client)), terminal_size=SIZE, run_before=loaded)
