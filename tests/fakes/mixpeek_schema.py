"""What the Mixpeek fake enforces of the published schema: declared body keys, required keys, and the
error shapes (the envelope's ApiFailure, the 422 ValidationError's collected field errors)."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------- the schema the fake enforces

BODY_KEYS: dict[str, set[str]] = {
    "namespaces.list": {"filters", "sort", "search", "case_sensitive"},
    "namespaces.create": {"namespace_name", "description", "feature_extractors", "payload_indexes", "auto_create_indexes"},
    "buckets.list": {"search", "filters", "sort", "case_sensitive"},
    "buckets.create": {"bucket_name", "description", "bucket_schema", "unique_key", "metadata"},
    "objects.list": {"filters", "sort", "search", "select"},
    "objects.create": {"key_prefix", "blobs", "metadata", "skip_duplicates", "canonicalize_source", "force_remirror"},
    "uploads.create": {
        "filename", "content_type", "file_size_bytes", "presigned_url_expiration", "metadata",
        "create_object_on_confirm", "object_metadata", "blob_property", "blob_type", "file_hash", "skip_duplicates",
    },
    "uploads.confirm": {"etag", "file_size_bytes", "auto_submit_batch"},
    "batches.create": {"object_ids", "filters", "collection_ids", "batch_name", "metadata", "dedup_strategy", "auto_submit"},
    "batches.submit": {"include_processing_history"},
    "retrievers.list": {"search", "filters", "sorts", "case_sensitive"},
    "retrievers.execute": {
        "inputs", "pagination", "stream", "filters", "limit", "return_presigned_urls", "return_vectors",
        "skip_cache", "explain", "expand", "consistency", "write_token",
    },
}
REQUIRED: dict[str, set[str]] = {
    "namespaces.create": {"namespace_name", "feature_extractors"},
    "buckets.create": {"bucket_name", "bucket_schema"},
    "objects.create": {"blobs"},
    "uploads.create": {"filename", "content_type"},
}
BLOB_KEYS = {"property", "type", "data", "upload_id", "metadata", "key_prefix", "checksum"}
EXTRACTOR_KEYS = {"feature_extractor_name", "version", "params"}
SCHEMA_TYPES = {"string", "number", "integer", "float", "boolean", "object", "array", "date", "datetime", "text", "image", "audio", "video", "pdf", "excel"}
PAGINATION_KEYS = {
    "cursor": {"method", "limit", "cursor"},
    "offset": {"method", "page_size", "page_number"},
    "keyset": {"method", "limit", "after"},
    "scroll": {"method", "limit", "scroll_id", "scroll_ttl"},
}
DEFAULT_LIMIT = 20


class ApiFailure(Exception):
    def __init__(self, status: int, type_: str, message: str, details: dict[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.details, self.code = status, type_, message, details, code


class Invalid(Exception):
    """Collected validation errors, answered as 422 ValidationError."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


def _verr(location: list[Any], message: str, type_: str) -> dict[str, Any]:
    return {"type": type_, "location": location, "message": message}


def check_body(operation: str, body: Any) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid([_verr(["body"], "Input should be a valid dictionary", "dict_type")])
    errors = [_verr(["body", k], "Extra inputs are not permitted", "extra_forbidden") for k in body if k not in BODY_KEYS[operation]]
    errors += [_verr(["body", k], "Field required", "missing") for k in sorted(REQUIRED.get(operation, ())) if k not in body]
    if errors:
        raise Invalid(errors)
    return body
