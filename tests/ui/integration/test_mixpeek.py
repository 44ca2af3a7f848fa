"""Mixpeek from the real app: alt+k opens the Knowledge screen (key from the secrets file), browse,
search, attach a result; the attachment waits visibly above the composer and goes out with the
next message to the real embedded Mix server, which stores it."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from tests.fakes.mixpeek_server import running_fake_mixpeek
from tui.api.turn import TurnStatus
from tui.screens.knowledge_mixpeek import KnowledgeScreen
from tui.screens.new_conversation import NewConversationScreen
from tui.widgets.mixpeek_objects import ObjectTable
from tui.widgets.mixpeek_results import ResultList
from tui.widgets.mixpeek_tree import KnowledgeTree

from .harness import KEY_VARS, integrated_app, notifications, palette, screen_name, send_and_wait, wait_for, write_secrets


@pytest.fixture(autouse=True)
def no_keys_from_the_developer(monkeypatch):
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


def stored_user_texts(server, session_id: str) -> list[str]:
    with server.client() as c:
        messages = c.get(f"/api/sessions/{session_id}/messages").json()
    texts = []
    for message in messages:
        if message.get("role") == "user":
            texts.append(str(message.get("userInput") or ""))
    return texts


async def search_and_attach(pilot, app, screen: KnowledgeScreen, query: str, index: int):
    await pilot.press("ctrl+f")
    field = screen.query_one("#mp-query", Input)
    await wait_for(pilot, lambda: field.has_focus, what="the search box")
    field.value = ""
    await pilot.press(*query, "enter")
    results = screen.query_one(ResultList)
    await wait_for(pilot, lambda: len(results.results) >= 2 and results.has_focus, what="the results")
    results.highlighted = index
    await pilot.press("a")
    chosen = results.results[index]
    await wait_for(pilot, lambda: f"Attached {chosen.source}" in screen.status_text, what="the attach")
    return chosen


async def test_browse_search_attach_and_send_to_mix(tmp_path):
    with running_fake_mixpeek() as fake:
        write_secrets(tmp_path / "client", mixpeek=fake.api_key)
        async with integrated_app(tmp_path, mixpeek=fake) as (app, pilot, server):
            chat = app.chat
            assert not chat.attached.display
            await pilot.press("alt+k")
            await wait_for(pilot, lambda: isinstance(app.screen, KnowledgeScreen), what="the Knowledge screen")
            screen = app.screen
            tree = screen.query_one(KnowledgeTree)
            await wait_for(pilot, lambda: screen.namespace is not None and (node := tree.namespace_node("research")) is not None
                           and bool(node.children) and bool(screen.retrievers), what="namespaces, buckets and retrievers")
            assert [n.data.namespace.namespace_name for n in tree.root.children] == ["research", "personal"]
            assert fake.requests[0].headers["authorization"] == f"Bearer {fake.api_key}"  # the key from the secrets file
            docs = next(c for c in tree.namespace_node("research").children if c.data.bucket.bucket_name == "docs")
            tree.select_node(docs)
            table = screen.query_one(ObjectTable)
            await wait_for(pilot, lambda: table.row_count == 3, what="the bucket's objects")
            assert [o.label for o in table.objects] == ["solar.md", "tides.md", "wind.md"]

            first = await search_and_attach(pilot, app, screen, "turbines", 0)
            second = await search_and_attach(pilot, app, screen, "turbines", 1)
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_name(app) == "ChatScreen", what="back to the chat")

            # Both wait above the composer; ctrl+r takes the last one off again.
            assert chat.attached.display and len(chat.attached.attachments) == 2
            assert "2 attached contexts" in chat.attached.text and first.source in chat.attached.text
            assert chat.composer.text == ""  # what the user types is never touched
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: len(chat.attached.attachments) == 1, what="the last attachment removed")
            assert "attached context" in chat.attached.text and second.text not in chat.attached.wrap("")

            turn = await send_and_wait(pilot, app, "Summarise the attached notes")
            assert turn.status is TurnStatus.COMPLETE
            assert not chat.attached.display and chat.attached.attachments == []  # used once
            texts = stored_user_texts(server, chat.current.id)
            assert len(texts) == 1
            assert first.text.strip() in texts[0] and "Summarise the attached notes" in texts[0]
            assert f"[context from {first.source} ({first.document_id})]" in texts[0]
            if second.text.strip() != first.text.strip():
                assert second.text.strip() not in texts[0]

            # The next message goes without it.
            await send_and_wait(pilot, app, "and now without context")
            assert stored_user_texts(server, chat.current.id)[1] == "and now without context"


async def test_without_keys_the_app_says_how_to_add_them(tmp_path):
    async with integrated_app(tmp_path) as (app, pilot, _server):
        await pilot.press("alt+k")
        await wait_for(pilot, lambda: any("MIXPEEK_API_KEY" in n for n in notifications(app)), what="the Mixpeek hint")
        hint = next(n for n in notifications(app) if "MIXPEEK_API_KEY" in n)
        assert str(app.paths.secrets_file) in hint and screen_name(app) == "ChatScreen"

        await pilot.press("alt+m")
        await wait_for(pilot, lambda: any("MIXERLEAD_API_KEY" in n for n in notifications(app)), what="the MixerLead hint")

        # ctrl+n has nothing to choose between: a new Mix conversation at once.
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        assert screen_name(app) == "ChatScreen"

        # The palette's chooser lists MixerLead, disabled, with how to enable it.
        await palette(pilot, app, "new conversation", "New conversation")
        await wait_for(pilot, lambda: isinstance(app.screen, NewConversationScreen), what="the chooser")
        options = app.screen.query_one(OptionList)
        mixerlead = next(options.get_option_at_index(i) for i in range(options.option_count)
                         if str(options.get_option_at_index(i).prompt).startswith("MixerLead"))
        assert mixerlead.disabled and "MIXERLEAD_API_KEY" in str(mixerlead.prompt)
        assert "not configured" in str(mixerlead.prompt)
        await pilot.press("enter")  # Mix, the one enabled
        await wait_for(pilot, lambda: screen_name(app) == "ChatScreen", what="the chat")
        turn = await send_and_wait(pilot, app, "still works")
        assert turn.status is TurnStatus.COMPLETE and app.chat.current.conversation.backend == "mix"
