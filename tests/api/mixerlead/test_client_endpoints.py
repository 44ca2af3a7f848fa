"""Every MixerLead endpoint the client uses, against the loopback fake."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.fakes.mixerlead_server import FakeMixerLead
from tui.api.errors import NotFound, ServerError
from tui.api.mixerlead import IndexingTimedOut, MissingApiKey, MixerLeadClient


async def test_models_list_marks_paid_models_and_sends_bearer_key(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    models = await client.list_models()
    assert [m.id for m in models] == ["ml-auto", "ml-fast", "ml-pro"]
    assert models[0].is_auto and models[0].label == "Auto"
    assert [m.requires_paid for m in models] == [False, False, True]
    request = fake.calls("/api/ai/models")[0]
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert "x-project-id" not in request.headers


async def test_project_id_is_sent_on_every_call(fake: FakeMixerLead, make_client) -> None:
    client = make_client(fake, project_id="proj_42")
    await client.list_models()
    await client.list_knowledge()
    await client.list_skills()
    assert {r.headers.get("x-project-id") for r in fake.requests} == {"proj_42"}


async def test_base_url_with_api_suffix_is_accepted(fake: FakeMixerLead, make_client) -> None:
    client = MixerLeadClient(fake.api_key, base_url=fake.base_url + "/api/")
    try:
        assert len(await client.list_models()) == 3
    finally:
        await client.aclose()


def test_missing_key_is_refused_with_a_clear_message() -> None:
    with pytest.raises(MissingApiKey, match="MIXERLEAD_API_KEY"):
        MixerLeadClient("  ")


def test_repr_masks_the_key() -> None:
    client = MixerLeadClient("ml_live_supersecretvalue1234")
    assert "supersecret" not in repr(client) and "1234" in repr(client)


async def test_add_url_then_list_shows_indexing_then_indexed(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    fake.options.polls_to_index = 2
    added = await client.add_knowledge_url("https://example.com/pricing", name="Pricing")
    assert added.id.startswith("kb_") and added.status == "indexing"
    assert fake.calls("/api/knowledge", "POST")[0].body == {"url": "https://example.com/pricing", "name": "Pricing"}
    first = await client.list_knowledge()
    assert [(s.id, s.status, s.enabled) for s in first] == [(added.id, "indexing", True)]
    assert fake.sources[added.id]["enabled"] == 1  # the wire really carries an integer
    second = (await client.list_knowledge())[0]
    assert second.status == "indexed" and second.is_indexed and second.chunk_count and second.chunk_count >= 1
    assert isinstance(second.indexed_at, datetime) and second.indexed_at.tzinfo is not None
    assert second.type == "url" and second.source == "https://example.com/pricing" and second.last_error is None


async def test_add_text(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    added = await client.add_knowledge_text("Our refund policy is 30 days.", name="Refunds")
    assert fake.calls("/api/knowledge", "POST")[0].body == {"text": "Our refund policy is 30 days.", "name": "Refunds"}
    source = await client.wait_indexed(added.id, interval=0.001)
    assert source.is_indexed and source.type == "text"


async def test_file_upload_is_multipart_and_reports_progress(client: MixerLeadClient, fake: FakeMixerLead, tmp_path: Path) -> None:
    path = tmp_path / "brand guide ü.md"
    data = ("# Brand\n" + "tone: friendly\n" * 5000).encode()
    path.write_bytes(data)
    progress: list[tuple[int, int]] = []
    added = await client.upload_knowledge_file(path, name="Guide", on_progress=lambda sent, total: progress.append((sent, total)),
                                               chunk_size=16 * 1024)
    assert added.status == "indexing"
    upload = fake.uploads[0]
    assert upload["data"] == data and upload["name"] == "Guide" and upload["filename"] == "brand guide ü.md"
    assert upload["content_type"] == "text/markdown"
    assert progress[0] == (0, len(data)) and progress[-1] == (len(data), len(data))
    assert len(progress) >= 4 and all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))


async def test_upload_of_a_missing_file_says_so(client: MixerLeadClient, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Cannot read"):
        await client.upload_knowledge_file(tmp_path / "nope.pdf")


async def test_crawl_returns_a_crawl_id_not_a_source_id(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    started = await client.crawl("https://example.com", max_pages=12)
    assert started.crawl_id.startswith("crawl_") and started.status == "indexing" and started.max_pages == 12
    assert fake.calls("/api/knowledge/crawl")[0].body == {"seedUrl": "https://example.com", "maxPages": 12}
    assert len(await client.list_knowledge()) == 3


@pytest.mark.parametrize("answer", ["ok", "source", "empty"])
async def test_enable_disable_with_any_undocumented_answer(answer: str, client: MixerLeadClient, fake: FakeMixerLead) -> None:
    fake.options.patch_answer = answer
    added = await client.add_knowledge_url("https://example.com/a")
    result = await client.set_knowledge_enabled(added.id, False)
    assert fake.calls(f"/api/knowledge/{added.id}", "PATCH")[0].body == {"enabled": False}
    assert fake.sources[added.id]["enabled"] == 0
    if answer == "source":
        assert result is not None and result.enabled is False
    else:
        assert result is None
    assert (await client.list_knowledge())[0].enabled is False
    await client.set_knowledge_enabled(added.id, True)
    assert (await client.list_knowledge())[0].enabled is True


async def test_reindex_a_failed_source_until_indexed(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    added = await client.add_knowledge_url("https://example.com/fail-page")
    updates = []
    failed = await client.wait_indexed(added.id, interval=0.001, on_update=updates.append)
    assert failed.has_failed and failed.last_error == "Could not fetch the page (HTTP 404)."
    await client.reindex_knowledge(added.id)
    assert fake.calls(f"/api/knowledge/{added.id}/reindex", "POST")
    fixed = await client.wait_indexed(added.id, interval=0.001, on_update=updates.append)
    assert fixed.is_indexed and fixed.last_error is None
    assert [u.status for u in updates] == ["failed", "indexed"]


async def test_wait_indexed_gives_up_with_the_last_state(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    fake.options.polls_to_index = 10_000
    added = await client.add_knowledge_url("https://example.com/slow")
    with pytest.raises(IndexingTimedOut, match="still 'indexing'") as info:
        await client.wait_indexed(added.id, interval=0.001, timeout=0.05)
    assert info.value.last is not None and info.value.last.status == "indexing"


async def test_delete_and_deleting_again_is_not_found(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    added = await client.add_knowledge_text("x")
    await client.delete_knowledge(added.id)
    assert added.id not in fake.sources and await client.list_knowledge() == []
    with pytest.raises(NotFound, match="Knowledge source not found"):
        await client.delete_knowledge(added.id)


async def test_delete_refused_by_method_explains_the_inferred_endpoint(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    fake.options.allow_delete = False
    added = await client.add_knowledge_text("x")
    with pytest.raises(ServerError, match="docs do not say how sources are deleted") as info:
        await client.delete_knowledge(added.id)
    assert info.value.status == 405 and len(fake.calls(f"/api/knowledge/{added.id}", "DELETE")) == 1


async def test_skills_list_and_exec(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    skills = await client.list_skills()
    assert [s.id for s in skills] == ["persona-v1", "headline-v2"]
    assert skills[0].category == "Strategy" and not skills[0].variables_known
    result = await client.run_skill("persona-v1", {"product": "Mixer", "audience": "CMOs"})
    assert fake.calls("/api/skills/exec")[0].body == {"skillId": "persona-v1", "vars": {"product": "Mixer", "audience": "CMOs"}}
    assert result.output.startswith("# Buyer persona") and "- **audience**: CMOs" in result.output


async def test_unknown_skill_is_not_found_verbatim(client: MixerLeadClient) -> None:
    with pytest.raises(NotFound) as info:
        await client.run_skill("nope")
    assert info.value.server_message == "Skill not found."  # type: ignore[attr-defined]
    assert info.value.message.startswith("Skill not found.")
