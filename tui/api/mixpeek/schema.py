"""The request-body keys each Mixpeek operation declares (API 0.82 schema, see the reference table).

Since 2026-11-02 the API rejects any undeclared body key with 422 `extra_forbidden`, so every body
the client sends is built through `body()`, which refuses keys not listed here: a typo fails in our
tests, not in front of the user.
"""

from __future__ import annotations

from typing import Any

DECLARED_BODY_KEYS: dict[str, frozenset[str]] = {
    "namespaces.list": frozenset({"filters", "sort", "search", "case_sensitive"}),
    "namespaces.create": frozenset({"namespace_name", "description", "feature_extractors", "payload_indexes", "auto_create_indexes"}),
    "buckets.list": frozenset({"search", "filters", "sort", "case_sensitive"}),
    "buckets.create": frozenset({"bucket_name", "description", "bucket_schema", "unique_key", "metadata"}),
    "objects.list": frozenset({"filters", "sort", "search", "select"}),
    "objects.create": frozenset({"key_prefix", "blobs", "metadata", "skip_duplicates", "canonicalize_source", "force_remirror"}),
    "uploads.create": frozenset(
        {
            "filename",
            "content_type",
            "file_size_bytes",
            "presigned_url_expiration",
            "metadata",
            "create_object_on_confirm",
            "object_metadata",
            "blob_property",
            "blob_type",
            "file_hash",
            "skip_duplicates",
        }
    ),
    "uploads.confirm": frozenset({"etag", "file_size_bytes", "auto_submit_batch"}),
    "batches.create": frozenset({"object_ids", "filters", "collection_ids", "batch_name", "metadata", "dedup_strategy", "auto_submit"}),
    "batches.submit": frozenset({"include_processing_history"}),
    "retrievers.list": frozenset({"search", "filters", "sorts", "case_sensitive"}),
    "retrievers.execute": frozenset(
        {
            "inputs",
            "pagination",
            "stream",
            "filters",
            "limit",
            "return_presigned_urls",
            "return_vectors",
            "skip_cache",
            "explain",
            "expand",
            "consistency",
            "write_token",
        }
    ),
}

# Keys of nested objects the client builds.
BLOB_KEYS = frozenset({"property", "type", "data", "upload_id", "metadata", "key_prefix", "checksum"})
FEATURE_EXTRACTOR_KEYS = frozenset({"feature_extractor_name", "version", "params"})


class UndeclaredKey(ValueError):
    """A programming error: the client tried to send a key the API schema does not declare."""


def body(operation: str, **fields: Any) -> dict[str, Any]:
    """A request body for `operation` from the given fields, leaving out those that are None."""
    declared = DECLARED_BODY_KEYS[operation]
    extra = sorted(set(fields) - declared)
    if extra:
        raise UndeclaredKey(f"{operation} does not declare {', '.join(extra)}")
    return {k: v for k, v in fields.items() if v is not None}
