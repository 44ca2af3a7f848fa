"""Async Mixpeek v1 client (httpx). Bodies are built from the schema's declared keys only (schema.py);
429/503 are retried per retry.py; every other error status becomes a typed MixpeekError."""

from __future__ import annotations

import inspect
import logging
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar
from urllib.parse import quote

import httpx

from tui.api.errors import ApiError, ConnectionFailed, ProtocolError, Timeout
from tui.api.mixpeek import schema
from tui.api.mixpeek.errors import MixpeekError, MixpeekNotFound, UploadStorageError, error_for, parse_envelope
from tui.api.mixpeek.models import (
    Batch,
    BlobInput,
    Bucket,
    BucketObject,
    FeatureExtractorRef,
    Namespace,
    Page,
    PageInfo,
    RateLimitInfo,
    Retriever,
    SearchResults,
    Task,
    Upload,
    UploadConfirmation,
    parse_warnings,
)
from tui.api.mixpeek.retry import RETRY_STATUSES, RetryCallback, RetryNotice, RetryPolicy, parse_retry_after

log = logging.getLogger("tui.api.mixpeek")

DEFAULT_BASE_URL = "https://api.mixpeek.com"
T = TypeVar("T")

TaskCallback = Callable[[Task], Any]
BytesCallback = Callable[[int, int], Any]  # (bytes sent, total bytes)


class NamespaceRequired(ApiError):
    """A namespace-scoped call was made before a namespace was chosen."""

    action = "fix-input"


class MissingApiKey(ApiError):
    action = "credentials"


class TaskTimedOut(ApiError):
    """A task did not reach a final status within the time the caller allowed."""

    action = "retry"

    def __init__(self, message: str, last: Task | None) -> None:
        super().__init__(message)
        self.last = last


@dataclass
class UploadedFile:
    """The result of the three-step upload: the upload, S3's ETag, and the confirmation."""

    upload: Upload
    etag: str
    confirmation: UploadConfirmation | None  # None when the server said the file is a known duplicate

    @property
    def object_id(self) -> str:
        if self.confirmation and self.confirmation.object_id:
            return self.confirmation.object_id
        return self.upload.object_id or self.upload.existing_object_id


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


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


