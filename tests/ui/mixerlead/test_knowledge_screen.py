"""The MixerLead knowledge screen with Pilot against the fake over loopback HTTP:
list, add (URL, text, file with progress, crawl) until indexed, toggle, re-index, delete."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, ProgressBar, Select, TextArea

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tests.ui.mixerlead.host import Host, fake_client, settle, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.screens.mixerlead_knowledge import MixerLeadKnowledgeScreen
from tui.widgets.mixerlead_sources import AdditionList, SourceTable

SIZE = (130, 34)
NOW = "2026-11-23T20:00:00Z"


def table_rows(screen: MixerLeadKnowledgeScreen) -> list[list[str]]:
    table = screen.query_one(SourceTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def make(fake, **kw):
    client = fake_client(fake)
    return client, Host(lambda: MixerLeadKnowledgeScreen(client, poll_interval=0.02, **kw))


async def test_add_a_url_and_watch_it_until_indexed() -> None:
    with running_fake_mixerlead(polls_to_index=3, fixed_now=NOW) as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            assert screen.status_log[-1].startswith("No knowledge sources yet")
            await pilot.press("a")
            assert app.focused is screen.query_one("#ml-add-input")
            screen.query_one("#ml-add-input", Input).value = "https://example.com/pricing-d"
            await pilot.press("a", "t", "a", "enter")  # typed keys reach the field (the screen's `a` does not steal them)
            await wait_until(pilot, lambda: bool(fake.sources))
            await settle(pilot, app)
            row = screen.query_one(AdditionList).rows[0]
            assert row.states == ["adding", "indexing", "indexed"] and row.text.startswith("✓ indexed · ")
            assert table_rows(screen) == [["● on", "https://example.com/pricing-data", "url", "✓ indexed", "3", "2026-11-23 20:00", ""]]
            assert screen.query_one("#ml-add-input", Input).value == ""  # cleared once accepted
            assert len(fake.calls("/api/knowledge", "GET")) >= 3  # polled while indexing
        await client.aclose()


async def test_add_text_and_a_file_with_upload_progress(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_bytes(b"# Guide\n" + b"be kind\n" * 20000)
    with running_fake_mixerlead() as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            screen.query_one("#ml-add-kind", Select).value = "text"
            await pilot.pause()
            assert screen.query_one("#ml-add-text").display and not screen.query_one("#ml-add-input").display
            screen.query_one("#ml-add-text", TextArea).text = "Refunds within 30 days."
            screen.query_one("#ml-add-name", Input).value = "Refunds"
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            assert fake.calls("/api/knowledge", "POST")[0].body == {"text": "Refunds within 30 days.", "name": "Refunds"}
            assert screen.query_one("#ml-add-text", TextArea).text == ""

            screen.query_one("#ml-add-kind", Select).value = "file"
            await pilot.pause()
            screen.query_one("#ml-add-input", Input).value = str(path)
            screen.query_one("#ml-add-input", Input).focus()
            await pilot.press("enter")
            await settle(pilot, app)
            rows = screen.query_one(AdditionList).rows
            assert [r.state for r in rows] == ["indexed", "indexed"]
            bar = rows[1].query_one(ProgressBar)
            assert bar.progress == bar.total == 1  # finished
            assert fake.uploads[0]["data"] == path.read_bytes()
            assert {r[2] for r in table_rows(screen)} == {"text", "file"}
        await client.aclose()


async def test_bad_input_is_explained_and_kept() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            field = screen.query_one("#ml-add-input", Input)
            field.value = "example.com"
            field.focus()
            await pilot.press("enter")
            assert "must start with http:// or https://" in screen.status_log[-1]
            assert field.value == "example.com" and not fake.calls("/api/knowledge", "POST")
            screen.query_one("#ml-add-kind", Select).value = "file"
            await pilot.pause()
            field.value = "/no/such/file.pdf"
            await pilot.press("enter")
            assert screen.status_log[-1] == "No file at /no/such/file.pdf; nothing was sent."
        await client.aclose()


async def test_413_on_upload_is_shown_plainly(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 5000)
    with running_fake_mixerlead(max_upload_bytes=100) as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            screen.query_one("#ml-add-kind", Select).value = "file"
            await pilot.pause()
            field = screen.query_one("#ml-add-input", Input)
            field.value = str(path)
            field.focus()
            await pilot.press("enter")
            await settle(pilot, app)
            assert "This upload would exceed your storage quota." in screen.status_log[-1]
            assert "What you typed is kept." in screen.status_log[-1] and field.value == str(path)
            assert screen.query_one(AdditionList).rows[0].state == "failed"
        await client.aclose()


async def test_toggle_reindex_and_delete_with_confirmation() -> None:
    with running_fake_mixerlead() as (_url, fake):
        client = fake_client(fake)
        await client.add_knowledge_url("https://example.com/a")
        await client.add_knowledge_url("https://example.com/fail-b")
        app = Host(lambda: MixerLeadKnowledgeScreen(client, poll_interval=0.02))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            assert [r[3] for r in table_rows(screen)] == ["✓ indexed", "✗ failed"]
            assert table_rows(screen)[1][6] == "Could not fetch the page (HTTP 404)."
            table = screen.query_one(SourceTable)
            table.focus()
            await pilot.press("space")
            await settle(pilot, app)
            assert fake.sources["kb_0001"]["enabled"] == 0 and table_rows(screen)[0][0] == "○ off"
            assert screen.status_log[-1].endswith("is now off: it no longer grounds answers.")
            await pilot.press("e")
            await settle(pilot, app)
            assert fake.sources["kb_0001"]["enabled"] == 1 and table_rows(screen)[0][0] == "● on"

            await pilot.press("down", "r")
            await settle(pilot, app)
            assert fake.calls("/api/knowledge/kb_0002/reindex")
            assert table_rows(screen)[1][3] == "✓ indexed"

            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await pilot.pause()
            assert "kb_0002" in fake.sources and screen.status_log[-1] == "Nothing was deleted."
            await pilot.press("delete")
            await pilot.pause()
            await pilot.press("y")
            await settle(pilot, app)
            assert "kb_0002" not in fake.sources and len(table_rows(screen)) == 1
            assert screen.status_log[-1].startswith("Deleted ")
        await client.aclose()


async def test_crawl_pages_appear_as_they_are_indexed() -> None:
    with running_fake_mixerlead(polls_to_index=2) as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            screen.query_one("#ml-add-kind", Select).value = "crawl"
            await pilot.pause()
            field = screen.query_one("#ml-add-input", Input)
            field.value = "https://example.com"
            field.focus()
            await pilot.press("enter")
            await settle(pilot, app)
            assert fake.calls("/api/knowledge/crawl")[0].body == {"seedUrl": "https://example.com", "maxPages": 12}
            assert "its pages appear in the table" in screen.query_one(AdditionList).rows[0].text
            assert [r[3] for r in table_rows(screen)] == ["✓ indexed"] * 3
        await client.aclose()


async def test_rate_limit_countdown_and_errors_are_shown() -> None:
    with running_fake_mixerlead(rate_limit_first=1, retry_after="4") as (_url, fake):
        client, app = make(fake)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.shown
            assert any(line.startswith("⏳ rate limited; retrying in 4 s (attempt 2 of 5)") for line in screen.status_log)
            assert client.sleeper.waits == [4.0]
            fake.options.api_key = "rotated"
            await pilot.press("ctrl+r")
            await settle(pilot, app)
            assert "Invalid or missing API key." in screen.status_log[-1] and "check" in screen.status_log[-1].lower()
            await pilot.press("escape")
            await pilot.pause()
            assert app.results == [None]
            assert client.on_retry is None  # the screen's hook is removed when it goes
        await client.aclose()


def test_snapshot_of_the_knowledge_screen(snap_compare) -> None:
    with running_fake_mixerlead(fixed_now=NOW) as (_url, fake):
        client = fake_client(fake)

        async def populated(pilot) -> None:
            await client.add_knowledge_url("https://example.com/pricing", name="Pricing page")
            await client.add_knowledge_text("About us", name="About")
            await client.add_knowledge_url("https://example.com/fail-404")
            await client.list_knowledge()
            await client.set_knowledge_enabled("kb_0002", False)
            pilot.app.shown.query_one(SourceTable).focus()
            pilot.app.shown.action_reload()
            await settle(pilot, pilot.app)

        app = Host(lambda: MixerLeadKnowledgeScreen(client, poll_interval=0.02))
        assert snap_compare(app, terminal_size=SIZE, run_before=populated)
