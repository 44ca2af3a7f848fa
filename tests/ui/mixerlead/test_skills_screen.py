"""The MixerLead skills screen with Pilot against the fake over loopback HTTP."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Markdown, OptionList, TextArea

from tests.fakes.mixerlead_server import SKILLS, running_fake_mixerlead
from tests.ui.mixerlead.host import Host, fake_client, settle
from tui.screens.mixerlead_skills import MixerLeadSkillsScreen
from tui.widgets.mixerlead_skill_form import FormError, parse_free_form

SIZE = (110, 34)


def markdown_text(screen: MixerLeadSkillsScreen) -> str:
    return screen.query_one("#ml-skill-output", Markdown).source


async def test_choose_a_skill_fill_its_variables_and_see_the_markdown_output() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        app = Host(lambda: MixerLeadSkillsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            options = screen.query_one("#ml-skills", OptionList)
            assert options.option_count == 2 and app.focused is options
            await pilot.press("enter")  # the first skill: Buyer persona
            await pilot.pause()
            assert screen.skill is not None and screen.skill.id == "persona-v1"
            free = screen.query_one("#ml-vars-free", TextArea)
            assert app.focused is free
            assert "does not say which variables" in str(screen.query_one(".ml-var-note").content)
            free.text = "product: Mixer\naudience = CMOs\n"
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            assert fake.skill_runs == [{"skillId": "persona-v1", "vars": {"product": "Mixer", "audience": "CMOs"}}]
            assert markdown_text(screen).startswith("# Buyer persona") and "- **product**: Mixer" in markdown_text(screen)
            assert screen.status_log[-1] == "Buyer persona finished."
            assert free.text.startswith("product: Mixer")  # the form keeps what was typed
        await client.aclose()


async def test_a_bad_line_is_named_and_nothing_is_sent() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        app = Host(lambda: MixerLeadSkillsScreen(client, skill_id="headline-v2"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            assert screen.skill is not None and screen.skill.id == "headline-v2"  # opened at the asked skill
            screen.query_one("#ml-vars-free", TextArea).text = "topic: tea\njust words"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert screen.status_log[-1].startswith("Line 2 (“just words”) is not `name: value`")
            assert fake.skill_runs == []
        await client.aclose()


async def test_403_out_of_credits_is_shown_without_retry() -> None:
    with running_fake_mixerlead(credits=0) as (_url, fake):
        client = fake_client(fake)
        app = Host(lambda: MixerLeadSkillsScreen(client, skill_id="persona-v1"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            last = screen.status_log[-1]
            assert last.startswith("Could not run Buyer persona: You have run out of credits. Top up to continue.")
            assert "retrying will not help" in last
            assert len(fake.calls("/api/skills/exec")) == 1 and client.sleeper.waits == []
            assert markdown_text(screen) == ""
        await client.aclose()


async def test_known_variables_get_their_own_fields(monkeypatch) -> None:
    skills = [dict(SKILLS[0], variables=[{"name": "product", "required": True}, {"name": "tone", "default": "warm"}])]
    monkeypatch.setattr("tests.fakes.mixerlead_server.SKILLS", skills)
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        app = Host(lambda: MixerLeadSkillsScreen(client, skill_id="persona-v1"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            assert screen.query_one("#ml-var-1", Input).value == "warm"
            await pilot.press("ctrl+s")
            assert screen.status_log[-1] == "Fill in product first; nothing was sent."
            screen.query_one("#ml-var-0", Input).value = "Mixer"
            screen.query_one("#ml-var-0", Input).focus()
            await pilot.press("enter")  # enter in a field runs too
            await settle(pilot, app)
            assert fake.skill_runs == [{"skillId": "persona-v1", "vars": {"product": "Mixer", "tone": "warm"}}]
        await client.aclose()


def test_free_form_parsing() -> None:
    assert parse_free_form("a: 1\n\n b = two words \nurl: https://x.y/z") == {"a": "1", "b": "two words", "url": "https://x.y/z"}
    with pytest.raises(FormError, match="Line 1"):
        parse_free_form(": no name")


def test_snapshot_of_the_skills_screen(snap_compare) -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)

        async def ran(pilot) -> None:
            await settle(pilot, pilot.app)
            screen = pilot.app.shown
            screen.query_one("#ml-vars-free", TextArea).text = "product: Mixer\naudience: CMOs"
            await pilot.press("ctrl+s")
            await settle(pilot, pilot.app)
            screen.query_one("#ml-skills").focus()
            await pilot.pause()

        app = Host(lambda: MixerLeadSkillsScreen(client, skill_id="persona-v1"))
        assert snap_compare(app, terminal_size=SIZE, run_before=ran)