class MixpeekClient:
    """One API key, one base URL, and a current namespace (sent as X-Namespace on scoped calls).

    Every method that takes `namespace=` uses it instead of the current one for that call only.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        namespace: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryCallback | None = None,
        poll_initial: float = 1.0,
        poll_max: float = 30.0,
    ) -> None:
        if not api_key:
            raise MissingApiKey("No Mixpeek API key: set MIXPEEK_API_KEY or save one in the credentials.")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]  # accept the SDK's form too
        self.namespace = namespace or None
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self.last_rate_limit: RateLimitInfo | None = None
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)
        # A separate client for presigned storage URLs: it must never carry the Mixpeek key.
        self._storage_http = httpx.AsyncClient(transport=transport, timeout=max(timeout, 300.0))

    @classmethod
    def from_settings(cls, config: Any, secrets: Any, **kw: Any) -> "MixpeekClient":
        """Build from tui.config's Config and Secrets: key from MIXPEEK_API_KEY or the secrets file."""
        key = secrets.get("mixpeek") or ""
        section = config.mixpeek
        return cls(key, base_url=section.base_url or DEFAULT_BASE_URL, namespace=section.namespace or None, **kw)

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._storage_http.aclose()

    async def __aenter__(self) -> "MixpeekClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ transport

    def _headers(self, namespace: str | None, scoped: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if scoped:
            ns = namespace or self.namespace
            if not ns:
                raise NamespaceRequired("Choose a Mixpeek namespace first.")
            headers["X-Namespace"] = ns
        return headers

    async def _send(
        self,
        http: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: Callable[[], Any] | None = None,
        namespace: str | None = None,
        storage: bool = False,
    ) -> httpx.Response:
        """Send with the retry policy: 429 and 503 wait and retry; anything else is returned or raised."""
        policy = self.retry
        total_wait = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await http.request(
                    method,
                    url,
                    headers=headers,
                    params={k: v for k, v in (params or {}).items() if v is not None} or None,
                    json=json_body,
                    content=content() if content else None,
                )
            except httpx.TimeoutException:
                raise Timeout(f"Mixpeek did not answer in time ({method} {_path_of(url)}).") from None
            except httpx.TransportError as exc:
                raise ConnectionFailed(f"Could not reach Mixpeek at {self.base_url}: {exc.__class__.__name__}.") from None
            if not storage:
                info = RateLimitInfo.from_headers(response.headers)
                if info is not None:
                    self.last_rate_limit = info
            if response.is_success:
                return response
            body = response.content
            error = self._error(response, method, url, namespace, storage)
            if response.status_code not in RETRY_STATUSES:
                raise error
            envelope = parse_envelope(body) if not storage else None
            if envelope is not None and envelope.retryable is False:
                raise error
            server_wait = parse_retry_after(response.headers.get("retry-after"))
            if server_wait is None and envelope is not None:
                server_wait = envelope.retry_after_seconds
            wait = policy.delay(attempt, server_wait)
            if attempt >= policy.max_attempts or total_wait + wait > policy.max_total_wait:
                raise error
            notice = RetryNotice(attempt=attempt, wait=wait, status=response.status_code, reason=str(error), method=method, path=_path_of(url))
            log.info("mixpeek %s %s: HTTP %s, retry %d in %.1f s", method, notice.path, response.status_code, attempt, wait)
            if self.on_retry is not None:
                await _maybe_await(self.on_retry(notice))
            await policy.sleep(wait)
            total_wait += wait

    def _error(self, response: httpx.Response, method: str, url: str, namespace: str | None, storage: bool) -> MixpeekError:
        # Support asks for the request id; its header name is not documented, so keep any "*request*" header.
        request_headers = {k: v for k, v in response.headers.items() if "request" in k.lower()}
        request_id = next(iter(request_headers.values()), "")
        log.warning("mixpeek %s %s -> HTTP %s %s", method, _path_of(url), response.status_code, request_headers or "")
        if storage:
            return UploadStorageError(
                f"The file storage refused the upload (HTTP {response.status_code}); try again.",
                status=response.status_code,
                body=response.text[:2000],
                method=method,
                path=_path_of(url),
            )
        return error_for(
            response.status_code,
            response.content,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            namespace=namespace or self.namespace,
            request_id=request_id,
            method=method,
            path=_path_of(url),
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        scoped: bool,
        namespace: str | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        headers = self._headers(namespace, scoped)
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        response = await self._send(self._http, method, path, headers=headers, params=params, json_body=json_body, namespace=namespace)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"Mixpeek sent something that is not JSON for {method} {path}.") from None

    # ------------------------------------------------------------ pagination

    @staticmethod
    def _page_params(limit: int | None, offset: int | None, cursor: str | None, include_total: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset, "cursor": cursor}
        if include_total:
            params["include_total"] = "true"
        return params

    @staticmethod
    def _page(data: Any, parse: Callable[[Any], T]) -> Page[T]:
        data = data if isinstance(data, dict) else {}
        results = data.get("results")
        total = data.get("total_count")
        if total is None:
            total = data.get("total")  # the retriever listing's name for it
        return Page(
            items=[parse(item) for item in results] if isinstance(results, list) else [],
            pagination=PageInfo.from_wire(data.get("pagination")),
            total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
            warnings=parse_warnings(data.get("warnings")),
        )

    async def _list(
        self, operation: str, path: str, parse: Callable[[Any], T], *, scoped: bool, namespace: str | None,
        limit: int | None, offset: int | None, cursor: str | None, include_total: bool, search: str | None,
    ) -> Page[T]:
        """One page of a `POST …/list` listing: paging in the query, the search in the body."""
        data = await self._call(
            "POST",
            path,
            scoped=scoped,
            namespace=namespace,
            params=self._page_params(limit, offset, cursor, include_total),
            json_body=schema.body(operation, search=search),
        )
        return self._page(data, parse)

    @staticmethod
    async def paginate(
        fetch: Callable[..., Awaitable[Page[T]]], *, page_size: int = 100, max_items: int | None = None
    ) -> AsyncIterator[T]:
        """Every item of a listing: follow `next_cursor` until it is null; a server that gives only
        page numbers is walked by offset instead. `fetch(limit=, offset=, cursor=)` gets one page."""
        cursor: str | None = None
        offset = 0
        seen_cursors: set[str] = set()
        count = 0
        while True:
            page = await fetch(limit=page_size, offset=None if cursor else (offset or None), cursor=cursor)
            for item in page.items:
                yield item
                count += 1
                if max_items is not None and count >= max_items:
                    return
            if page.next_cursor:
                if page.next_cursor in seen_cursors:
                    return  # a server repeating a cursor would loop forever
                seen_cursors.add(page.next_cursor)
                cursor = page.next_cursor
            elif page.pagination.next_page is not None and page.items:
                cursor = None
                offset += len(page.items)
            else:
                return

    @staticmethod
    async def collect(fetch: Callable[..., Awaitable[Page[T]]], *, page_size: int = 100, max_items: int = 1000) -> Page[T]:
        """Up to `max_items` of a listing in one Page, following cursors like `paginate`. The first
        page's warnings are kept (an unresolved namespace stays visible), and `pagination.next_cursor`
        is set when there was more than `max_items`."""
        first = await fetch(limit=min(page_size, max_items), offset=None, cursor=None)
        items = list(first.items[:max_items])
        page = first
        seen: set[str] = set()
        while len(items) < max_items and page.items:
            if page.next_cursor and page.next_cursor not in seen:
                seen.add(page.next_cursor)
                page = await fetch(limit=min(page_size, max_items - len(items)), offset=None, cursor=page.next_cursor)
            elif not page.next_cursor and page.pagination.next_page is not None:
                page = await fetch(limit=min(page_size, max_items - len(items)), offset=len(items), cursor=None)
            else:
                break
            items.extend(page.items[: max_items - len(items)])
        more = page.next_cursor if len(items) >= max_items and page.pagination.has_more else None
        return Page(items=items, pagination=PageInfo(total=first.pagination.total, next_cursor=more), total_count=first.total_count, warnings=first.warnings)

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

    # ------------------------------------------------------------ uploads

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
                                await _maybe_await(on_bytes(sent, total))
                else:
                    for start in range(0, total, chunk_size):
                        block = data[start : start + chunk_size]
                        sent += len(block)
                        yield block
                        if on_bytes is not None:
                            await _maybe_await(on_bytes(sent, total))

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
        namespace: str | None = None,
    ) -> UploadedFile:
        """Create the upload, PUT the bytes to the presigned URL, and confirm with the ETag."""
        file_path = Path(path)
        size = file_path.stat().st_size
        content_type = content_type or guess_content_type(file_path.name)
        upload = await self.create_upload(
            bucket,
            filename=file_path.name,
            content_type=content_type,
            file_size_bytes=size,
            blob_property=blob_property,
            blob_type=blob_type,
            namespace=namespace,
        )
        if upload.is_duplicate or not upload.presigned_url:
            return UploadedFile(upload=upload, etag="", confirmation=None)
        etag = await self.put_to_presigned_url(upload.presigned_url, file_path, content_type=content_type, on_bytes=on_bytes)
        confirmation = await self.confirm_upload(bucket, upload.upload_id, etag=etag.strip('"'), file_size_bytes=size, namespace=namespace)
        return UploadedFile(upload=upload, etag=etag, confirmation=confirmation)

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
                    await _maybe_await(on_update(task))
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


def _seg(value: str) -> str:
    """One URL path segment; ids never contain '/', but names typed by a person might."""
    return quote(value, safe="")


def _path_of(url: str) -> str:
    """The path of a URL, for messages and logs: never the presigned query string (it is a credential)."""
    return httpx.URL(url).path if "://" in url else url.split("?", 1)[0]


__all__ = [
    "DEFAULT_BASE_URL",
    "MissingApiKey",
    "MixpeekClient",
    "NamespaceRequired",
    "TaskTimedOut",
    "UploadedFile",
    "blob_type_for",
    "guess_content_type",
]
