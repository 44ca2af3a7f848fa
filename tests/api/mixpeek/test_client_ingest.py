"""Uploads (create -> PUT to the presigned URL -> confirm), batches, tasks and the whole ingest flow."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.fakes.mixpeek_server import running_fake_mixpeek
from tui.api.mixpeek import MixpeekConflict, MixpeekNotFound, TaskStatus, ingest_file
from tui.api.mixpeek.client import TaskTimedOut
from tui.api.mixpeek.errors import UploadStorageError


def storage_puts(fake):
    return [r for r in fake.requests if r.path.startswith("/_storage/")]


async def submit_file(client, path: Path, text: str):
    """Write `text` to `path`, upload it to the "docs" bucket, batch it and submit the batch."""
    path.write_text(text)
    uploaded = await client.upload_file("docs", path)
    batch = await client.create_batch("docs", [uploaded.object_id])
    return batch, await client.submit_batch("docs", batch.batch_id)


async def test_upload_flow_step_by_step(fake, client, tmp_path: Path):
    data = b"Geothermal plants use heat from below the ground.\n"
    upload = await client.create_upload("docs", filename="geo.txt", content_type="text/plain", file_size_bytes=len(data), blob_property="content", blob_type="text")
    assert upload.status == "PENDING" and upload.presigned_url.startswith(fake.base_url)
    progress = []
    etag = await client.put_to_presigned_url(upload.presigned_url, data, content_type="text/plain", on_bytes=lambda s, t: progress.append((s, t)))
    assert etag.strip('"') == hashlib.md5(data).hexdigest()
    assert progress[-1] == (len(data), len(data))
    put = storage_puts(fake)[-1]
    assert put.status == 200
    assert put.headers["content-type"] == "text/plain"
    assert "authorization" not in put.headers  # the Mixpeek key never goes to storage
    assert put.headers["content-length"] == str(len(data))
    confirmed = await client.confirm_upload("docs", upload.upload_id, etag=etag.strip('"'), file_size_bytes=len(data))
    assert confirmed.status == "COMPLETED" and confirmed.object_id.startswith("obj_")
    assert confirmed.file_hash == hashlib.sha256(data).hexdigest()
    confirm_req = [r for r in fake.requests if r.path.endswith("/confirm")][-1]
    assert confirm_req.body == {"etag": hashlib.md5(data).hexdigest(), "file_size_bytes": len(data)}
    assert confirm_req.headers["x-namespace"] == "research"
    again = await client.get_upload("docs", upload.upload_id)
    assert again.status == "COMPLETED" and again.object_id == confirmed.object_id
    with pytest.raises(MixpeekConflict):
        await client.confirm_upload("docs", upload.upload_id, etag=etag)


async def test_put_with_a_different_content_type_is_refused_by_storage(fake, client):
    upload = await client.create_upload("docs", filename="a.txt", content_type="text/plain")
    with pytest.raises(UploadStorageError) as info:
        await client.put_to_presigned_url(upload.presigned_url, b"x", content_type="application/octet-stream")
    assert info.value.status == 403
    assert "X-Amz-Signature" not in info.value.message  # the presigned query string is a credential


async def test_upload_file_creates_a_draft_object(fake, client, tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\nhydro power is steady.\n")
    uploaded = await client.upload_file("docs", path, blob_property="content", blob_type="text")
    assert uploaded.confirmation is not None and uploaded.object_id
    sent = [r for r in fake.requests if r.path.endswith("/uploads")][-1].body
    assert sent == {"filename": "notes.md", "content_type": "text/markdown", "file_size_bytes": path.stat().st_size, "blob_property": "content", "blob_type": "text"}
    objects = {o.object_id: o for o in (await client.list_objects("docs")).items}
    assert objects[uploaded.object_id].status == "DRAFT"
    assert objects[uploaded.object_id].label == "notes.md"


async def test_batch_create_submit_get_and_task_progression(fake, client, tmp_path: Path):
    path = tmp_path / "hydro.txt"
    path.write_text("hydro power uses falling water")
    uploaded = await client.upload_file("docs", path)
    batch = await client.create_batch("docs", [uploaded.object_id])
    assert batch.status == "DRAFT" and batch.batch_id.startswith("btch_") and batch.object_ids == [uploaded.object_id]
    assert [r for r in fake.requests if r.path.endswith("/batches")][-1].body == {"object_ids": [uploaded.object_id]}
    task = await client.submit_batch("docs", batch.batch_id)
    assert task.status == TaskStatus.PENDING and not task.is_final
    assert [r for r in fake.requests if r.path.endswith("/submit")][-1].body == {}
    fetched = await client.get_batch("docs", batch.batch_id)
    assert fetched.task_id == task.task_id and fetched.status == "PENDING"
    seen = []
    final = await client.wait_for_task(task.task_id, on_update=lambda t: seen.append(t.status))
    assert seen == ["PENDING", "PROCESSING", "COMPLETED"]
    assert final.succeeded and final.is_final and final.failure_reason == ""
    task_reqs = [r for r in fake.requests if r.path.startswith("/v1/tasks/")]
    assert all(r.headers["x-namespace"] == "research" for r in task_reqs)
    assert (await client.get_batch("docs", batch.batch_id)).status == "COMPLETED"
    with pytest.raises(MixpeekConflict):
        await client.submit_batch("docs", batch.batch_id)


async def test_failed_task_carries_the_reason(fake, client, tmp_path: Path):
    batch, task = await submit_file(client, tmp_path / "will-fail.txt", "garbage")
    final = await client.wait_for_task(task.task_id)
    assert final.status == "FAILED" and not final.succeeded
    assert "will-fail.txt" in final.failure_reason


async def test_task_poll_backs_off_and_times_out(fake, make_client, tmp_path: Path):
    with running_fake_mixpeek(polls_per_status=50) as slow:
        client = make_client(slow)
        batch, task = await submit_file(client, tmp_path / "slow.txt", "slow")
        client.poll_initial, client.poll_max = 1.0, 30.0
        with pytest.raises(TaskTimedOut) as info:
            await client.wait_for_task(task.task_id, timeout=100)
        assert info.value.last is not None and info.value.last.status == "PENDING"
        assert client.sleeper.waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # doubling, capped at 30 s


async def test_expired_task_falls_back_to_the_batch(make_client, tmp_path: Path):
    with running_fake_mixpeek(expire_tasks=True) as fake:
        client = make_client(fake)
        batch, task = await submit_file(client, tmp_path / "old.txt", "old news about wind")
        with pytest.raises(MixpeekNotFound):
            await client.wait_for_task(task.task_id)  # no batch given: nothing to fall back on
        final = await client.wait_for_task(task.task_id, bucket="docs", batch_id=batch.batch_id)
        assert final.status == "COMPLETED"
        assert any(r.path.endswith(f"/batches/{batch.batch_id}") for r in fake.requests)


async def test_missing_objects_in_a_batch(client):
    with pytest.raises(MixpeekNotFound) as info:
        await client.create_batch("docs", ["obj_nope"])
    assert info.value.details == {"object_ids": ["obj_nope"]}


# ---------------------------------------------------------------- the whole flow


async def test_ingest_file_to_completed_then_searchable(fake, client, tmp_path: Path):
    path = tmp_path / "biomass.txt"
    path.write_text("Biomass energy burns organic matter such as wood.")
    bucket = await client.get_bucket("docs")
    updates = []
    final = await ingest_file(client, bucket, path, on_progress=updates.append)
    assert final.stage == "completed" and final.status == "COMPLETED" and final.fraction == 1.0
    stages = [u.stage for u in updates]
    for stage in ("uploading", "confirming", "batching", "submitting", "processing", "completed"):
        assert stage in stages
    fractions = [u.fraction for u in updates]
    assert fractions == sorted(fractions)  # the bar never goes backwards
    assert "PROCESSING" in [u.status for u in updates]
    retriever = (await client.list_retrievers()).items[0]
    found = await client.search(retriever, "biomass wood")
    assert found.documents[0].source == "biomass.txt"


async def test_ingest_file_to_failed_with_reason(client, tmp_path: Path):
    path = tmp_path / "fail-scan.txt"
    path.write_text("unreadable")
    final = await ingest_file(client, await client.get_bucket("docs"), path)
    assert final.failed and final.status == "FAILED"
    assert "fail-scan.txt" in final.message and "could not be parsed" in final.message


async def test_ingest_reports_errors_instead_of_raising(client, tmp_path: Path):
    bucket = await client.get_bucket("images")  # only an image property
    text = tmp_path / "x.txt"
    text.write_text("x")
    result = await ingest_file(client, bucket, tmp_path / "missing.txt")
    assert result.failed and "not a readable file" in result.message
    result = await ingest_file(client, bucket, text)  # falls back to any file property: the image one
    assert result.stage == "completed"
    bucket.bucket_schema = {"properties": {"title": {"type": "string"}}}
    result = await ingest_file(client, bucket, text)
    assert result.failed and "no file property" in result.message
