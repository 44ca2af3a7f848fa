"""MixerLead from the real app (`MixApp` as `make run` builds it): the backend chosen per new
conversation, several turns with continuity, a 429 countdown and retry, a 403 without retry, the
model picker, and the knowledge and skills screens opened from the palette. The fake MixerLead
and the embedded Mix server both answer over loopback HTTP."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tui.api.turn import TurnStatus
from tui.screens.confirm import ConfirmScreen
from tui.screens.mixerlead_knowledge import MixerLeadKnowledgeScreen
from tui.screens.mixerlead_models import MixerLeadModelPicker
from tui.screens.mixerlead_skills import MixerLeadSkillsScreen
from tui.screens.new_conversation import NewConversationScreen
from tui.widgets.mixerlead_sources import SourceTable

from .harness import KEY_VARS, integrated_app, notifications, palette, screen_name, send, send_and_wait, wait_for


@pytest.fixture(autouse=True)
def no_keys_from_the_developer(monkeypatch):
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


async def choose_backend(pilot, app, label: str) -> None:
    """ctrl+n, then the chooser's line for `label`."""
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, NewConversationScreen), what="the backend chooser")
    options = app.screen.query_one(OptionList)
    index = next(i for i in range(options.option_count) if str(options.get_option_at_index(i).prompt).startswith(label))
    options.highlighted = index
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_name(app) == "ChatScreen", what="the chat")


async def test_several_turns_on_mixerlead_continue_one_conversation_beside_mix(tmp_path, monkeypatch):
    with running_fake_mixerlead() as (_url, fake):  # the id comes back in X-Conversation-Id
        monkeypatch.setenv("MIXERLEAD_API_KEY", fake.api_key)
        async with integrated_app(tmp_path, mixerlead=fake) as (app, pilot, server):
            chat = app.chat
            await choose_backend(pilot, app, "MixerLead")
            await wait_for(pilot, lambda: "MixerLead · Auto" in chat.status.text, what="the model in the status bar")
            answers = [(await send_and_wait(pilot, app, text)) for text in ("hello", "and then?", "thanks")]
            assert [t.status for t in answers] == [TurnStatus.COMPLETE] * 3, [t.error for t in answers]
            assert [t.answer.split(" to ")[0] for t in answers] == ["Reply 1", "Reply 2", "Reply 3"]  # the server remembered

            bodies = [r.body for r in fake.calls("/api/chat")]
            assert "conversationId" not in bodies[0]
            server_id = next(iter(fake.conversations))
            assert [b.get("conversationId") for b in bodies[1:]] == [server_id, server_id]
            assert all(b.get("model") in (None, "ml-auto") for b in bodies)
            assert not chat.continuity.display  # continuity works: no notice
            ml_id = chat.current.id
            assert chat.current.conversation.backend == "mixerlead"

            # A Mix conversation beside it: created on the real server, nothing more sent to MixerLead.
            await choose_backend(pilot, app, "Mix")
            mix_turn = await send_and_wait(pilot, app, "hello mix")
            assert mix_turn.status is TurnStatus.COMPLETE
            mix_id = chat.current.id
            with server.client() as c:
                assert mix_id in [s["id"] for s in c.get("/api/sessions").json()]
            assert len(fake.calls("/api/chat")) == 3

            # Both are in the sidebar, each with its backend's mark.
            labels = {item.id: chat.sidebar.label_text(item.id) for item in chat.sidebar.items}
            assert set(labels) == {ml_id, mix_id}
            assert "ML" in labels[ml_id] and "mx" in labels[mix_id]

            # Opening the MixerLead one again routes the next message to MixerLead, same conversation.
            chat.sidebar.post_message(chat.sidebar.Selected(ml_id))
            await wait_for(pilot, lambda: chat.current is not None and chat.current.id == ml_id, what="reopened")
            again = await send_and_wait(pilot, app, "one more")
            assert again.answer.startswith("Reply 4") and fake.calls("/api/chat")[-1].body["conversationId"] == server_id


async def test_without_a_conversation_id_the_notice_says_each_message_starts_anew(tmp_path, monkeypatch):
    with running_fake_mixerlead(conversation_id_mode="none") as (_url, fake):
        monkeypatch.setenv("MIXERLEAD_API_KEY", fake.api_key)
        async with integrated_app(tmp_path, mixerlead=fake) as (app, pilot, _server):
            chat = app.chat
            await choose_backend(pilot, app, "MixerLead")
            first = await send_and_wait(pilot, app, "hello")
            assert first.status is TurnStatus.COMPLETE
            await wait_for(pilot, lambda: chat.continuity.display, what="the continuity notice")
            assert "each message starts a new conversation" in str(chat.continuity.content)
            second = await send_and_wait(pilot, app, "do you remember?")
            assert second.answer.startswith("Reply 1")  # a new server conversation, as the notice said
            assert all("conversationId" not in r.body for r in fake.calls("/api/chat"))
            assert chat.continuity.display


