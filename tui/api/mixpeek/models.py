"""Typed Mixpeek wire objects (API v1). Each `from_wire` tolerates missing and extra fields:
the API changes fast, so anything we do not model stays available in `raw`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# How a field is read from the wire, by its annotation (a string: annotations are postponed).
_READERS: dict[str, Callable[[Any], Any]] = {
    "str": _str,
    "int | None": _int,
    "float | None": _float,
    "dict[str, Any]": _dict,
    "bool": lambda value: value is True,
    "Any": lambda value: value,
}


def _from_fields(cls: type[T], d: dict[str, Any], **given: Any) -> T:
    """`cls` with each field not in `given` read from the same-named key of `d` by its annotated
    type (a wrong type reads as empty), and `raw` set to `d` itself."""
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.name == "raw":
            values["raw"] = d
        else:
            values[f.name] = _READERS[str(f.type)](d.get(f.name))
    return cls(**values)


# ---------------------------------------------------------------- statuses


class TaskStatus(StrEnum):
    """TaskStatusEnum of API 0.82 (0.81 lacked QUEUED, INTERRUPTED, DEACTIVATED)."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    INTERRUPTED = "INTERRUPTED"
    UNKNOWN = "UNKNOWN"
    SKIPPED = "SKIPPED"
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    SUSPENDED = "SUSPENDED"
    DEACTIVATED = "DEACTIVATED"


FINAL_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELED", "INTERRUPTED", "SKIPPED"})
SUCCESS_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_ERRORS"})


def normalize_status(value: Any) -> str:
    """Upper-case a status string; the legacy pre-v1 `DONE` means COMPLETED."""
    text = _str(value).strip().upper()
    return "COMPLETED" if text == "DONE" else text


def is_final_status(status: str) -> bool:
    """Unknown strings count as still running (the caller applies a timeout)."""
    return normalize_status(status) in FINAL_STATUSES


# ---------------------------------------------------------------- warnings and pagination


@dataclass(frozen=True)
class ApiWarning:
    """One entry of a response's `warnings`. `reason` is e.g. "unresolved" (namespace not found)."""

    reason: str
    message: str
    raw: Any = None

    @classmethod
    def from_wire(cls, data: Any) -> "ApiWarning":
        if isinstance(data, dict):
            reason = _str(data.get("reason") or data.get("type") or data.get("code"))
            message = _str(data.get("message") or data.get("detail") or data.get("msg"))
            return cls(reason=reason, message=message or reason, raw=data)
        text = _str(data)
        # A bare string warning: recognise the one reason a client must act on.
        return cls(reason="unresolved" if "unresolved" in text.lower() else "", message=text, raw=data)


def parse_warnings(data: Any) -> list[ApiWarning]:
    return [ApiWarning.from_wire(w) for w in _list(data)]


@dataclass(frozen=True)
class PageInfo:
    """`pagination` of a resource listing. Counts are None unless `include_total=true` was asked."""

    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    next_page: int | None = None
    previous_page: int | None = None
    next_cursor: str | None = None

    @classmethod
    def from_wire(cls, data: Any) -> "PageInfo":
        d = _dict(data)
        cursor = d.get("next_cursor")
        return _from_fields(cls, d, next_cursor=cursor if isinstance(cursor, str) and cursor else None)

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None or self.next_page is not None


@dataclass
class Page(Generic[T]):
    """One page of a listing. An empty page may mean "nothing there" or "namespace unresolved":
    check `unresolved` before telling the user there is no data."""

    items: list[T]
    pagination: PageInfo = field(default_factory=PageInfo)
    total_count: int | None = None
    warnings: list[ApiWarning] = field(default_factory=list)

    @property
    def unresolved(self) -> bool:
        return any(w.reason == "unresolved" for w in self.warnings)

    @property
    def next_cursor(self) -> str | None:
        return self.pagination.next_cursor

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)


# ---------------------------------------------------------------- resources


@dataclass
class Namespace:
    namespace_id: str
    namespace_name: str
    description: str = ""
    feature_extractors: list[dict[str, Any]] = field(default_factory=list)
    document_count: int | None = None
    bucket_count: int | None = None
    collection_count: int | None = None
    object_count: int | None = None
    created_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Namespace":
        d = _dict(data)
        return _from_fields(cls, d, feature_extractors=[x for x in _list(d.get("feature_extractors")) if isinstance(x, dict)])


@dataclass(frozen=True)
class FeatureExtractorRef:
    """One entry of a namespace's `feature_extractors`."""

    feature_extractor_name: str
    version: str = "v1"
    params: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature_extractor_name": self.feature_extractor_name, "version": self.version}
        if self.params is not None:
            out["params"] = self.params
        return out


FILE_BLOB_TYPES = ("text", "image", "audio", "video", "pdf", "excel")


