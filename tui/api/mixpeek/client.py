"""Async Mixpeek v1 client (httpx): namespaces, buckets, objects, uploads, batches, tasks, retrievers.

Bodies are built from the schema's declared keys only (schema.py). The transport (transport.py)
retries 429/503 per retry.py and turns every other error status into a typed MixpeekError; listings
are in paging.py and the three-step upload in uploads.py. Everything is importable from here.
"""

from __future__ import annotations

from typing import Any

from tui.api.errors import ApiError
from tui.api.mixpeek import schema
from tui.api.mixpeek.errors import MixpeekNotFound
from tui.api.mixpeek.models import (
    Batch,
    BlobInput,
    Bucket,
    BucketObject,
    FeatureExtractorRef,
    Namespace,
    Page,
    Retriever,
    SearchResults,
    Task,
)
from tui.api.mixpeek.paging import PagingMixin
from tui.api.mixpeek.transport import DEFAULT_BASE_URL, MissingApiKey, MixpeekTransport, NamespaceRequired, _seg, maybe_await
from tui.api.mixpeek.uploads import (
    BytesCallback, ConfirmFailed, TaskCallback, UploadedFile, UploadsMixin, blob_type_for, guess_content_type,
)


class TaskTimedOut(ApiError):
    """A task did not reach a final status within the time the caller allowed."""

    action = "retry"

    def __init__(self, message: str, last: Task | None) -> None:
        super().__init__(message)
        self.last = last


