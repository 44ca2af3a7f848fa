"""Uploads, presigned storage, confirm, batches and tasks of the Mixpeek fake (a mixin of FakeMixpeek).

As the API is documented to behave: a presigned URL can be expired before the PUT (S3's 403
"Request has expired", `expire_urls`); a confirm can answer asynchronously (`async_confirm`: PROCESSING
with the task that creates the object, which exists only once that task completed); a batch can end
COMPLETED_WITH_ERRORS with its reasons only in `error_summary`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.fakes.loopback import RecordedRequest
from tests.fakes.mixpeek_schema import ApiFailure, Invalid, _verr, check_body

FINAL = ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED")


class IngestRoutes:
    """Handlers `h_*` dispatched by FakeMixpeek; state (uploads, objects, batches, tasks) is its own."""

    options: Any
    buckets: dict[str, dict[str, Any]]
    objects: dict[str, dict[str, Any]]
    uploads: dict[str, dict[str, Any]]
    batches: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    storage: dict[str, bytes]
    requests: list[Any]
    base_url: str
    _expired_urls: int = 0

    # ------------------------------------------------------------ uploads

    def h_create_upload(self, request: Request, body: Any, bucket: str) -> tuple[int, Any]:
        body = check_body("uploads.create", body)
        b = self._bucket(self._require_ns(request), bucket)
        errors = []
        for key in ("filename", "content_type"):
            if not isinstance(body[key], str) or not body[key]:
                errors.append(_verr(["body", key], "Input should be a non-empty string", "string_type"))
        exp = body.get("presigned_url_expiration", 3600)
        if not isinstance(exp, int) or not 60 <= exp <= 86400:
            errors.append(_verr(["body", "presigned_url_expiration"], "Input should be between 60 and 86400", "less_than_equal"))
        if errors:
            raise Invalid(errors)
        upload_id = self._id("upl")
        token = secrets.token_hex(8)
        expired = self._expired_urls < self.options.expire_urls
        self._expired_urls += expired
        upload = {
            "upload_id": upload_id,
            "presigned_url": f"{self.base_url}/_storage/{upload_id}?X-Amz-Expires={exp}&X-Amz-Signature={token}",
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + exp)),
            "s3_key": f"{b['_ns']}/{b['bucket_id']}/{upload_id}/{body['filename']}",
            "status": "PENDING",
            "is_duplicate": False,
            "duplicate_of_upload_id": None,
            "existing_object_id": None,
            "message": "Upload the file with PUT to presigned_url, then confirm.",
            "object_id": None,
            "filename": body["filename"],
            "content_type": body["content_type"],
            "file_size_bytes": body.get("file_size_bytes"),
            "blob_property": body.get("blob_property"),
            "blob_type": body.get("blob_type"),
            "create_object_on_confirm": body.get("create_object_on_confirm", True),
            "_token": token,
            "_bucket": b["bucket_id"],
            "_etag": None,
            "_expired": expired,  # the URL's time is up before the client PUTs (a slow start, a long queue)
        }
        self.uploads[upload_id] = upload
        return 201, self._public(upload)

    def _storage_put(self, request: Request, upload_id: str, raw: bytes) -> Response:
        """Stands in for S3: checks the signature, the Content-Type and that no auth header came along."""

        def s3_error(status: int, code: str, message: str) -> Response:
            xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
            return Response(xml, status, media_type="application/xml")

        record = RecordedRequest.of(request, None)
        with self._lock:
            self.requests.append(record)
            up = self.uploads.get(upload_id)
            if request.method != "PUT":
                resp = s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
            elif up is None or request.query_params.get("X-Amz-Signature") != up["_token"]:
                resp = s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
            elif up["_expired"]:
                resp = s3_error(403, "AccessDenied", "Request has expired")
            elif "authorization" in record.headers:
                resp = s3_error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter should be specified.")
            elif "content-length" not in record.headers:
                resp = s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
            elif record.headers.get("content-type", "") != up["content_type"]:
                resp = s3_error(403, "SignatureDoesNotMatch", "Content-Type does not match the one the URL was signed for.")
            else:
                self.storage[upload_id] = raw
                up["_etag"] = hashlib.md5(raw).hexdigest()
                resp = Response(b"", 200, headers={"ETag": f'"{up["_etag"]}"'})
            record.status = resp.status_code
            return resp

    def h_get_upload(self, request: Request, body: Any, bucket: str, upload: str) -> tuple[int, Any]:
        b = self._bucket(self._require_ns(request), bucket)
        up = self.uploads.get(upload)
        if up is None or up["_bucket"] != b["bucket_id"]:
            raise ApiFailure(404, "NotFoundError", f"Upload '{upload}' not found.")
        return 200, self._public(up)

    def h_confirm_upload(self, request: Request, body: Any, bucket: str, upload: str) -> tuple[int, Any]:
        body = check_body("uploads.confirm", body)
        b = self._bucket(self._require_ns(request), bucket)
        up = self.uploads.get(upload)
        if up is None or up["_bucket"] != b["bucket_id"]:
            raise ApiFailure(404, "NotFoundError", f"Upload '{upload}' not found.")
        if up["status"] == "COMPLETED":
            raise ApiFailure(409, "AlreadyExistsError", "This upload is already confirmed.")
        if up["_etag"] is None:
            raise ApiFailure(400, "BadRequestError", "The file has not been uploaded to the presigned URL yet.")
        if body.get("etag") is not None and str(body["etag"]).strip('"') != up["_etag"]:
            raise ApiFailure(400, "BadRequestError", "ETag does not match the uploaded file.", {"expected": up["_etag"]})
        data = self.storage[upload]
        if body.get("file_size_bytes") is not None and body["file_size_bytes"] != len(data):
            raise ApiFailure(400, "BadRequestError", "file_size_bytes does not match the uploaded file.")
        if self.options.async_confirm:  # as the API does for large files: the object comes from a task
            up["status"] = "PROCESSING"
            task = self._new_task("upload_confirm", {"upload_id": upload}, _kind="confirm", _upload=upload)
            return 200, {"upload_id": upload, "status": "PROCESSING", "object_id": None, "task_id": task["task_id"],
                         "batch_id": None, "etag": up["_etag"], "file_hash": hashlib.sha256(data).hexdigest(),
                         "message": "Upload confirmation is processing asynchronously."}
        self._finish_confirm(up)
        return 200, {
            "upload_id": upload,
            "status": "COMPLETED",
            "object_id": up["object_id"],
            "task_id": None,
            "batch_id": None,
            "etag": up["_etag"],
            "file_hash": hashlib.sha256(data).hexdigest(),
            "message": "Upload confirmed.",
        }

    def _finish_confirm(self, up: dict[str, Any]) -> None:
        """The confirmed upload becomes a DRAFT object (not searchable until a batch processes it)."""
        b = self.buckets[up["_bucket"]]
        data = self.storage[up["upload_id"]]
        up["status"] = "COMPLETED"
        if up["create_object_on_confirm"]:
            prop = up["blob_property"] or next(iter(b["bucket_schema"].get("properties", {"content": {}})))
            obj = {
                "object_id": self._id("obj"),
                "bucket_id": b["bucket_id"],
                "blobs": [{"blob_id": self._id("blob"), "property": prop, "type": up["blob_type"] or "text", "properties": {}, "details": {"filename": up["filename"], "content_type": up["content_type"], "size": len(data)}}],
                "metadata": {"filename": up["filename"]},
                "status": "DRAFT",
                "error": None,
                "created_at": self._now(),
                "_text": data.decode("utf-8", "replace"),
            }
            self.objects[obj["object_id"]] = obj
            b["object_count"] += 1
            b["total_size_bytes"] += len(data)
            up["object_id"] = obj["object_id"]

    def _new_task(self, task_type: str, inputs: dict[str, Any], **private: Any) -> dict[str, Any]:
        task = {"task_id": self._id("task"), "task_type": task_type, "status": "PENDING", "inputs": inputs,
                "outputs": None, "additional_data": {}, "error": None, "queue_position": 1,
                "estimated_wait_minutes": 0.1, "_polls": 0, **private}
        self.tasks[task["task_id"]] = task
        return task

    # ------------------------------------------------------------ batches and tasks

    def h_create_batch(self, request: Request, body: Any, bucket: str) -> tuple[int, Any]:
        body = check_body("batches.create", body)
        b = self._bucket(self._require_ns(request), bucket)
        ids = body.get("object_ids")
        if not isinstance(ids, list) or not ids:
            raise Invalid([_verr(["body", "object_ids"], "List should have at least 1 item", "too_short")])
        missing = [i for i in ids if i not in self.objects or self.objects[i]["bucket_id"] != b["bucket_id"]]
        if missing:
            raise ApiFailure(404, "NotFoundError", f"Objects not found in bucket: {', '.join(map(str, missing))}.", {"object_ids": missing})
        batch = {
            "batch_id": self._id("btch"),
            "bucket_id": b["bucket_id"],
            "status": "DRAFT",
            "object_ids": ids,
            "task_id": None,
            "tier_tasks": [],
            "current_tier": None,
            "total_tiers": 1,
            "error": None,
            "error_summary": None,
            "created_at": self._now(),
            "updated_at": self._now(),
        }
        self.batches[batch["batch_id"]] = batch
        return 200, batch

    def _batch(self, b: dict[str, Any], batch_id: str) -> dict[str, Any]:
        batch = self.batches.get(batch_id)
        if batch is None or batch["bucket_id"] != b["bucket_id"]:
            raise ApiFailure(404, "NotFoundError", f"Batch '{batch_id}' not found.")
        return batch

    def h_submit_batch(self, request: Request, body: Any, bucket: str, batch: str) -> tuple[int, Any]:
        check_body("batches.submit", body)
        bt = self._batch(self._bucket(self._require_ns(request), bucket), batch)
        if bt["task_id"]:
            raise ApiFailure(409, "AlreadyExistsError", "This batch was already submitted.")
        task = self._new_task("batch_processing", {"batch_id": bt["batch_id"], "object_ids": bt["object_ids"]},
                              _kind="batch", _batch=bt["batch_id"])
        bt.update(task_id=task["task_id"], status="PENDING", current_tier=0, updated_at=self._now())
        for oid in bt["object_ids"]:
            self.objects[oid]["status"] = "PENDING"
        return 200, self._public(task)

    def _advance(self, task: dict[str, Any]) -> None:
        """Each poll moves the task along: PENDING, PROCESSING, then its end. A confirm task ends by
        creating the object; a batch ends COMPLETED, FAILED (every object failed) or
        COMPLETED_WITH_ERRORS (some did, or a file matching `partial_pattern` was read only in part),
        whose reasons are only in the batch's `error_summary`."""
        if task["status"] in FINAL:
            return
        task["_polls"] += 1
        n = self.options.polls_per_status
        if task["_polls"] <= n:
            task["status"] = "PENDING"
        elif task["_polls"] <= 2 * n:
            task["status"] = "PROCESSING"
        elif task["_kind"] == "confirm":
            up = self.uploads[task["_upload"]]
            self._finish_confirm(up)
            task["status"], task["outputs"] = "COMPLETED", {"object_id": up["object_id"]}
        else:
            self._end_batch(task)
        task["queue_position"] = None if task["status"] != "PENDING" else 1
        if task["_kind"] == "batch":
            bt = self.batches[task["_batch"]]
            objs = [self.objects[i] for i in bt["object_ids"]]
            if task["status"] == "PROCESSING":
                for o in objs:
                    o["status"] = "PROCESSING"
            bt["status"] = {"PENDING": "PENDING", "PROCESSING": "IN_PROGRESS"}.get(task["status"], task["status"])
            bt["updated_at"] = self._now()

    def _end_batch(self, task: dict[str, Any]) -> None:
        o = self.options
        bt = self.batches[task["_batch"]]
        objs = [self.objects[i] for i in bt["object_ids"]]

        def named(obj: dict[str, Any], pattern: str) -> bool:
            return bool(pattern) and pattern in obj["metadata"].get("filename", "")

        bad = [obj for obj in objs if named(obj, o.fail_pattern)]
        partial = [obj for obj in objs if obj not in bad and named(obj, o.partial_pattern)]
        for obj in objs:
            if obj in bad:
                obj["status"], obj["error"] = "FAILED", "text extraction failed: the file could not be parsed"
            else:
                obj["status"] = "COMPLETED_WITH_ERRORS" if obj in partial else "COMPLETED"
                self._index(obj)
        task["outputs"] = {"documents_created": len(objs) - len(bad)}
        if bad and len(bad) == len(objs):
            names = ", ".join(obj["metadata"].get("filename", obj["object_id"]) for obj in bad)
            task["status"] = "FAILED"
            task["error"] = bt["error"] = f"Feature extraction failed for {names}: the file could not be parsed."
            bt["error_summary"] = {"failed": len(bad), "succeeded": 0}
        elif bad or partial:
            task["status"] = "COMPLETED_WITH_ERRORS"
            errors = [{"object_id": obj["object_id"], "message": f"{obj['metadata'].get('filename')}: the file could not be parsed"}
                      for obj in bad]
            errors += [{"object_id": obj["object_id"], "message": f"{obj['metadata'].get('filename')}: page 3 could not be read (OCR timed out)"}
                       for obj in partial]
            bt["error_summary"] = {"failed": len(bad), "partial": len(partial), "succeeded": len(objs) - len(bad) - len(partial),
                                   "errors": errors}
        else:
            task["status"] = "COMPLETED"

    def h_get_batch(self, request: Request, body: Any, bucket: str, batch: str) -> tuple[int, Any]:
        bt = self._batch(self._bucket(self._require_ns(request), bucket), batch)
        if self.options.expire_tasks and bt["task_id"]:
            self._advance(self.tasks[bt["task_id"]])  # the batch is what moves when tasks have aged out
        return 200, bt

    def h_get_task(self, request: Request, body: Any, task: str) -> tuple[int, Any]:
        self._require_ns(request)
        t = self.tasks.get(task)
        if t is None or self.options.expire_tasks:
            raise ApiFailure(404, "NotFoundError", f"Task '{task}' not found (tasks are kept about 24 hours).")
        self._advance(t)
        return 200, self._public(t)