@dataclass
class Bucket:
    bucket_id: str
    bucket_name: str
    description: str = ""
    bucket_schema: dict[str, Any] = field(default_factory=dict)
    object_count: int | None = None
    total_size_bytes: int | None = None
    status: str = ""
    created_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Bucket":
        d = _dict(data)
        return _from_fields(cls, d, status=normalize_status(d.get("status")))

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in _dict(self.bucket_schema.get("properties")).items() if isinstance(v, dict)}

    def blob_property_for(self, blob_type: str) -> tuple[str, str] | None:
        """The schema property an uploaded file of `blob_type` should land in, and that property's type:
        an exact type match first, then any file-like property."""
        props = self.properties
        for name, spec in props.items():
            if spec.get("type") == blob_type:
                return name, blob_type
        for name, spec in props.items():
            if spec.get("type") in FILE_BLOB_TYPES:
                return name, _str(spec.get("type"))
        return None


@dataclass
class Blob:
    property: str
    type: str
    blob_id: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, data: Any) -> "Blob":
        return _from_fields(cls, _dict(data))


@dataclass(frozen=True)
class BlobInput:
    """A blob to create an object with: exactly one of `data` (URL, text, base64, JSON) or `upload_id`."""

    property: str
    type: str
    data: Any = None
    upload_id: str | None = None
    metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.upload_id is None):
            raise ValueError("a blob needs exactly one of data or upload_id")

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"property": self.property, "type": self.type}
        if self.upload_id is not None:
            out["upload_id"] = self.upload_id
        else:
            out["data"] = self.data
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class BucketObject:
    object_id: str
    bucket_id: str = ""
    blobs: list[Blob] = field(default_factory=list)
    status: str = ""
    error: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "BucketObject":
        d = _dict(data)
        err = d.get("error")
        return _from_fields(
            cls,
            d,
            blobs=[Blob.from_wire(b) for b in _list(d.get("blobs"))],
            status=normalize_status(d.get("status")),
            error=_str(err.get("message") if isinstance(err, dict) else err),
        )

    @property
    def label(self) -> str:
        """A name a person recognises: the uploaded filename when known, else the id."""
        for source in (self.metadata, *(b.details for b in self.blobs), *(b.properties for b in self.blobs)):
            for key in ("filename", "file_name", "name", "title"):
                if isinstance(source.get(key), str) and source[key]:
                    return source[key]
        return self.object_id


@dataclass
class Upload:
    upload_id: str
    presigned_url: str = ""
    expires_at: str = ""
    s3_key: str = ""
    status: str = ""
    is_duplicate: bool = False
    duplicate_of_upload_id: str = ""
    existing_object_id: str = ""
    message: str = ""
    object_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Upload":
        d = _dict(data)
        return _from_fields(cls, d, status=normalize_status(d.get("status")))


@dataclass
class UploadConfirmation:
    upload_id: str
    status: str = ""
    object_id: str = ""
    task_id: str = ""
    batch_id: str = ""
    etag: str = ""
    file_hash: str = ""
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "UploadConfirmation":
        d = _dict(data)
        return _from_fields(cls, d, status=normalize_status(d.get("status")))


def _error_text(value: Any) -> str:
    if isinstance(value, dict):
        return _str(value.get("message") or value.get("error") or value.get("detail") or value)
    return _str(value)


@dataclass
class Batch:
    batch_id: str
    bucket_id: str = ""
    status: str = ""
    object_ids: list[str] = field(default_factory=list)
    task_id: str = ""
    current_tier: int | None = None
    total_tiers: int | None = None
    error: str = ""
    error_summary: Any = None
    created_at: str = ""
    updated_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Batch":
        d = _dict(data)
        return _from_fields(
            cls,
            d,
            status=normalize_status(d.get("status")),
            object_ids=[_str(x) for x in _list(d.get("object_ids"))],
            error=_error_text(d.get("error")),
        )

    @property
    def is_final(self) -> bool:
        return is_final_status(self.status)


@dataclass
class Task:
    task_id: str
    status: str
    task_type: str = ""
    inputs: Any = None
    outputs: Any = None
    additional_data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    queue_position: int | None = None
    estimated_wait_minutes: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Task":
        d = _dict(data)
        return _from_fields(cls, d, status=normalize_status(d.get("status")), error=_error_text(d.get("error")))

    @property
    def is_final(self) -> bool:
        return is_final_status(self.status)

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCESS_STATUSES

    @property
    def failure_reason(self) -> str:
        """Why the task did not (wholly) succeed, in the server's words when it gave any; "" when it did."""
        if self.status == "COMPLETED" or not self.is_final:
            return ""
        return self.error or f"task ended {self.status}"


