"""Uploading a local file: create the upload, PUT the bytes to the presigned storage URL, confirm.

As the API behaves in the field: a presigned URL that expired before the PUT (S3 answers 403
"Request has expired") can never work again, so a new upload is created and the bytes sent there
once more; and a confirm may answer asynchronously (PROCESSING with the task that creates the object,
as it does for large files), in which case that task is waited for before the object exists and can
be batched.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from tui.api.errors import ApiError, ProtocolError
from tui.api.mixpeek import schema
from tui.api.mixpeek.errors import PresignedUrlExpired
from tui.api.mixpeek.models import Task, Upload, UploadConfirmation
from tui.api.mixpeek.transport import _seg, maybe_await

BytesCallback = Callable[[int, int], Any]  # (bytes sent, total bytes)
TaskCallback = Callable[[Task], Any]


class ConfirmFailed(ApiError):
    """An asynchronous confirm's own task ended without creating the object."""

    action = "retry"


def _is_async(conf: UploadConfirmation) -> bool:
    return conf.status not in ("COMPLETED", "") and bool(conf.task_id)


@dataclass
class UploadedFile:
    """The result of the three-step upload: the upload, S3's ETag, and the confirmation."""

    upload: Upload
    etag: str
    confirmation: UploadConfirmation | None  # None when the server said the file is a known duplicate
    created_object_id: str = ""  # known only once an asynchronous confirm's own task finished

    @property
    def object_id(self) -> str:
        if self.created_object_id:
            return self.created_object_id
        if self.confirmation and self.confirmation.object_id:
            return self.confirmation.object_id
        return self.upload.object_id or self.upload.existing_object_id

    @property
    def processing_task_id(self) -> str:
        """The task that processes the object, when the confirm already submitted a batch (auto_submit_batch)."""
        conf = self.confirmation
        return conf.task_id if conf is not None and conf.batch_id and not _is_async(conf) else ""


def guess_content_type(filename: str) -> str:
    kind, _ = mimetypes.guess_type(filename)
    if kind:
        return kind
    if Path(filename).suffix.lower() in (".md", ".markdown", ".rst", ".txt", ".log", ".csv"):
        return "text/plain"
    return "application/octet-stream"


def blob_type_for(content_type: str) -> str:
    """The bucket-schema type a file of this content type belongs in."""
    main, _, sub = content_type.partition("/")
    if sub == "pdf":
        return "pdf"
    if main in ("image", "audio", "video"):
        return main
    if "spreadsheet" in sub or "excel" in sub:
        return "excel"
    return "text"