class MixpeekClient(UploadsMixin, PagingMixin, MixpeekTransport):
    """One API key, one base URL, and a current namespace (sent as X-Namespace on scoped calls).

    Every method that takes `namespace=` uses it instead of the current one for that call only.
    """

    # ------------------------------------------------------------ namespaces

    async def list_namespaces(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
        search: str | None = None,
    ) -> Page[Namespace]:
        return await self._list(
            "namespaces.list", "/v1/namespaces/list", Namespace.from_wire, scoped=False, namespace=None,
            limit=limit, offset=offset, cursor=cursor, include_total=include_total, search=search,
        )

    async def get_namespace(self, identifier: str) -> Namespace:
        return Namespace.from_wire(await self._call("GET", f"/v1/namespaces/{_seg(identifier)}", scoped=False))

    async def create_namespace(
        self,
        namespace_name: str,
        *,
        feature_extractors: list[FeatureExtractorRef],
        description: str | None = None,
    ) -> Namespace:
        if not feature_extractors:
            raise ValueError("a namespace needs at least one feature extractor")
        body = schema.body(
            "namespaces.create",
            namespace_name=namespace_name,
            description=description,
            feature_extractors=[fx.to_wire() for fx in feature_extractors],
        )
        return Namespace.from_wire(await self._call("POST", "/v1/namespaces", scoped=False, json_body=body))

    # ------------------------------------------------------------ buckets

    async def list_buckets(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
        search: str | None = None,
        namespace: str | None = None,
    ) -> Page[Bucket]:
        return await self._list(
            "buckets.list", "/v1/buckets/list", Bucket.from_wire, scoped=True, namespace=namespace,
            limit=limit, offset=offset, cursor=cursor, include_total=include_total, search=search,
        )

    async def get_bucket(self, bucket: str, *, namespace: str | None = None) -> Bucket:
        return Bucket.from_wire(await self._call("GET", f"/v1/buckets/{_seg(bucket)}", scoped=True, namespace=namespace))

    async def create_bucket(
        self,
        bucket_name: str,
        *,
        bucket_schema: dict[str, Any],
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> Bucket:
        body = schema.body("buckets.create", bucket_name=bucket_name, bucket_schema=bucket_schema, description=description, metadata=metadata)
        return Bucket.from_wire(await self._call("POST", "/v1/buckets", scoped=True, namespace=namespace, json_body=body))

    # ------------------------------------------------------------ objects

    async def list_objects(
        self,
        bucket: str,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
        search: str | None = None,
        namespace: str | None = None,
    ) -> Page[BucketObject]:
        return await self._list(
            "objects.list", f"/v1/buckets/{_seg(bucket)}/objects/list", BucketObject.from_wire, scoped=True, namespace=namespace,
            limit=limit, offset=offset, cursor=cursor, include_total=include_total, search=search,
        )

    async def create_object(
        self,
        bucket: str,
        blobs: list[BlobInput],
        *,
        metadata: dict[str, Any] | None = None,
        key_prefix: str | None = None,
        skip_duplicates: bool | None = None,
        namespace: str | None = None,
    ) -> BucketObject:
        body = schema.body(
            "objects.create",
            blobs=[b.to_wire() for b in blobs],
            metadata=metadata,
            key_prefix=key_prefix,
            skip_duplicates=skip_duplicates,
        )
        data = await self._call("POST", f"/v1/buckets/{_seg(bucket)}/objects", scoped=True, namespace=namespace, json_body=body)
        return BucketObject.from_wire(data)

    # ------------------------------------------------------------ batches and tasks

    async def create_batch(self, bucket: str, object_ids: list[str], *, namespace: str | None = None) -> Batch:
        if not object_ids:
            raise ValueError("a batch needs at least one object id")
        body = schema.body("batches.create", object_ids=list(object_ids))
        return Batch.from_wire(await self._call("POST", f"/v1/buckets/{_seg(bucket)}/batches", scoped=True, namespace=namespace, json_body=body))

    async def submit_batch(self, bucket: str, batch_id: str, *, namespace: str | None = None) -> Task:
        data = await self._call(
            "POST",
            f"/v1/buckets/{_seg(bucket)}/batches/{_seg(batch_id)}/submit",
            scoped=True,
            namespace=namespace,
            json_body=schema.body("batches.submit"),
        )
        return Task.from_wire(data)

    async def get_batch(self, bucket: str, batch_id: str, *, namespace: str | None = None) -> Batch:
        data = await self._call("GET", f"/v1/buckets/{_seg(bucket)}/batches/{_seg(batch_id)}", scoped=True, namespace=namespace)
        return Batch.from_wire(data)

    async def get_task(self, task_id: str, *, namespace: str | None = None) -> Task:
        return Task.from_wire(await self._call("GET", f"/v1/tasks/{_seg(task_id)}", scoped=True, namespace=namespace))

    async def wait_for_task(
        self,
        task_id: str,
        *,
        on_update: TaskCallback | None = None,
        timeout: float | None = None,
        bucket: str | None = None,
        batch_id: str | None = None,
        namespace: str | None = None,
    ) -> Task:
        """Poll until a final status, backing off from `poll_initial` to `poll_max` seconds.
        `on_update` hears every status seen. A 404 means the task aged out of the cache: when the
        batch is known, its status is polled instead."""
        interval = self.poll_initial
        waited = 0.0
        last: Task | None = None
        use_batch = False
        while True:
            if use_batch and bucket and batch_id:
                batch = await self.get_batch(bucket, batch_id, namespace=namespace)
                task = Task(task_id=task_id, status=batch.status, error=batch.error, raw=batch.raw)
            else:
                try:
                    task = await self.get_task(task_id, namespace=namespace)
                except MixpeekNotFound:
                    if not (bucket and batch_id):
                        raise
                    use_batch = True
                    continue
            if last is None or task.status != last.status or task.raw != last.raw:
                if on_update is not None:
                    await maybe_await(on_update(task))
            last = task
            if task.is_final:
                return task
            if timeout is not None and waited + interval > timeout:
                raise TaskTimedOut(f"Mixpeek is still processing ({task.status}) after {timeout:.0f} s.", last)
            await self.retry.sleep(interval)
            waited += interval
            interval = min(interval * 2, self.poll_max)

    # ------------------------------------------------------------ retrievers

    async def list_retrievers(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
        search: str | None = None,
        namespace: str | None = None,
    ) -> Page[Retriever]:
        return await self._list(
            "retrievers.list", "/v1/retrievers/list", Retriever.from_wire, scoped=True, namespace=namespace,
            limit=limit, offset=offset, cursor=cursor, include_total=include_total, search=search,
        )

    async def execute_retriever(
        self,
        retriever_id: str,
        inputs: dict[str, Any],
        *,
        limit: int = 10,
        cursor: str | None = None,
        page_number: int | None = None,
        namespace: str | None = None,
    ) -> SearchResults:
        """Run a saved retriever. Paging: cursor style by default (pass the previous response's
        `pagination.cursor`), or offset style when `page_number` is given."""
        if page_number is not None:
            pagination: dict[str, Any] = {"method": "offset", "page_size": limit, "page_number": page_number}
        else:
            pagination = {"method": "cursor", "limit": limit, "cursor": cursor}
        body = schema.body("retrievers.execute", inputs=inputs, pagination=pagination)
        data = await self._call("POST", f"/v1/retrievers/{_seg(retriever_id)}/execute", scoped=True, namespace=namespace, json_body=body)
        return SearchResults.from_wire(data)

    async def search(
        self, retriever: Retriever, query: str, *, limit: int = 10, cursor: str | None = None, namespace: str | None = None
    ) -> SearchResults:
        """Free-text search through `retriever`, putting the text in its query input. Pass the previous
        result's `pagination.cursor` for the next page."""
        return await self.execute_retriever(retriever.retriever_id, {retriever.query_input: query}, limit=limit, cursor=cursor, namespace=namespace)


__all__ = [
    "DEFAULT_BASE_URL",
    "BytesCallback",
    "ConfirmFailed",
    "MissingApiKey",
    "MixpeekClient",
    "NamespaceRequired",
    "TaskCallback",
    "TaskTimedOut",
    "UploadedFile",
    "blob_type_for",
    "guess_content_type",
]