@dataclass
class Retriever:
    retriever_id: str
    retriever_name: str = ""
    description: str = ""
    collection_identifiers: list[str] = field(default_factory=list)
    input_schema: dict[str, Any] = field(default_factory=dict)
    stages: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "Retriever":
        d = _dict(data)
        # 0.81 wraps a created retriever as {"retriever": {...}}; 0.82 puts it at the top level.
        if "retriever_id" not in d and isinstance(d.get("retriever"), dict):
            d = d["retriever"]
        return _from_fields(
            cls,
            d,
            collection_identifiers=[_str(x) for x in _list(d.get("collection_identifiers") or d.get("collection_ids"))],
            stages=[s for s in _list(d.get("stages")) if isinstance(s, dict)],
        )

    @property
    def query_input(self) -> str:
        """The input key a free-text search goes into: `query` when declared, else the first text input."""
        if not self.input_schema or "query" in self.input_schema:
            return "query"
        for name, spec in self.input_schema.items():
            if isinstance(spec, dict) and spec.get("type") in ("text", "string"):
                return name
        return next(iter(self.input_schema))

    @property
    def label(self) -> str:
        return self.retriever_name or self.retriever_id


# ---------------------------------------------------------------- search


# Where extractors put a document's text and where it came from; the shape varies by extractor.
_TEXT_KEYS = ("text", "content", "chunk_text", "snippet", "transcript", "description", "caption", "title")
_SOURCE_KEYS = ("source_url", "filename", "file_name", "source_filename", "url", "source_object_id", "root_object_id", "object_id")


def _first_text(places: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    """The first non-empty string under any of `keys` (in key order), looking in each place."""
    for key in keys:
        for place in places:
            value = place.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return ""


@dataclass
class SearchResult:
    """One ranked document of a retriever execution."""

    document_id: str
    score: float | None
    text: str
    source: str
    rank: int = 0
    collection_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any, rank: int = 0) -> "SearchResult":
        d = _dict(data)
        nested = [d, _dict(d.get("payload")), _dict(d.get("metadata")), _dict(d.get("_internal"))]
        text = _first_text(nested, _TEXT_KEYS)
        source = _first_text(nested, _SOURCE_KEYS)
        return _from_fields(cls, d, text=text, source=source or _str(d.get("document_id")), rank=rank)

    def snippet(self, width: int = 200) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"

    @property
    def citation(self) -> str:
        """How the source is named when attached to a chat: the source plus the document id."""
        if self.document_id and self.document_id != self.source:
            return f"{self.source} ({self.document_id})" if self.source else self.document_id
        return self.source


@dataclass(frozen=True)
class RetrieverPagination:
    """`pagination` of a retriever execution: cursor-style or offset-style, per the request's method."""

    method: str = ""
    limit: int | None = None
    returned: int | None = None
    total: int | None = None
    cursor: str | None = None
    has_next: bool = False
    page_number: int | None = None
    page_size: int | None = None

    @classmethod
    def from_wire(cls, data: Any) -> "RetrieverPagination":
        d = _dict(data)
        cursor = d.get("cursor")
        return _from_fields(cls, d, cursor=cursor if isinstance(cursor, str) and cursor else None)


@dataclass
class SearchResults:
    """What executing a retriever returned. `documents` is ranked best first."""

    execution_id: str
    status: str
    documents: list[SearchResult]
    pagination: RetrieverPagination = field(default_factory=RetrieverPagination)
    warnings: list[ApiWarning] = field(default_factory=list)
    error: str = ""
    credits_used: float | None = None
    cache_hit: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> "SearchResults":
        d = _dict(data)
        # `results` is a deprecated copy of `documents`; read it only when `documents` is absent.
        docs = d.get("documents") if isinstance(d.get("documents"), list) else _list(d.get("results"))
        return _from_fields(
            cls,
            d,
            status=_str(d.get("status")).lower(),
            documents=[SearchResult.from_wire(doc, rank=i + 1) for i, doc in enumerate(docs)],
            pagination=RetrieverPagination.from_wire(d.get("pagination")),
            warnings=parse_warnings(d.get("warnings")),
            error=_error_text(d.get("error")),
            credits_used=_float(_dict(d.get("budget")).get("credits_used")),
        )

    @property
    def unresolved(self) -> bool:
        return any(w.reason == "unresolved" for w in self.warnings)


# ---------------------------------------------------------------- rate limit headers


@dataclass(frozen=True)
class RateLimitInfo:
    """The X-RateLimit-* headers of the last response, when the server sent them."""

    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None  # unix seconds
    window: int | None = None  # seconds

    @classmethod
    def from_headers(cls, headers: Any) -> "RateLimitInfo | None":
        def num(name: str) -> int | None:
            try:
                return int(float(headers.get(name)))
            except (TypeError, ValueError):
                return None

        info = cls(num("x-ratelimit-limit"), num("x-ratelimit-remaining"), num("x-ratelimit-reset"), num("x-ratelimit-window"))
        return None if info == cls() else info
