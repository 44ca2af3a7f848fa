"""Every key in one table: the views (F3-F5, F9) and the MixerLead / Mixpeek keys are rebindable by
id, listed by F1 and the palette, and a [keys] section that gives one key to two actions is reported."""

from __future__ import annotations

from tui.keymap import ACTIONS, BY_ID, collision_message, collisions

from .helpers import dead_url, make_app, notifications, wait_for, wait_notified

MOVED = {"files": "f3", "models": "f4", "credentials": "f5", "tools": "f9",
         "mixpeek_knowledge": "alt+k", "choose_model": "alt+m", "remove_attachment": "ctrl+r"}


def test_the_view_and_integration_keys_are_in_the_table_with_their_old_keys():
    for action_id, key in MOVED.items():
        assert BY_ID[action_id].key == key, action_id
    assert {BY_ID[i].scope for i in ("mixpeek_knowledge", "choose_model", "remove_attachment")} == {"integration"}


def test_the_default_table_has_no_clash():
    assert collisions({}) == []
    assert len({k.strip() for a in ACTIONS for k in a.key.split(",")}) == sum(len(a.key.split(",")) for a in ACTIONS)


def test_collisions_name_every_action_sharing_the_key():
    assert collisions({"toggle_sidebar": "f9"}) == [("f9", ["toggle_sidebar", "tools"])]
    assert collisions({"toggle_sidebar": "f11"}) == []
    # Two overrides that swap keys clash with nothing.
    assert collisions({"files": "f4", "models": "f3"}) == []
    three = collisions({"files": "ctrl+r", "tools": "ctrl+r"})
    assert three == [("ctrl+r", ["files", "tools", "remove_attachment"])]
    text = collision_message(three + [("f9", ["toggle_sidebar", "tools"])])
    assert "Ctrl+R is bound to files and tools and remove_attachment" in text
    assert "F9 is bound to both toggle_sidebar and tools" in text


async def test_a_clash_in_the_config_is_reported_once(tmp_path):
    app = make_app(tmp_path, server=dead_url(), keys={"toggle_sidebar": "f9"})
    async with app.run_test(size=(100, 30)) as pilot:
        text = await wait_notified(pilot, app, lambda n: "bound to" in n)
        assert "toggle_sidebar" in text and "tools" in text and "F9" in text
        await pilot.press("f1")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert sum("bound to" in n for n in notifications(app)) == 1


async def test_view_keys_can_be_rebound(tmp_path):
    app = make_app(tmp_path, server=dead_url(), keys={"files": "f11"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")  # the old key does nothing now
        await pilot.pause(0.1)
        assert not any("files belong to a session" in n for n in notifications(app))
        await pilot.press("f11")  # no session open: the files view says why it cannot open
        await wait_notified(pilot, app, lambda n: "files belong to a session" in n)


async def test_integration_keys_can_be_rebound(tmp_path):
    app = make_app(tmp_path, server=dead_url(), keys={"mixpeek_knowledge": "alt+j", "remove_attachment": "f12"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("alt+k")
        await pilot.pause(0.1)
        assert not any("MIXPEEK_API_KEY" in n for n in notifications(app))
        await pilot.press("alt+j")  # no Mixpeek key in this data dir: it says how to add one
        await wait_notified(pilot, app, lambda n: "MIXPEEK_API_KEY" in n)
        chat = app.chat
        chat.attached.add("notes about turbines", "docs/turbines.md")
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert len(chat.attached.attachments) == 1
        await pilot.press("f12")
        await wait_for(pilot, lambda: not chat.attached.attachments, what="the attachment removed by the new key")


async def test_f1_lists_the_moved_keys_with_overrides(tmp_path):
    app = make_app(tmp_path, server=dead_url(), keys={"tools": "alt+t", "choose_model": "alt+o"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help")
        keys_part = app.screen.markdown.split("Rebind any of them")[0]  # the main list only
        for action_id in MOVED:
            assert f"(`{action_id}`)" in keys_part, action_id
        assert "`Alt+T` Tool status" in keys_part and "`F9`" not in keys_part
        assert "`Alt+O` Choose the MixerLead model" in keys_part
        assert "`F3` This session's files" in keys_part and "`Ctrl+R` Remove the context" in keys_part


async def test_the_palette_offers_the_moved_actions_with_their_keys(tmp_path):
    from tui.integration import IntegrationCommands
    from tui.screens.palette import MixCommands

    app = make_app(tmp_path, server=dead_url(), keys={"files": "f11", "mixpeek_knowledge": "alt+j"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
        mix = {title: key for title, key, _cb in MixCommands(app.screen, None)._commands()}
        assert mix["Files: this session's files (upload, preview, save, delete)"] == "F11"
        assert mix["Tools: tool status and MCP servers"] == "F9"
        assert sum(t.startswith("Files:") for t in mix) == 1  # once, from the table
        integration = IntegrationCommands(app.screen, None)
        entries = {title: key for title, key, _cb in integration._commands()}
        assert next(k for t, k in entries.items() if t.startswith("Knowledge (Mixpeek)")) == "Alt+J"
        assert entries["MixerLead: choose the model"].startswith("Alt+M")  # not configured: says so too
        assert not any(t.startswith("Remove the attached") for t in entries)  # nothing attached yet
        app.chat.attached.add("context", "notes.md")
        entries = {title: key for title, key, _cb in integration._commands()}
        assert entries["Remove the attached context"] == "Ctrl+R"