class UploadsMixin:
    """Upload endpoints of MixpeekClient (needs the transport's `_call`/`_send` and `wait_for_task`)."""

    _call: Callable[..., Awaitable[Any]]
    _send: Callable[..., Awaitable[Any]]
    _storage_http: Any
    wait_for_task: Callable[..., Awaitable[Task]]

    async def create_upload(
        self,
        bucket: str,
        *,
        filename: str,
        content_type: str,
        file_size_bytes: int | None = None,
        blob_property: str | None = None,
        blob_type: str | None = None,
        file_hash: str | None = None,
        metadata: dict[str, Any] | None = None,
        object_metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> Upload:
        body = schema.body(
            "uploads.create",
            filename=filename,
            content_type=content_type,
            file_size_bytes=file_size_bytes,
            blob_property=blob_property,
            blob_type=blob_type,
            file_hash=file_hash,
            metadata=metadata,
            object_metadata=object_metadata,
        )
        data = await self._call("POST", f"/v1/buckets/{_seg(bucket)}/uploads", scoped=True, namespace=namespace, json_body=body)
        return Upload.from_wire(data)

    async def put_to_presigned_url(
        self,
        presigned_url: str,
        data: bytes | Path,
        *,
        content_type: str,
        on_bytes: BytesCallback | None = None,
        chunk_size: int = 256 * 1024,
    ) -> str:
        """PUT the bytes to storage with exactly `content_type` and no Mixpeek credentials; returns the ETag."""
        total = data.stat().st_size if isinstance(data, Path) else len(data)

        def content() -> AsyncIterator[bytes]:
            async def chunks() -> AsyncIterator[bytes]:
                sent = 0
                if isinstance(data, Path):
                    with data.open("rb") as fh:
                        while block := fh.read(chunk_size):
                            sent += len(block)
                            yield block
                            if on_bytes is not None:
                                await maybe_await(on_bytes(sent, total))
                else:
                    for start in range(0, total, chunk_size):
                        block = data[start : start + chunk_size]
                        sent += len(block)
                        yield block
                        if on_bytes is not None:
                            await maybe_await(on_bytes(sent, total))

            return chunks()

        # An explicit Content-Length keeps httpx from chunking the body, which presigned PUTs refuse.
        headers = {"Content-Type": content_type, "Content-Length": str(total)}
        response = await self._send(self._storage_http, "PUT", presigned_url, headers=headers, content=content, storage=True)
        etag = response.headers.get("etag", "")
        if not etag:
            raise ProtocolError("The file storage accepted the upload but sent no ETag to confirm it with.")
        return etag

    async def confirm_upload(
        self,
        bucket: str,
        upload_id: str,
        *,
        etag: str | None = None,
        file_size_bytes: int | None = None,
        namespace: str | None = None,
    ) -> UploadConfirmation:
        body = schema.body("uploads.confirm", etag=etag, file_size_bytes=file_size_bytes)
        data = await self._call(
            "POST", f"/v1/buckets/{_seg(bucket)}/uploads/{_seg(upload_id)}/confirm", scoped=True, namespace=namespace, json_body=body
        )
        return UploadConfirmation.from_wire(data)

    async def get_upload(self, bucket: str, upload_id: str, *, namespace: str | None = None) -> Upload:
        data = await self._call("GET", f"/v1/buckets/{_seg(bucket)}/uploads/{_seg(upload_id)}", scoped=True, namespace=namespace)
        return Upload.from_wire(data)

    async def upload_file(
        self,
        bucket: str,
        path: str | os.PathLike[str],
        *,
        content_type: str | None = None,
        blob_property: str | None = None,
        blob_type: str | None = None,
        on_bytes: BytesCallback | None = None,
        on_confirm_task: TaskCallback | None = None,
        confirm_timeout: float | None = 1800.0,
        namespace: str | None = None,
    ) -> UploadedFile:
        """Create the upload, PUT the bytes to the presigned URL, and confirm with the ETag. An expired
        URL gets a new upload (once); an asynchronous confirm is followed to the object it creates."""
        file_path = Path(path)
        size = file_path.stat().st_size
        content_type = content_type or guess_content_type(file_path.name)
        for attempt in (1, 2):
            upload = await self.create_upload(
                bucket, filename=file_path.name, content_type=content_type, file_size_bytes=size,
                blob_property=blob_property, blob_type=blob_type, namespace=namespace,
            )
            if upload.is_duplicate or not upload.presigned_url:
                return UploadedFile(upload=upload, etag="", confirmation=None)
            try:
                etag = await self.put_to_presigned_url(upload.presigned_url, file_path, content_type=content_type,
                                                       on_bytes=on_bytes)
                break
            except PresignedUrlExpired:
                if attempt == 2:
                    raise
        confirmation = await self.confirm_upload(bucket, upload.upload_id, etag=etag.strip('"'), file_size_bytes=size,
                                                 namespace=namespace)
        uploaded = UploadedFile(upload=upload, etag=etag, confirmation=confirmation)
        if _is_async(confirmation) and not confirmation.batch_id:
            uploaded.created_object_id = await self._object_of_async_confirm(
                bucket, upload.upload_id, confirmation, on_confirm_task, confirm_timeout, namespace)
        return uploaded

    async def _object_of_async_confirm(self, bucket: str, upload_id: str, conf: UploadConfirmation,
                                       on_task: TaskCallback | None, timeout: float | None, namespace: str | None) -> str:
        task = await self.wait_for_task(conf.task_id, on_update=on_task, timeout=timeout, namespace=namespace)
        if not task.succeeded:
            raise ConfirmFailed(f"Mixpeek could not finish the upload ({task.status}): {task.failure_reason}")
        outputs = task.outputs if isinstance(task.outputs, dict) else {}
        object_id = str(outputs.get("object_id") or "") or conf.object_id
        if not object_id:
            object_id = (await self.get_upload(bucket, upload_id, namespace=namespace)).object_id
        if not object_id:
            raise ConfirmFailed("Mixpeek finished the upload but created no object")
        return object_id
