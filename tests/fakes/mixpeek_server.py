"""A local fake of the Mixpeek v1 API, following /work/shared/reference/mixpeek.md.

It runs on loopback (uvicorn in a thread) and covers what the chat client uses: namespaces,
buckets, objects, presigned uploads (a PUT endpoint on this same server standing in for S3),
confirm, batches, tasks that progress PENDING -> PROCESSING -> COMPLETED (or FAILED for files whose
name contains `fail_pattern`), retrievers and their execution, both pagination styles, the error
envelope, 429/503 with Retry-After, and 422 `extra_forbidden` for undeclared body keys. The stricter
behaviours the docs describe are options: an asynchronous confirm, COMPLETED_WITH_ERRORS batches,
expired presigned URLs, cut-off listing pages, UnauthorizedError answered with 403
(uploads, batches and tasks are in mixpeek_ingest.py; the schema it enforces in mixpeek_schema.py).

    with running_fake_mixpeek(rate_limit_first=1) as fake:
        client = MixpeekClient(fake.api_key, base_url=fake.base_url, namespace="research")
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.loopback import RecordedRequest, serve_in_thread

from tests.fakes.mixpeek_schema import (
    BLOB_KEYS, DEFAULT_LIMIT, EXTRACTOR_KEYS, PAGINATION_KEYS, SCHEMA_TYPES, ApiFailure, Invalid, _verr, check_body,
)
from tests.fakes.mixpeek_ingest import IngestRoutes

# ---------------------------------------------------------------- state


@dataclass
class FakeMixpeekOptions:
    api_key: str = "sk_test_fake_mixpeek_key"
    forbidden_key: str = "sk_test_forbidden_key"  # authenticates, but may do nothing (403)
    rate_limit_first: int = 0  # answer 429 to the first N API calls (storage PUTs not counted)
    rate_limit_path: str = ""  # only count calls whose path contains this
    retry_after: str | None = "1"  # the Retry-After header on 429/503; None to omit it
    retry_after_seconds: float | None = None  # error.details.retry_after_seconds
    retryable: bool | None = None  # error.details.retryable on 429/503
    unavailable_first: int = 0  # answer 503 to the first N API calls (after any 429s)
    fail_pattern: str = "fail"  # files whose name contains this fail processing
    polls_per_status: int = 1  # task GETs spent in PENDING and in PROCESSING each
    expire_tasks: bool = False  # GET /v1/tasks/{id} answers 404 (the ~24 h cache aged out)
    fastapi_422: bool = False  # answer 422 in FastAPI's {"detail": [...]} shape instead of the envelope
    seed: bool = True
    seed_objects: int = 3  # objects already in the seeded bucket
    strict_retriever: bool = False  # also seed "filtered-search", which requires an input besides `query`
    default_limit: int = DEFAULT_LIMIT
    bad_key_status: int = 401  # the status of an unknown key's UnauthorizedError (the live docs list it under 403)
    async_confirm: bool = False  # confirm answers PROCESSING with its own task; the object exists once it completed
    partial_pattern: str = "partial"  # files whose name contains this are processed with errors (COMPLETED_WITH_ERRORS)
    expire_urls: int = 0  # the first N presigned URLs have expired by the time they are used
    malformed_pages: int = 0  # the first N requests for a later page of a listing get a cut-off 200 body


class FakeMixpeek(IngestRoutes):
    """The state of the fake and the HTTP app over it. Tests read `requests` to check what was sent."""

    def __init__(self, options: FakeMixpeekOptions) -> None:
        self.options = options
        self.base_url = ""  # set once the server listens
        self.requests: list[RecordedRequest] = []
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.buckets: dict[str, dict[str, Any]] = {}  # bucket_id -> bucket (with "_ns")
        self.objects: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.retrievers: dict[str, dict[str, Any]] = {}
        self.documents: list[dict[str, Any]] = []
        self.storage: dict[str, bytes] = {}
        self._counter = itertools.count(1)
        self._api_calls = 0
        self._malformed_sent = 0
        self._lock = threading.Lock()
        if options.seed:
            self._seed()
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])])

    @property
    def api_key(self) -> str:
        return self.options.api_key

    # ------------------------------------------------------------ seeding

    def _id(self, prefix: str) -> str:
        # Deterministic per server (snapshot tests show ids), but not guessable from a bare counter.
        n = next(self._counter)
        return f"{prefix}_{n:04d}{hashlib.sha1(f'{prefix}{n}'.encode()).hexdigest()[:6]}"

    def _now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def add_namespace(self, name: str, description: str = "") -> dict[str, Any]:
        ns = {
            "namespace_id": self._id("ns"),
            "namespace_name": name,
            "description": description,
            "feature_extractors": [{"feature_extractor_name": "text_extractor", "version": "v1"}],
            "document_count": 0,
            "bucket_count": 0,
            "collection_count": 1,
            "object_count": 0,
            "created_at": self._now(),
        }
        self.namespaces[ns["namespace_id"]] = ns
        return ns

    def add_bucket(self, ns: dict[str, Any], name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        bucket = {
            "bucket_id": self._id("bkt"),
            "bucket_name": name,
            "description": "",
            "bucket_schema": schema or {"properties": {"content": {"type": "text", "required": True}}},
            "object_count": 0,
            "total_size_bytes": 0,
            "status": "ACTIVE",
            "created_at": self._now(),
            "_ns": ns["namespace_id"],
        }
        self.buckets[bucket["bucket_id"]] = bucket
        ns["bucket_count"] += 1
        return bucket

    def add_object(self, bucket: dict[str, Any], filename: str, text: str, status: str = "COMPLETED") -> dict[str, Any]:
        obj = {
            "object_id": self._id("obj"),
            "bucket_id": bucket["bucket_id"],
            "blobs": [{"blob_id": self._id("blob"), "property": "content", "type": "text", "properties": {}, "details": {"filename": filename}}],
            "metadata": {"filename": filename},
            "status": status,
            "error": None,
            "created_at": self._now(),
            "_text": text,
        }
        self.objects[obj["object_id"]] = obj
        bucket["object_count"] += 1
        if status == "COMPLETED":
            self._index(obj)
        return obj

    def add_retriever(self, ns: dict[str, Any], name: str) -> dict[str, Any]:
        retriever = {
            "retriever_id": self._id("ret"),
            "retriever_name": name,
            "description": "semantic search over the text of every document",
            "collection_identifiers": ["col_text"],
            "input_schema": {"query": {"type": "text", "required": True}},
            "stages": [{"stage_name": "search", "config": {"stage_id": "feature_search", "parameters": {}}}],
            "_ns": ns["namespace_id"],
        }
        self.retrievers[retriever["retriever_id"]] = retriever
        return retriever

    def _seed(self) -> None:
        research = self.add_namespace("research", "papers and notes")
        self.add_namespace("personal")
        docs = self.add_bucket(research, "docs")
        self.add_bucket(research, "images", {"properties": {"photo": {"type": "image"}}})
        texts = [
            ("solar.md", "Solar panels convert sunlight into electricity using photovoltaic cells."),
            ("tides.md", "Tidal energy uses the rise and fall of the sea to turn turbines."),
            ("wind.md", "Wind turbines turn the kinetic energy of wind into electricity."),
        ]
        for i in range(self.options.seed_objects):
            name, text = texts[i] if i < len(texts) else (f"note-{i:03d}.txt", f"Note number {i} about nothing much.")
            self.add_object(docs, name, text)
        self.add_retriever(research, "semantic-search")
        self.add_retriever(research, "keyword-search")
        if self.options.strict_retriever:
            strict = self.add_retriever(research, "filtered-search")
            strict["input_schema"] = {"query": {"type": "text", "required": True}, "category": {"type": "string", "required": True}}

    # ------------------------------------------------------------ plumbing

    def _index(self, obj: dict[str, Any]) -> None:
        """Processing done: the object's text becomes a searchable document."""
        ns = self.buckets[obj["bucket_id"]]["_ns"]
        self.documents.append(
            {
                "document_id": self._id("doc"),
                "collection_id": "col_text",
                "text": obj["_text"],
                "source_object_id": obj["object_id"],
                "metadata": {"filename": obj["metadata"].get("filename", "")},
                "_ns": ns,
            }
        )
        self.namespaces[ns]["document_count"] += 1

    def _resolve_ns(self, request: Request) -> dict[str, Any] | None:
        ident = request.headers.get("x-namespace")
        if not ident:
            raise ApiFailure(400, "BadRequestError", "The X-Namespace header is required for this endpoint.")
        for ns in self.namespaces.values():
            if ident in (ns["namespace_id"], ns["namespace_name"]):
                return ns
        return None

    def _require_ns(self, request: Request) -> dict[str, Any]:
        ns = self._resolve_ns(request)
        if ns is None:
            raise ApiFailure(404, "NotFoundError", f"Namespace '{request.headers.get('x-namespace')}' not found.")
        return ns

    def _bucket(self, ns: dict[str, Any], ident: str) -> dict[str, Any]:
        for b in self.buckets.values():
            if b["_ns"] == ns["namespace_id"] and ident in (b["bucket_id"], b["bucket_name"]):
                return b
        raise ApiFailure(404, "NotFoundError", f"Bucket '{ident}' not found in namespace '{ns['namespace_name']}'.")

    @staticmethod
    def _public(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def _envelope(self, status: int, type_: str, message: str, details: dict[str, Any] | None = None, code: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
        if details is not None:
            error["details"] = details
        return {"success": False, "status": status, "error": error}

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(int(time.time()) + 60), "X-RateLimit-Window": "60"}

    def _pages(self, request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        """limit/offset and cursor paging, as the list endpoints do it."""
        q = request.query_params
        errors = []
        try:
            limit = int(q.get("limit", self.options.default_limit))
            if not 1 <= limit <= 1000:
                errors.append(_verr(["query", "limit"], "Input should be between 1 and 1000", "less_than_equal"))
        except ValueError:
            errors.append(_verr(["query", "limit"], "Input should be a valid integer", "int_parsing"))
            limit = DEFAULT_LIMIT
        try:
            offset = int(q.get("offset", 0))
            if not 0 <= offset <= 10000:
                errors.append(_verr(["query", "offset"], "Input should be between 0 and 10000", "less_than_equal"))
        except ValueError:
            errors.append(_verr(["query", "offset"], "Input should be a valid integer", "int_parsing"))
            offset = 0
        if q.get("cursor"):
            try:
                kind, _, value = base64.urlsafe_b64decode(q["cursor"].encode()).decode().partition(":")
                if kind != "off":
                    raise ValueError
                offset = int(value)
            except (ValueError, UnicodeDecodeError):
                errors.append(_verr(["query", "cursor"], "Invalid cursor", "value_error"))
        if errors:
            raise Invalid(errors)
        include_total = q.get("include_total", "false").lower() == "true"
        page_items = items[offset : offset + limit]
        more = offset + limit < len(items)
        page = offset // limit + 1
        total_pages = -(-len(items) // limit) if items else 0
        return {
            "results": page_items,
            "pagination": {
                "total": len(items) if include_total else None,
                "page": page,
                "page_size": limit,
                "total_pages": total_pages if include_total else None,
                "next_page": page + 1 if more else None,
                "previous_page": page - 1 if page > 1 else None,
                "next_cursor": base64.urlsafe_b64encode(f"off:{offset + limit}".encode()).decode() if more else None,
            },
            "total_count": len(items) if include_total else None,
            "stats": {},
        }

    def _unresolved_page(self, request: Request) -> dict[str, Any]:
        ident = request.headers.get("x-namespace")
        return {
            "results": [],
            "pagination": {"total": None, "page": 1, "page_size": DEFAULT_LIMIT, "total_pages": None, "next_page": None, "previous_page": None, "next_cursor": None},
            "total_count": None,
            "stats": {},
            "warnings": [{"reason": "unresolved", "message": f"Namespace '{ident}' could not be resolved; no results returned.", "namespace": ident}],
        }

    # ------------------------------------------------------------ dispatch

    ROUTES: list[tuple[str, str, str]] = [
        ("POST", r"/v1/namespaces/list", "list_namespaces"),
        ("GET", r"/v1/namespaces", "list_namespaces"),
        ("POST", r"/v1/namespaces", "create_namespace"),
        ("GET", r"/v1/namespaces/(?P<ns>[^/]+)", "get_namespace"),
        ("POST", r"/v1/buckets/list", "list_buckets"),
        ("POST", r"/v1/buckets", "create_bucket"),
        ("GET", r"/v1/buckets/(?P<bucket>[^/]+)", "get_bucket"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/objects/list", "list_objects"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/objects", "create_object"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/uploads", "create_upload"),
        ("GET", r"/v1/buckets/(?P<bucket>[^/]+)/uploads/(?P<upload>[^/]+)", "get_upload"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/uploads/(?P<upload>[^/]+)/confirm", "confirm_upload"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/batches", "create_batch"),
        ("GET", r"/v1/buckets/(?P<bucket>[^/]+)/batches/(?P<batch>[^/]+)", "get_batch"),
        ("POST", r"/v1/buckets/(?P<bucket>[^/]+)/batches/(?P<batch>[^/]+)/submit", "submit_batch"),
        ("GET", r"/v1/tasks/(?P<task>[^/]+)", "get_task"),
        ("POST", r"/v1/retrievers/list", "list_retrievers"),
        ("POST", r"/v1/retrievers/(?P<retriever>[^/]+)/execute", "execute_retriever"),
    ]
    _compiled = [(m, re.compile(p + "$"), h) for m, p, h in ROUTES]

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        raw = await request.body()
        if path.startswith("/_storage/"):
            return self._storage_put(request, path.removeprefix("/_storage/"), raw)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = RecordedRequest.of(request, body, path)
        with self._lock:
            self.requests.append(record)
            response = self._handle(request, path, raw, body)
        record.status = response.status_code
        return response

    def _handle(self, request: Request, path: str, raw: bytes, body: Any) -> Response:
        o = self.options
        try:
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in (o.api_key, o.forbidden_key):
                raise ApiFailure(o.bad_key_status, "UnauthorizedError", "Invalid or missing API key.")
            if auth[7:] == o.forbidden_key:
                raise ApiFailure(403, "ForbiddenError", "This API key does not have permission for this operation.", {"required_permission": "write"})
            if not o.rate_limit_path or o.rate_limit_path in path:
                self._api_calls += 1
                if self._api_calls <= o.rate_limit_first:
                    details: dict[str, Any] = {"api_name": path, "limit": 60, "window": 60}
                    if o.retry_after_seconds is not None:
                        details["retry_after_seconds"] = o.retry_after_seconds
                    if o.retryable is not None:
                        details["retryable"] = o.retryable
                    headers = self._rate_headers(0)
                    if o.retry_after is not None:
                        headers["Retry-After"] = o.retry_after
                    return JSONResponse(self._envelope(429, "TooManyRequestsError", "Rate limit exceeded.", details), 429, headers=headers)
                if self._api_calls <= o.rate_limit_first + o.unavailable_first:
                    headers = {"Retry-After": o.retry_after} if o.retry_after is not None else {}
                    details = {"retryable": o.retryable} if o.retryable is not None else None
                    return JSONResponse(self._envelope(503, "InferenceServiceUnavailableError", "Inference service is temporarily unavailable.", details), 503, headers=headers)
            if raw and body is None:
                raise Invalid([_verr(["body"], "JSON decode error", "json_invalid")])
            later_page = request.query_params.get("cursor") or request.query_params.get("offset", "0") not in ("", "0")
            if path.endswith("/list") and later_page and self._malformed_sent < o.malformed_pages:
                self._malformed_sent += 1  # a proxy or a dropped connection cut the body short
                return Response(b'{"results": [{"object_id": "obj_', 200, media_type="application/json")
            for method, pattern, handler in self._compiled:
                m = pattern.match(path)
                if m and method == request.method:
                    status, payload = getattr(self, "h_" + handler)(request, body, **m.groupdict())
                    return JSONResponse(payload, status, headers=self._rate_headers(59))
            raise ApiFailure(404, "NotFoundError", f"No route {request.method} {path}.")
        except ApiFailure as exc:
            return JSONResponse(self._envelope(exc.status, exc.type, exc.message, exc.details, exc.code), exc.status)
        except Invalid as exc:
            if o.fastapi_422:
                detail = [{"loc": e["location"], "msg": e["message"], "type": e["type"]} for e in exc.errors]
                return JSONResponse({"detail": detail}, 422)
            return JSONResponse(self._envelope(422, "ValidationError", "Request validation failed.", {"validation_errors": exc.errors}), 422)

    # ------------------------------------------------------------ namespaces

    def h_list_namespaces(self, request: Request, body: Any) -> tuple[int, Any]:
        body = check_body("namespaces.list", body) if request.method == "POST" else {}
        items = [self._public(n) for n in self.namespaces.values()]
        if body.get("search"):
            items = [n for n in items if body["search"].lower() in n["namespace_name"].lower()]
        return 200, self._pages(request, items)

    def h_create_namespace(self, request: Request, body: Any) -> tuple[int, Any]:
        body = check_body("namespaces.create", body)
        errors = []
        if not isinstance(body["namespace_name"], str) or not body["namespace_name"].strip():
            errors.append(_verr(["body", "namespace_name"], "Input should be a non-empty string", "string_type"))
        fx = body["feature_extractors"]
        if not isinstance(fx, list) or not fx:
            errors.append(_verr(["body", "feature_extractors"], "List should have at least 1 item", "too_short"))
        else:
            for i, item in enumerate(fx):
                if not isinstance(item, dict) or "feature_extractor_name" not in item:
                    errors.append(_verr(["body", "feature_extractors", i, "feature_extractor_name"], "Field required", "missing"))
                    continue
                errors += [_verr(["body", "feature_extractors", i, k], "Extra inputs are not permitted", "extra_forbidden") for k in item if k not in EXTRACTOR_KEYS]
        if errors:
            raise Invalid(errors)
        if any(n["namespace_name"] == body["namespace_name"] for n in self.namespaces.values()):
            raise ApiFailure(409, "AlreadyExistsError", f"Namespace '{body['namespace_name']}' already exists.", code="namespace_name_taken")
        ns = self.add_namespace(body["namespace_name"], body.get("description") or "")
        ns["feature_extractors"] = fx
        ns["collection_count"] = 0
        return 200, self._public(ns)

    def h_get_namespace(self, request: Request, body: Any, ns: str) -> tuple[int, Any]:
        for n in self.namespaces.values():
            if ns in (n["namespace_id"], n["namespace_name"]):
                return 200, self._public(n)
        raise ApiFailure(404, "NotFoundError", f"Namespace '{ns}' not found.")

    # ------------------------------------------------------------ buckets

    def h_list_buckets(self, request: Request, body: Any) -> tuple[int, Any]:
        body = check_body("buckets.list", body)
        ns = self._resolve_ns(request)
        if ns is None:
            return 200, self._unresolved_page(request)
        items = [self._public(b) for b in self.buckets.values() if b["_ns"] == ns["namespace_id"]]
        if body.get("search"):
            items = [b for b in items if body["search"].lower() in b["bucket_name"].lower()]
        return 200, self._pages(request, items)

    def h_create_bucket(self, request: Request, body: Any) -> tuple[int, Any]:
        body = check_body("buckets.create", body)
        ns = self._require_ns(request)
        schema = body["bucket_schema"]
        errors = []
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            errors.append(_verr(["body", "bucket_schema", "properties"], "Field required", "missing"))
        else:
            errors += [_verr(["body", "bucket_schema"], "Extra inputs are not permitted", "extra_forbidden") for k in schema if k != "properties"]
            for name, spec in schema["properties"].items():
                if not isinstance(spec, dict) or spec.get("type") not in SCHEMA_TYPES:
                    errors.append(_verr(["body", "bucket_schema", "properties", name, "type"], f"Input should be one of {', '.join(sorted(SCHEMA_TYPES))}", "enum"))
        if errors:
            raise Invalid(errors)
        if any(b["_ns"] == ns["namespace_id"] and b["bucket_name"] == body["bucket_name"] for b in self.buckets.values()):
            raise ApiFailure(409, "AlreadyExistsError", f"Bucket '{body['bucket_name']}' already exists.", code="bucket_name_taken")
        bucket = self.add_bucket(ns, body["bucket_name"], schema)
        bucket["description"] = body.get("description") or ""
        return 200, self._public(bucket)

    def h_get_bucket(self, request: Request, body: Any, bucket: str) -> tuple[int, Any]:
        return 200, self._public(self._bucket(self._require_ns(request), bucket))

    # ------------------------------------------------------------ objects

    def h_list_objects(self, request: Request, body: Any, bucket: str) -> tuple[int, Any]:
        body = check_body("objects.list", body)
        ns = self._resolve_ns(request)
        if ns is None:
            return 200, self._unresolved_page(request)
        b = self._bucket(ns, bucket)
        items = [self._public(o) for o in self.objects.values() if o["bucket_id"] == b["bucket_id"]]
        return 200, self._pages(request, items)

    def _check_blobs(self, blobs: Any) -> None:
        errors = []
        if not isinstance(blobs, list):
            raise Invalid([_verr(["body", "blobs"], "Input should be a valid list", "list_type")])
        for i, blob in enumerate(blobs):
            if not isinstance(blob, dict):
                errors.append(_verr(["body", "blobs", i], "Input should be a valid dictionary", "dict_type"))
                continue
            errors += [_verr(["body", "blobs", i, k], "Extra inputs are not permitted", "extra_forbidden") for k in blob if k not in BLOB_KEYS]
            errors += [_verr(["body", "blobs", i, k], "Field required", "missing") for k in ("property", "type") if k not in blob]
            if ("data" in blob) == ("upload_id" in blob):
                errors.append(_verr(["body", "blobs", i], "Exactly one of data or upload_id is required", "value_error"))
        if errors:
            raise Invalid(errors)

    def h_create_object(self, request: Request, body: Any, bucket: str) -> tuple[int, Any]:
        body = check_body("objects.create", body)
        self._check_blobs(body["blobs"])
        b = self._bucket(self._require_ns(request), bucket)
        blobs, text, filename = [], "", ""
        for blob in body["blobs"]:
            if "upload_id" in blob:
                up = self.uploads.get(blob["upload_id"])
                if up is None:
                    raise ApiFailure(404, "NotFoundError", f"Upload '{blob['upload_id']}' not found.")
                text, filename = self.storage.get(up["upload_id"], b"").decode("utf-8", "replace"), up["filename"]
            elif isinstance(blob["data"], str):
                text = blob["data"]
            blobs.append({"blob_id": self._id("blob"), "property": blob["property"], "type": blob["type"], "properties": {}, "details": {"filename": filename} if filename else {}})
        meta = body.get("metadata") or {}
        obj = {
            "object_id": self._id("obj"),
            "bucket_id": b["bucket_id"],
            "blobs": blobs,
            "metadata": {**meta, **({"filename": filename} if filename else {})},
            "status": "DRAFT",
            "error": None,
            "created_at": self._now(),
            "_text": text,
        }
        self.objects[obj["object_id"]] = obj
        b["object_count"] += 1
        return 200, self._public(obj)

    # ------------------------------------------------------------ retrievers

    def h_list_retrievers(self, request: Request, body: Any) -> tuple[int, Any]:
        body = check_body("retrievers.list", body)
        ns = self._resolve_ns(request)
        if ns is None:
            page = self._unresolved_page(request)
            page["total"] = 0
            return 200, page
        items = [self._public(r) for r in self.retrievers.values() if r["_ns"] == ns["namespace_id"]]
        page = self._pages(request, items)
        page["total"] = len(items)
        return 200, page

    def h_execute_retriever(self, request: Request, body: Any, retriever: str) -> tuple[int, Any]:
        body = check_body("retrievers.execute", body)
        ns = self._require_ns(request)
        r = next((x for x in self.retrievers.values() if x["_ns"] == ns["namespace_id"] and retriever in (x["retriever_id"], x["retriever_name"])), None)
        if r is None:
            raise ApiFailure(404, "NotFoundError", f"Retriever '{retriever}' not found.")
        inputs = body.get("inputs")
        errors = []
        if not isinstance(inputs, dict):
            errors.append(_verr(["body", "inputs"], "Field required", "missing"))
            inputs = {}
        for name, spec in r["input_schema"].items():
            if spec.get("required") and not inputs.get(name):
                errors.append(_verr(["body", "inputs", name], "Field required", "missing"))
        errors += [_verr(["body", "inputs", k], "Input not declared by the retriever's input_schema", "extra_forbidden") for k in inputs if k not in r["input_schema"]]
        pag = body.get("pagination") or {"method": "cursor", "limit": 10, "cursor": None}
        method = pag.get("method") if isinstance(pag, dict) else None
        if method not in ("cursor", "offset"):
            errors.append(_verr(["body", "pagination", "method"], "Input should be 'cursor' or 'offset'", "literal_error"))
        else:
            errors += [_verr(["body", "pagination", k], "Extra inputs are not permitted", "extra_forbidden") for k in pag if k not in PAGINATION_KEYS[method]]
        if errors:
            raise Invalid(errors)
        terms = [t for t in re.findall(r"\w+", str(inputs.get("query", "")).lower()) if len(t) > 2]
        scored = []
        for doc in self.documents:
            if doc["_ns"] != ns["namespace_id"]:
                continue
            words = re.findall(r"\w+", doc["text"].lower())
            hits = sum(words.count(t) for t in terms)
            if hits:
                scored.append((round(min(0.99, 0.5 + 0.1 * hits + 0.01 * len(set(terms) & set(words))), 4), doc))
        scored.sort(key=lambda s: (-s[0], s[1]["document_id"]))
        if method == "offset":
            size, number = int(pag.get("page_size", 10)), int(pag.get("page_number", 1))
            start = (number - 1) * size
            window = scored[start : start + size]
            pagination: dict[str, Any] = {"method": "offset", "page_number": number, "page_size": size, "returned": len(window), "total": len(scored), "has_next": start + size < len(scored)}
        else:
            size = int(pag.get("limit", 10))
            start = 0
            if pag.get("cursor"):
                start = int(base64.urlsafe_b64decode(pag["cursor"].encode()).decode().removeprefix("off:"))
            window = scored[start : start + size]
            more = start + size < len(scored)
            pagination = {"method": "cursor", "limit": size, "returned": len(window), "total": len(scored), "cursor": base64.urlsafe_b64encode(f"off:{start + size}".encode()).decode() if more else None, "has_next": more}
        documents = [{**self._public(d), "score": s} for s, d in window]
        return 200, {
            "execution_id": self._id("exec"),
            "status": "completed",
            "documents": documents,
            "pagination": pagination,
            "stage_statistics": {},
            "budget": {"credits_used": 0.01 * len(documents)},
            "warnings": [],
            "error": None,
            "cache_hit": False,
        }


# ---------------------------------------------------------------- running it


@contextlib.contextmanager
def running_fake_mixpeek(**options: Any) -> Iterator[FakeMixpeek]:
    """Start the fake on 127.0.0.1 (a free port) in a thread; stop it on exit."""
    fake = FakeMixpeek(FakeMixpeekOptions(**options))
    with serve_in_thread(fake.app, "Mixpeek") as fake.base_url:
        yield fake


