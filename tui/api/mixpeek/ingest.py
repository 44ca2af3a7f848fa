"""Bring one local file all the way into Mixpeek: upload, confirm, batch, submit, and wait for the task.

The UI runs one `ingest_file` per file (each in its own worker) and draws a progress bar from the
`IngestProgress` updates. Errors do not escape as exceptions: the final update says FAILED and why,
so one bad file never stops the others.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from tui.api.errors import ApiError
from tui.api.mixpeek.client import MixpeekClient, blob_type_for, guess_content_type
from tui.api.mixpeek.models import Bucket, Task

# How far along the bar each step puts a file (0..1).
STAGE_FRACTIONS = {
    "queued": 0.0,
    "uploading": 0.05,  # grows to 0.45 as bytes go out
    "confirming": 0.5,
    "batching": 0.6,
    "submitting": 0.65,
    "PENDING": 0.7,
    "QUEUED": 0.7,
    "PROCESSING": 0.85,
    "IN_PROGRESS": 0.85,
}


@dataclass(frozen=True)
class IngestProgress:
    path: Path
    stage: str  # queued, uploading, confirming, batching, submitting, processing, completed, failed
    fraction: float  # 0..1 for a progress bar
    status: str = ""  # the task's status while processing, and at the end
    message: str = ""  # what to show next to the bar; the failure reason when failed
    object_id: str = ""
    batch_id: str = ""
    task_id: str = ""

    @property
    def done(self) -> bool:
        return self.stage in ("completed", "failed")

    @property
    def failed(self) -> bool:
        return self.stage == "failed"


ProgressCallback = Callable[[IngestProgress], Any]


async def ingest_file(
    client: MixpeekClient,
    bucket: Bucket,
    path: str | Path,
    *,
    on_progress: ProgressCallback | None = None,
    namespace: str | None = None,
    task_timeout: float | None = 1800.0,
) -> IngestProgress:
    """Upload `path` into `bucket` and process it; returns the final progress (completed or failed)."""
    file_path = Path(path)
    state = IngestProgress(path=file_path, stage="queued", fraction=0.0, message="waiting")

    async def tell(**changes: Any) -> None:
        nonlocal state
        state = replace(state, **changes)
        if on_progress is not None:
            result = on_progress(state)
            if inspect.isawaitable(result):
                await result

    try:
        if not file_path.is_file():
            await tell(stage="failed", fraction=1.0, status="FAILED", message=f"{file_path} is not a readable file")
            return state
        size = file_path.stat().st_size
        content_type = guess_content_type(file_path.name)
        target = bucket.blob_property_for(blob_type_for(content_type))
        if target is None:
            await tell(stage="failed", fraction=1.0, status="FAILED", message=f"bucket '{bucket.bucket_name}' has no file property to upload into")
            return state
        blob_property, blob_type = target
        await tell(stage="uploading", fraction=STAGE_FRACTIONS["uploading"], message=f"uploading {_size(size)}")

        async def on_bytes(sent: int, total: int) -> None:
            share = sent / total if total else 1.0
            await tell(fraction=0.05 + 0.4 * share, message=f"uploading {_size(sent)} of {_size(total)}")

        async def on_confirm_task(t: Task) -> None:  # an asynchronous confirm: the object is being created
            await tell(stage="confirming", fraction=STAGE_FRACTIONS["confirming"], status=t.status,
                       message=f"creating the object ({t.status})")

        uploaded = await client.upload_file(
            bucket.bucket_id, file_path, content_type=content_type, blob_property=blob_property, blob_type=blob_type,
            on_bytes=on_bytes, on_confirm_task=on_confirm_task, confirm_timeout=task_timeout, namespace=namespace,
        )
        object_id = uploaded.object_id
        if uploaded.confirmation is None:
            await tell(stage="completed", fraction=1.0, status="COMPLETED", object_id=object_id, message="already uploaded (duplicate)")
            return state
        await tell(stage="confirming", fraction=STAGE_FRACTIONS["confirming"], object_id=object_id, message="confirmed")
        task_id, batch_id = uploaded.processing_task_id, uploaded.confirmation.batch_id
        if not task_id:
            if not object_id:
                await tell(stage="failed", fraction=1.0, status="FAILED", message="Mixpeek confirmed the upload but created no object")
                return state
            await tell(stage="batching", fraction=STAGE_FRACTIONS["batching"], message="creating a batch")
            batch = await client.create_batch(bucket.bucket_id, [object_id], namespace=namespace)
            batch_id = batch.batch_id
            await tell(stage="submitting", fraction=STAGE_FRACTIONS["submitting"], batch_id=batch_id, message="submitting for processing")
            task = await client.submit_batch(bucket.bucket_id, batch_id, namespace=namespace)
            task_id = task.task_id or batch.task_id
        await tell(stage="processing", fraction=STAGE_FRACTIONS["PENDING"], task_id=task_id, batch_id=batch_id, status="PENDING", message="PENDING")

        async def on_task(t: Task) -> None:
            if not t.is_final:
                await tell(status=t.status, fraction=STAGE_FRACTIONS.get(t.status, state.fraction), message=t.status)

        final = await client.wait_for_task(task_id, on_update=on_task, timeout=task_timeout, bucket=bucket.bucket_id, batch_id=batch_id, namespace=namespace)
        if final.status == "COMPLETED":
            await tell(stage="completed", fraction=1.0, status=final.status, message=final.status)
        else:  # FAILED, or COMPLETED_WITH_ERRORS: part of it failed, and the file may not be searchable
            reason = final.error or await _batch_reasons(client, bucket.bucket_id, batch_id, namespace) or final.failure_reason
            prefix = "processed with errors: " if final.status == "COMPLETED_WITH_ERRORS" else ""
            await tell(stage="failed", fraction=1.0, status=final.status, message=prefix + reason)
    except asyncio.CancelledError:
        await tell(stage="failed", fraction=state.fraction, status="CANCELED", message="cancelled")
        raise
    except ApiError as exc:
        await tell(stage="failed", fraction=1.0, status="FAILED", message=exc.message)
    except OSError as exc:
        await tell(stage="failed", fraction=1.0, status="FAILED", message=f"cannot read {file_path.name}: {exc.strerror or exc}")
    return state


async def _batch_reasons(client: MixpeekClient, bucket_id: str, batch_id: str, namespace: str | None) -> str:
    """The batch's own account of what failed (`error`, else the messages in `error_summary`)."""
    if not batch_id:
        return ""
    try:
        batch = await client.get_batch(bucket_id, batch_id, namespace=namespace)
    except ApiError:
        return ""
    if batch.error:
        return batch.error
    summary = batch.error_summary if isinstance(batch.error_summary, dict) else {}
    errors = summary.get("errors") if isinstance(summary.get("errors"), list) else []
    texts = [str(e.get("message") or e.get("error") or "") if isinstance(e, dict) else str(e) for e in errors]
    return "; ".join(t for t in texts if t)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
