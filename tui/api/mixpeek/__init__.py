"""Mixpeek v1: a typed async client for grounding chats in a user's files. Never imports Textual.

- models.py: wire objects (Namespace, Bucket, BucketObject, Upload, Batch, Task, Retriever, SearchResult, Page…)
- client.py: MixpeekClient (namespaces, buckets, objects, uploads, batches, tasks, retrievers), built on
  transport.py (key, namespace, retries, typed errors, malformed reads retried), paging.py (listings)
  and uploads.py (create -> PUT -> confirm, a new upload for an expired URL, asynchronous confirms)
- ingest.py: one file from disk to COMPLETED/FAILED, with progress updates
- errors.py: typed errors carrying the envelope; retry.py: the 429/503 policy; schema.py: declared body keys
"""

from tui.api.mixpeek.client import (
    DEFAULT_BASE_URL, ConfirmFailed, MissingApiKey, MixpeekClient, NamespaceRequired, TaskTimedOut, UploadedFile,
)
from tui.api.mixpeek.errors import (
    MixpeekAuthError,
    MixpeekBadRequest,
    MixpeekConflict,
    MixpeekError,
    MixpeekForbidden,
    MixpeekNotFound,
    MixpeekRateLimited,
    MixpeekServerFailure,
    MixpeekUnavailable,
    MixpeekValidationError,
    PresignedUrlExpired,
    UploadStorageError,
)
from tui.api.mixpeek.ingest import IngestProgress, ingest_file
from tui.api.mixpeek.models import (
    ApiWarning,
    Batch,
    BlobInput,
    Bucket,
    BucketObject,
    FeatureExtractorRef,
    Namespace,
    Page,
    PageInfo,
    Retriever,
    SearchResult,
    SearchResults,
    Task,
    TaskStatus,
    Upload,
    UploadConfirmation,
)
from tui.api.mixpeek.retry import RetryNotice, RetryPolicy

__all__ = [name for name in dir() if not name.startswith("_")]