async def test_429_shows_a_rate_limit_countdown_then_retries(tmp_path, monkeypatch):
    with running_fake_mixerlead(rate_limit_first=1, rate_limit_path="/api/chat", retry_after="2") as (_url, fake):
        monkeypatch.setenv("MIXERLEAD_API_KEY", fake.api_key)
        async with integrated_app(tmp_path, mixerlead=fake) as (app, pilot, _server):
            chat = app.chat
            await choose_backend(pilot, app, "MixerLead")
            now = [1000.0]
            chat.banner.clock = lambda: now[0]  # the countdown's clock, stepped by hand (a busy machine cannot skew it)
            await send(pilot, app, "hello under load")
            await wait_for(pilot, lambda: chat.banner.display and chat.banner.state == "rate_limited", what="the rate-limit banner")
            shown = chat.banner.text
            assert "Rate limited" in shown and "Too many requests" in shown and "retrying in 2 s" in shown
            now[0] += 1.0
            assert "retrying in 1 s" in chat.banner.text  # it counts down
            assert "Connection lost" not in shown and "rate limited" in chat.status.text
            await wait_for(pilot, lambda: chat.current is not None and chat.current.turn is not None
                           and chat.current.turn.status.finished, timeout=10, what="the retried answer")
            assert chat.current.turn.status is TurnStatus.COMPLETE and chat.current.turn.answer.startswith("Reply 1")
            assert fake.chat_calls == 2 and fake.chat_streams_started == 1
            assert not chat.banner.display and chat.connection == "connected"


async def test_403_for_a_paid_model_is_shown_without_retry_and_the_text_is_kept(tmp_path, monkeypatch):
    with running_fake_mixerlead(plan="free") as (_url, fake):
        monkeypatch.setenv("MIXERLEAD_API_KEY", fake.api_key)
        async with integrated_app(tmp_path, mixerlead=fake) as (app, pilot, _server):
            chat = app.chat
            await choose_backend(pilot, app, "MixerLead")
            await pilot.press("alt+m")
            await wait_for(pilot, lambda: isinstance(app.screen, MixerLeadModelPicker), what="the model picker")
            picker = app.screen
            options = picker.query_one(OptionList)
            await wait_for(pilot, lambda: options.option_count == 3, what="the models")
            prompts = [str(options.get_option_at_index(i).prompt) for i in range(3)]
            assert "default" in prompts[0] and "★ paid plan" in prompts[2] and "★" not in prompts[1]
            options.highlighted = 2
            await pilot.press("enter")
            await wait_for(pilot, lambda: "MixerLead · Pro Reasoner" in chat.status.text, what="the chosen model in the status bar")

            text = "a long question I do not want to type twice"
            await send(pilot, app, text)
            await wait_for(pilot, lambda: any("not available on your current plan" in n for n in notifications(app)), what="the 403")
            await wait_for(pilot, lambda: chat.composer.text == text, what="the text back in the composer")
            assert fake.chat_calls == 1  # refused once, never retried
            assert fake.calls("/api/chat")[0].body["model"] == "ml-pro"
            assert not chat.banner.display or chat.banner.state != "rate_limited"
            await wait_for(pilot, lambda: any("Your text was put back" in n for n in notifications(app)), what="the put-back notice")


async def test_knowledge_add_toggle_delete_and_a_skill_run_from_the_palette(tmp_path, monkeypatch):
    with running_fake_mixerlead() as (_url, fake):
        monkeypatch.setenv("MIXERLEAD_API_KEY", fake.api_key)
        async with integrated_app(tmp_path, mixerlead=fake) as (app, pilot, _server):
            await palette(pilot, app, "knowledge sources", "MixerLead: knowledge sources")
            await wait_for(pilot, lambda: isinstance(app.screen, MixerLeadKnowledgeScreen), what="the knowledge screen")
            screen = app.screen
            await wait_for(pilot, lambda: screen.status_log and screen.status_log[-1].startswith("No knowledge sources yet"), what="the empty list")
            field = screen.query_one("#ml-add-input", Input)
            field.value = "https://example.com/pricing"
            field.focus()
            await pilot.press("enter")
            table = screen.query_one(SourceTable)
            await wait_for(pilot, lambda: table.row_count == 1 and "indexed" in str(table.get_row_at(0)[3])
                           and "indexing" not in str(table.get_row_at(0)[3]), timeout=10, what="the source indexed")
            assert fake.calls("/api/knowledge", "POST")[0].body == {"url": "https://example.com/pricing"}

            table.focus()
            await pilot.press("space")
            await wait_for(pilot, lambda: fake.sources["kb_0001"]["enabled"] == 0 and str(table.get_row_at(0)[0]) == "○ off", what="toggled off")
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: not fake.sources and table.row_count == 0, what="deleted")
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_name(app) == "ChatScreen", what="back to the chat")

            await palette(pilot, app, "headl", "MixerLead skill: Headlines")
            await wait_for(pilot, lambda: isinstance(app.screen, MixerLeadSkillsScreen), what="the skills screen")
            skills = app.screen
            await wait_for(pilot, lambda: skills.skill is not None and skills.skill.id == "headline-v2", what="the skill chosen")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: skills.last_result is not None, what="the skill output")
            assert fake.skill_runs == [{"skillId": "headline-v2", "vars": {}}]
            assert skills.last_result.output.startswith("# Headlines")
            assert "Headlines" in skills.query_one("#ml-skill-output").source  # shown as Markdown
