"""The Knowledge screen driven with Pilot against the fake Mixpeek over loopback HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
from textual.widgets import Input, ProgressBar, Select

from tests.fakes.mixpeek_server import FakeMixpeek, running_fake_mixpeek
from tests.ui.mixpeek.host import KnowledgeHost, fake_client
from tui.screens.knowledge_mixpeek import AttachContext, KnowledgeScreen
from tui.widgets.mixpeek_objects import ObjectTable
from tui.widgets.mixpeek_results import ResultList
from tui.widgets.mixpeek_tree import KnowledgeTree
from tui.widgets.mixpeek_uploads import UploadList

SIZE = (120, 36)


@pytest.fixture
def fake() -> Iterator[FakeMixpeek]:
    with running_fake_mixpeek() as server:
        yield server


async def settle(pilot, app, timeout: float = 10.0) -> None:
    """Wait until every worker has finished (network calls are real, so this is not instant)."""
    deadline = asyncio.get_running_loop().time() + timeout
    await pilot.pause()
    while any(w.is_running for w in app.workers):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"workers still running: {[w.name for w in app.workers if w.is_running]}")
        await pilot.pause(0.01)
    await pilot.pause()


def bucket_id(fake: FakeMixpeek, name: str) -> str:
    return next(b["bucket_id"] for b in fake.buckets.values() if b["bucket_name"] == name)


async def open_bucket(pilot, app, fake: FakeMixpeek, name: str = "docs") -> KnowledgeScreen:
    screen = app.knowledge
    tree = screen.query_one(KnowledgeTree)
    tree.select_node(tree.bucket_node(bucket_id(fake, name)))
    await settle(pilot, app)
    return screen


async def test_browse_namespaces_buckets_and_objects(fake):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        tree = screen.query_one(KnowledgeTree)
        names = [n.data.namespace.namespace_name for n in tree.root.children]
        assert names == ["research", "personal"]
        research = tree.namespace_node("research")
        assert research.is_expanded
        assert [c.data.bucket.bucket_name for c in research.children] == ["docs", "images"]
        assert screen.query_one("#mp-title").content.endswith("research")
        retriever_select = screen.query_one("#mp-retriever", Select)
        assert retriever_select.value == screen.retrievers[0].retriever_id
        assert [r.retriever_name for r in screen.retrievers] == ["semantic-search", "keyword-search"]

        # Choose the bucket with the keyboard: down from "research" is "docs".
        tree.focus()
        tree.move_cursor(research)
        await pilot.press("down", "enter")
        await settle(pilot, app)
        table = screen.query_one(ObjectTable)
        assert [o.label for o in table.objects] == ["solar.md", "tides.md", "wind.md"]
        assert {o.status for o in table.objects} == {"COMPLETED"}
        assert table.row_count == 3
        assert "docs · 3 objects" in str(screen.query_one("#mp-bucket-title").content)
        listed = [r for r in fake.requests if r.path.endswith("/objects/list")]
        assert listed and listed[-1].headers["x-namespace"] == research.data.namespace.namespace_id

        # A namespace with no buckets says so, rather than showing nothing.
        personal = tree.namespace_node("personal")
        personal.expand()
        await settle(pilot, app)
        assert [str(c.label) for c in personal.children] == ["no buckets yet"]


async def test_unresolved_namespace_is_reported_not_shown_as_empty(fake):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        tree = screen.query_one(KnowledgeTree)
        personal = tree.namespace_node("personal")
        # The namespace disappears on the server after it was listed: its bucket listing comes back
        # empty with an `unresolved` warning.
        del fake.namespaces[personal.data.namespace.namespace_id]
        personal.expand()
        await settle(pilot, app)
        label = str(personal.children[0].label)
        assert "could not resolve namespace 'personal'" in label and "does not mean it is empty" in label
        assert "could not resolve" in screen.status_text


async def test_multi_file_upload_to_completed_and_failed(fake, tmp_path: Path):
    good1 = tmp_path / "geothermal.txt"
    good1.write_text("Geothermal energy taps the heat of the earth.")
    good2 = tmp_path / "hydro notes.md"
    good2.write_text("Hydro power uses dams and falling water.")
    bad = tmp_path / "scan-fail.txt"
    bad.write_text("%%%")
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = await open_bucket(pilot, app, fake)
        await pilot.press("ctrl+o")
        box = screen.query_one("#mp-upload-input", Input)
        assert box.display and box.has_focus
        box.value = f"{good1} '{good2}' {bad}"
        await pilot.press("enter")
        await settle(pilot, app)
        rows = screen.query_one(UploadList).rows
        assert [r.path.name for r in rows] == ["geothermal.txt", "hydro notes.md", "scan-fail.txt"]
        assert [r.stage for r in rows] == ["completed", "completed", "failed"]
        assert all(r.query_one(ProgressBar).percentage == 1.0 for r in rows)
        assert rows[0].state_text == "✓ COMPLETED"
        assert rows[2].state_text.startswith("✗ FAILED: Feature extraction failed for scan-fail.txt")
        assert rows[2].has_class("-failed") and rows[0].has_class("-completed")
        assert "2 of 3 files processed" in screen.status_text and "scan-fail.txt" in screen.status_text
        # The objects table was reloaded and shows the new statuses.
        statuses = {o.label: o.status for o in screen.query_one(ObjectTable).objects}
        assert statuses["geothermal.txt"] == "COMPLETED" and statuses["hydro notes.md"] == "COMPLETED"
        assert statuses["scan-fail.txt"] == "FAILED"
        # Each file went through upload, PUT (content type kept, no key), confirm, batch, submit, task.
        puts = [r for r in fake.requests if r.path.startswith("/_storage/")]
        assert len(puts) == 3 and all("authorization" not in r.headers for r in puts)
        assert {r.headers["content-type"] for r in puts} == {"text/plain", "text/markdown"}
        for suffix in ("/uploads", "/confirm", "/batches", "/submit"):
            assert len([r for r in fake.requests if r.path.endswith(suffix)]) == 3
        assert any(r.path.startswith("/v1/tasks/") for r in fake.requests)


async def test_upload_needs_a_bucket_and_reports_missing_files(fake, tmp_path: Path):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        await pilot.press("ctrl+o")
        assert "Choose a bucket" in screen.status_text
        screen = await open_bucket(pilot, app, fake)
        await pilot.press("ctrl+o")
        box = screen.query_one("#mp-upload-input", Input)
        box.value = "'unclosed"
        await pilot.press("enter")
        assert "Could not read the file list" in screen.status_text and box.value == "'unclosed"  # nothing lost
        box.value = str(tmp_path / "nope.txt")
        await pilot.press("enter")
        await settle(pilot, app)
        row = screen.query_one(UploadList).rows[0]
        assert row.stage == "failed" and "not a readable file" in row.state_text


async def test_search_and_attach_a_result(fake):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        await pilot.press("ctrl+f")
        query = screen.query_one("#mp-query", Input)
        assert query.has_focus
        await pilot.press(*"turbines")
        await pilot.press("enter")
        await settle(pilot, app)
        results = screen.query_one(ResultList)
        assert results.has_focus and len(results.results) == 2
        assert [r.source for r in results.results] == ["tides.md", "wind.md"] or [r.source for r in results.results] == ["wind.md", "tides.md"]
        assert all(r.score is not None for r in results.results)
        first_prompt = str(results.get_option_at_index(0).prompt)
        assert f"{results.results[0].score:.3f}" in first_prompt and results.results[0].source in first_prompt
        assert "turbines" in first_prompt.lower()  # the snippet
        assert "2 results" in screen.status_text

        await pilot.press("down", "a")
        await pilot.pause()
        chosen = results.results[1]
        assert len(app.attached) == 1 and len(app.callback_calls) == 1
        attached = app.attached[0]
        assert attached is app.callback_calls[0]
        assert isinstance(attached, AttachContext)
        assert attached.text == chosen.text and attached.source == f"{chosen.source} ({chosen.document_id})"
        assert attached.document_id == chosen.document_id and attached.score == chosen.score
        assert attached.retriever == "semantic-search" and attached.namespace == "research"
        assert attached.as_context().startswith(f"[context from {attached.source}]\n{chosen.text}")
        assert f"Attached {chosen.source}" in screen.status_text

        await pilot.press("enter")  # enter attaches too
        await pilot.pause()
        assert len(app.attached) == 2 and app.attached[1].document_id == chosen.document_id


async def test_search_edge_cases(fake):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        before = len(fake.requests)
        await pilot.press("ctrl+f", "enter")
        assert screen.status_text == "Type what to search for." and len(fake.requests) == before
        screen.query_one("#mp-query", Input).value = "zzzz qqqq"
        await pilot.press("enter")
        await settle(pilot, app)
        assert screen.status_text == "No matches for “zzzz qqqq”."
        assert screen.query_one(ResultList).option_count == 0


async def test_429_is_retried_and_the_wait_shown():
    with running_fake_mixpeek(rate_limit_first=2, retry_after="2") as fake:
        client = fake_client(fake)
        app = KnowledgeHost(client)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.knowledge
            assert [n.attempt for n in screen.retry_notices] == [1, 2]
            shown = [s for s in screen.status_log if "Retrying in" in s]
            assert len(shown) == 2 and "rate limiting" in shown[0] and "retry 1" in shown[0]
            assert all(2.0 <= w <= 2.5 for w in client.sleeper.waits[:2])
            # and then it worked
            assert [n.data.namespace.namespace_name for n in screen.query_one(KnowledgeTree).root.children] == ["research", "personal"]
            assert [r.status for r in fake.requests[:3]] == [429, 429, 200]


async def test_422_is_shown_and_not_retried():
    with running_fake_mixpeek(strict_retriever=True) as fake:
        app = KnowledgeHost(fake_client(fake))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = app.knowledge
            strict = next(r for r in screen.retrievers if r.retriever_name == "filtered-search")
            screen.query_one("#mp-retriever", Select).value = strict.retriever_id
            screen.query_one("#mp-query", Input).focus()
            screen.query_one("#mp-query", Input).value = "solar"
            await pilot.press("enter")
            await settle(pilot, app)
            assert screen.status_text == "Mixpeek rejected the request: body.inputs.category: Field required."
            status = screen.query_one("#mp-status")
            assert status.has_class("-error")
            executes = [r for r in fake.requests if r.path.endswith("/execute")]
            assert len(executes) == 1 and executes[0].status == 422
            assert screen.query_one(ResultList).option_count == 0


async def test_bad_key_is_explained(fake):
    from tui.api.mixpeek import MixpeekClient

    app = KnowledgeHost(MixpeekClient("sk_test_wrong_but_long", base_url=fake.base_url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        assert "did not accept the API key" in screen.status_text and "MIXPEEK_API_KEY" in screen.status_text
        assert "sk_test_wrong_but_long" not in screen.status_text
        assert len(fake.requests) == 1


async def test_without_a_client_or_key_it_says_how_to_set_one(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("MIX_TUI_HOME", str(tmp_path))
    monkeypatch.delenv("MIXPEEK_API_KEY", raising=False)
    monkeypatch.delenv("MIX_TUI_CONFIG_DIR", raising=False)
    app = KnowledgeHost(None)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "No Mixpeek API key" in app.knowledge.status_text


async def test_escape_goes_back(fake):
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, KnowledgeScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, KnowledgeScreen)


def test_snapshot_of_the_knowledge_screen(snap_compare):
    with running_fake_mixpeek() as fake:

        async def browse(pilot) -> None:
            await settle(pilot, pilot.app)
            await open_bucket(pilot, pilot.app, fake)
            screen = pilot.app.knowledge
            screen.query_one("#mp-query", Input).value = "electricity"
            screen.query_one("#mp-query", Input).focus()
            await pilot.press("enter")
            await settle(pilot, pilot.app)

        assert snap_compare(KnowledgeHost(fake_client(fake)), terminal_size=SIZE, run_before=browse)


async def test_builds_its_own_client_from_the_app_settings_and_closes_it(fake, monkeypatch, tmp_path: Path):
    from tui.config import Config, MixpeekConfig, resolve_paths

    monkeypatch.setenv("MIXPEEK_API_KEY", fake.api_key)
    app = KnowledgeHost(None)  # type: ignore[arg-type]
    app.config = Config(mixpeek=MixpeekConfig(base_url=fake.base_url, namespace="personal"))  # type: ignore[attr-defined]
    app.paths = resolve_paths(tmp_path, env={})  # type: ignore[attr-defined]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        assert screen.client is not None and screen.client.namespace == screen.namespace.namespace_id
        assert screen.namespace.namespace_name == "personal"  # the configured namespace is opened first
        assert fake.requests[0].headers["authorization"] == f"Bearer {fake.api_key}"
        client = screen.client
        await pilot.press("escape")
        await pilot.pause()
        assert client.is_closed


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


async def test_more_results_page_by_cursor(fake, monkeypatch):
    import tui.screens.knowledge_mixpeek as knowledge

    monkeypatch.setattr(knowledge, "SEARCH_PAGE", 1)
    app = KnowledgeHost(fake_client(fake))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.knowledge
        screen.query_one("#mp-query", Input).value = "electricity energy"
        screen.query_one("#mp-query", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        results = screen.query_one(ResultList)
        assert len(results.results) == 1 and "n shows more" in screen.status_text
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        assert [r.rank for r in results.results] == [1, 2, 3]
        assert len({r.document_id for r in results.results}) == 3
        assert results.highlighted == 2
        cursors = [r.body["pagination"]["cursor"] for r in fake.requests if r.path.endswith("/execute")]
        assert cursors[0] is None and all(cursors[1:])
        await pilot.press("n")
        await settle(pilot, app)
        assert screen.status_text == "There are no more results for this search."


async def test_escape_cancels_a_rate_limit_wait_without_leaving():
    from tui.api.mixpeek import MixpeekClient, RetryPolicy

    with running_fake_mixpeek(rate_limit_first=1000, retry_after="5") as fake:
        client = MixpeekClient(fake.api_key, base_url=fake.base_url, retry=RetryPolicy())  # real sleeps
        app = KnowledgeHost(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.knowledge
            await wait_for(pilot, lambda: screen.retry_notices)
            assert "esc cancels" in screen.status_text
            await pilot.press("escape")
            await settle(pilot, app, timeout=2)
            assert screen.status_text == "Cancelled." and app.screen is screen
            calls = len(fake.requests)
            await pilot.pause(0.1)
            assert len(fake.requests) == calls == 1
        await client.aclose()


async def test_escape_with_uploads_running_asks_first(tmp_path: Path):
    with running_fake_mixpeek(polls_per_status=100000) as fake:
        client = fake_client(fake)
        client.retry.sleep = asyncio.sleep  # poll at a real, calm pace: the task never finishes here
        client.poll_initial = client.poll_max = 0.2
        app = KnowledgeHost(client)
        path = tmp_path / "slow.txt"
        path.write_text("slow to process")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            screen = await open_bucket(pilot, app, fake)
            rows = screen.upload_files([path])
            await wait_for(pilot, lambda: rows[0].stage == "processing")
            screen.query_one(ResultList).focus()
            await pilot.press("escape")
            assert app.screen is screen and "1 upload is still running" in screen.status_text
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, KnowledgeScreen)
            assert not any(w.is_running for w in app.workers if w.node is screen)
