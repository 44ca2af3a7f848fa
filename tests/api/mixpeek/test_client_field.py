"""Mixpeek as the docs say it behaves beyond the happy path, against the fake's stricter options:
an asynchronous confirm, a cut-off listing page, a partly failed batch, an expired presigned URL,
and a refused key answered with 403."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.fakes.mixpeek_server import running_fake_mixpeek
from tui.api.errors import AuthRequired, PlanLimit
from tui.api.mixpeek import MixpeekAuthError, MixpeekForbidden, ingest_file
from tui.api.mixpeek.errors import PresignedUrlExpired
from tui.api.mixpeek.paging import INCOMPLETE


def paths_of(fake, fragment: str) -> list[str]:
    return [r.path for r in fake.requests if fragment in r.path]


async def test_an_asynchronous_confirm_is_followed_to_its_object_then_batched(make_client, tmp_path: Path):
    with running_fake_mixpeek(async_confirm=True) as fake:
        client = make_client(fake)
        path = tmp_path / "geo.md"
        path.write_text("Geothermal plants use heat from below the ground.")
        seen = []
        final = await ingest_file(client, await client.get_bucket("docs"), path, on_progress=seen.append)
        assert final.stage == "completed", final.message
        obj = fake.objects[final.object_id]
        assert obj["status"] == "COMPLETED"  # batched and processed, not left a DRAFT
        assert any(b["object_ids"] == [final.object_id] for b in fake.batches.values())
        confirm_task = next(t for t in fake.tasks.values() if t["task_type"] == "upload_confirm")
        assert confirm_task["status"] == "COMPLETED"
        assert any("creating the object" in p.message for p in seen)
        # the confirm's own task was waited for before the batch was asked for
        order = [r.path for r in fake.requests]
        last_confirm_poll = max(i for i, p in enumerate(order) if p == f"/v1/tasks/{confirm_task['task_id']}")
        assert last_confirm_poll < next(i for i, p in enumerate(order) if p.endswith("/batches"))
        results = await client.search((await client.list_retrievers()).items[0], "geothermal heat")
        assert any("Geothermal" in d.text for d in results.documents)


async def test_a_malformed_page_is_retried_like_a_503(make_client):
    with running_fake_mixpeek(seed_objects=5, malformed_pages=1) as fake:
        client = make_client(fake)
        page = await client.collect(partial(client.list_objects, "docs"), page_size=2)
        assert len(page.items) == 5 and not page.warnings
        assert len(client.sleeper.waits) == 1  # one wait, then the page came whole
        assert fake._malformed_sent == 1


async def test_collect_keeps_the_pages_it_has_when_a_later_one_never_comes(make_client):
    with running_fake_mixpeek(seed_objects=5, malformed_pages=1000) as fake:
        client = make_client(fake)
        page = await client.collect(partial(client.list_objects, "docs"), page_size=2)
        assert [o.metadata["filename"] for o in page.items] == ["solar.md", "tides.md"]
        assert page.warnings[-1].reason == INCOMPLETE and "first 2 items" in page.warnings[-1].message
        assert page.next_cursor  # where to go on from
        # a write is never sent twice because of a bad answer; reads retried up to the policy's limit
        assert len(client.sleeper.waits) == client.retry.max_attempts - 1


async def test_a_partly_failed_batch_is_reported_with_its_reasons(client, tmp_path: Path):
    path = tmp_path / "scan-partial.md"
    path.write_text("A scanned report with an unreadable third page.")
    final = await ingest_file(client, await client.get_bucket("docs"), path)
    assert final.failed and final.status == "COMPLETED_WITH_ERRORS"
    assert final.message == "processed with errors: scan-partial.md: page 3 could not be read (OCR timed out)"


async def test_an_expired_presigned_url_gets_a_new_upload(make_client, tmp_path: Path):
    path = tmp_path / "late.md"
    path.write_text("Sent after the link expired.")
    with running_fake_mixpeek(expire_urls=1) as fake:
        client = make_client(fake)
        final = await ingest_file(client, await client.get_bucket("docs"), path)
        assert final.stage == "completed", final.message
        assert len([r for r in fake.requests if r.path.endswith("/uploads") and r.method == "POST"]) == 2
        first, second = list(fake.uploads.values())
        assert first["status"] == "PENDING" and second["status"] == "COMPLETED"
    with running_fake_mixpeek(expire_urls=4) as fake:  # every link it gets has expired
        client = make_client(fake)
        with pytest.raises(PresignedUrlExpired) as info:
            await client.upload_file("docs", path)
        assert "expired" in info.value.message and "try again" not in info.value.message
        final = await ingest_file(client, await client.get_bucket("docs"), path)
        assert final.failed and "expired" in final.message


async def test_a_refused_key_is_an_auth_error_even_with_403(make_client):
    with running_fake_mixpeek(bad_key_status=403) as fake:
        client = make_client(fake, api_key="sk_test_not_a_real_key")
        with pytest.raises(MixpeekAuthError) as info:
            await client.list_namespaces()
        assert info.value.status == 403 and isinstance(info.value, AuthRequired) and not isinstance(info.value, PlanLimit)
        assert "did not accept the API key" in info.value.message and "plan" not in info.value.message
        scoped = make_client(fake, api_key=fake.options.forbidden_key)
        with pytest.raises(MixpeekForbidden) as forbidden:  # a key that may not do this: scope or plan
            await scoped.list_namespaces()
        assert isinstance(forbidden.value, PlanLimit) and "not allowed" in forbidden.value.message
