"""A local fake of the MixerLead Workspace API, following /work/shared/reference/mixerlead.md.

It runs on loopback (uvicorn in a thread) and answers what the client uses: the models list (with
`requiresPaid`), `POST /api/chat` streamed as plain chunked `text/plain`, knowledge sources (add by
URL / text / multipart file, crawl, list with `enabled` as an integer, PATCH, reindex, DELETE) whose
status goes indexing -> indexed as the list is polled, skills (list, exec), and the documented
errors: 401 for a bad key, 403 for a paid model on the free plan or no credits left, 413 over the
upload limit, 429 with `Retry-After` for the first N calls when asked, all as `{"error": "..."}`.

Since the reference does not know how a new conversation's id comes back, `conversation_id_mode`
picks one of every plausible way:

    "header"       text/plain, id in an `X-Conversation-Id` response header
    "none"         text/plain, the id is never given (each message starts a new conversation)
    "body-marker"  text/plain, a trailing line `{"conversationId": "..."}` ends the body
    "sse"          text/event-stream: `data: {"content": ...}` events, then `event: done` with the id
    "ndjson"       application/x-ndjson: `{"content": ...}` lines, then `{"conversationId": ...}`
    "json"         application/json: one `{"reply": ..., "conversationId": ...}` object

    with running_fake_mixerlead(conversation_id_mode="header") as (url, state):
        client = MixerLeadClient(state.api_key, base_url=url)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.loopback import RecordedRequest, serve_in_thread

ID_MODES = ("header", "none", "body-marker", "sse", "ndjson", "json")

MODELS = [
    {"id": "ml-auto", "name": "Auto", "task": "chat", "requiresPaid": False},
    {"id": "ml-fast", "name": "Fast", "task": "chat", "requiresPaid": False},
    {"id": "ml-pro", "name": "Pro Reasoner", "task": "chat", "requiresPaid": True},
]
SKILLS = [
    {"id": "persona-v1", "name": "Buyer persona", "category": "Strategy", "description": "Draft a buyer persona for a product."},
    {"id": "headline-v2", "name": "Headlines", "category": "Copy", "description": "Ten headline ideas for a topic."},
]


def default_reply(message: str, turn: int, conversation_id: str) -> str:
    return f"Reply {turn} to “{message}” — ünïcödé ✓ 🎉 done."


@dataclass
class FakeMixerLeadOptions:
    api_key: str = "ml_live_fake_mixerlead_key"
    plan: str = "free"  # "free": models with requiresPaid answer 403
    credits: int = 1_000_000  # each chat reply and skill run costs 1; at 0 the answer is 403
    conversation_id_mode: str = "header"
    conversation_header: str = "X-Conversation-Id"
    chunk_bytes: int = 7  # the reply is sent in pieces of this many bytes (splitting UTF-8 characters)
    chunk_delay: float = 0.0  # seconds between pieces
    reply: Callable[[str, int, str], str] = default_reply
    rate_limit_first: int = 0  # answer 429 to the first N calls (matching rate_limit_path)
    rate_limit_path: str = ""  # only count calls whose path contains this ("" = every call)
    retry_after: str | None = "1"  # Retry-After on 429; "http-date:N" sends an HTTP date N s ahead; None omits it
    rate_limit_message: str = "Too many requests. Please slow down."
    fail_first: int = 0  # answer `fail_status` to the first N calls matching `fail_path` (after any 429s)
    fail_path: str = ""
    fail_status: int = 500
    fail_body: str | None = None  # None: `{"error": "Internal error."}`; any text is sent as is (text/html)
    drop_after_bytes: int | None = None  # chat: cut the connection after this many body bytes
    stream_error_after_bytes: int | None = None  # chat (sse/ndjson): an error event after this many text bytes
    max_upload_bytes: int = 1_000_000  # larger uploads answer 413
    polls_to_index: int = 1  # list calls a source spends in "indexing" before "indexed"
    allow_delete: bool = True  # False: DELETE answers 405 (the delete method is only inferred)
    patch_answer: str = "ok"  # "ok": {"ok": true}; "source": the updated source; "empty": 204
    refusal_in_body: str | None = None  # chat: 200 text/plain whose whole body is {"error": this} (a moderation guess)
    fixed_now: str | None = None  # every timestamp the fake writes (for snapshots); None: the real time


def _gated(*, read_body: bool) -> Callable[[Callable[..., Awaitable[Response]]], Callable[..., Awaitable[Response]]]:
    """A route that records the call and applies auth and forced errors (`_gate`) first; the
    handler gets the JSON body (when `read_body`) and its answer's status is recorded."""

    def wrap(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        async def route(self: "FakeMixerLead", request: Request) -> Response:
            body = await self._json_body(request) if read_body else None
            record, refused = await self._gate(request, body)
            return self._answer(record, refused or await handler(self, request, body))

        return route

    return wrap


class FakeMixerLead:
    """The state of the fake and the HTTP app over it. Tests read `requests` to check what was sent."""

    def __init__(self, options: FakeMixerLeadOptions) -> None:
        if options.conversation_id_mode not in ID_MODES:
            raise ValueError(f"conversation_id_mode must be one of {ID_MODES}")
        self.options = options
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.conversations: dict[str, list[dict[str, str]]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.crawls: dict[str, dict[str, Any]] = {}
        self.skill_runs: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.chat_calls = 0
        self.chat_streams_started = 0
        self._counter = itertools.count(1)
        self._rate_limited = 0
        self._failed = 0
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/api/ai/models", self._models, methods=["GET"]),
            Route("/api/chat", self._chat, methods=["POST"]),
            Route("/api/knowledge", self._knowledge_list, methods=["GET"]),
            Route("/api/knowledge", self._knowledge_add, methods=["POST"]),
            Route("/api/knowledge/crawl", self._crawl, methods=["POST"]),
            Route("/api/knowledge/{id}", self._knowledge_patch, methods=["PATCH"]),
            Route("/api/knowledge/{id}", self._knowledge_delete, methods=["DELETE"]),
            Route("/api/knowledge/{id}/reindex", self._reindex, methods=["POST"]),
            Route("/api/skills", self._skills, methods=["GET"]),
            Route("/api/skills/exec", self._skill_exec, methods=["POST"]),
        ])

    @property
    def api_key(self) -> str:
        return self.options.api_key

    def calls(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # ------------------------------------------------------------ helpers

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._counter):04d}"

    def _now(self) -> str:
        return self.options.fixed_now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    @staticmethod
    def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    async def _gate(self, request: Request, body: Any) -> tuple[RecordedRequest, Response | None]:
        """Record the call, then apply auth, forced 429s and forced failures, in that order."""
        record = RecordedRequest.of(request, body)
        self.requests.append(record)
        options = self.options
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] != options.api_key:
            return record, self._error(401, "Invalid or missing API key.")
        path = request.url.path
        with self._lock:
            if options.rate_limit_first and options.rate_limit_path in path and self._rate_limited < options.rate_limit_first:
                self._rate_limited += 1
                headers = {}
                if options.retry_after is not None:
                    if options.retry_after.startswith("http-date:"):
                        headers["Retry-After"] = formatdate(time.time() + float(options.retry_after.split(":", 1)[1]), usegmt=True)
                    else:
                        headers["Retry-After"] = options.retry_after
                return record, self._error(429, options.rate_limit_message, headers)
            if options.fail_first and options.fail_path in path and self._failed < options.fail_first:
                self._failed += 1
                if options.fail_body is None:
                    return record, self._error(options.fail_status, "Internal error.")
                return record, Response(options.fail_body, status_code=options.fail_status, media_type="text/html")
        return record, None

    async def _json_body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _answer(self, record: RecordedRequest, response: Response) -> Response:
        record.status = response.status_code
        return response

    # ------------------------------------------------------------ models

    @_gated(read_body=False)
    async def _models(self, request: Request, body: Any) -> Response:
        models = [m for m in MODELS] if self.options.plan != "none" else []
        return JSONResponse({"models": models})

    # ------------------------------------------------------------ chat

    async def _chat(self, request: Request) -> Response:
        body = await self._json_body(request)
        record, refused = await self._gate(request, body)
        self.chat_calls += 1
        if refused:
            return self._answer(record, refused)
        options = self.options
        if not isinstance(body, dict) or not isinstance(body.get("message"), str) or not body["message"].strip():
            return self._answer(record, self._error(400, "Field 'message' is required and must be a string."))
        model_id = body.get("model")
        if model_id is not None:
            model = next((m for m in MODELS if m["id"] == model_id), None)
            if model is None:
                return self._answer(record, self._error(400, f"Unknown model '{model_id}'."))
            if model["requiresPaid"] and options.plan == "free":
                return self._answer(record, self._error(403, "This model is not available on your current plan."))
        if options.credits <= 0:
            return self._answer(record, self._error(403, "You have run out of credits. Top up to continue."))
        conversation_id = body.get("conversationId")
        if conversation_id is not None:
            if conversation_id not in self.conversations:
                return self._answer(record, self._error(404, "Conversation not found."))
        else:
            conversation_id = self._id("conv")
            self.conversations[conversation_id] = []
        history = self.conversations[conversation_id]
        history.append({"role": "user", "content": body["message"]})
        turn = sum(1 for m in history if m["role"] == "user")
        reply = options.reply(body["message"], turn, conversation_id)
        history.append({"role": "assistant", "content": reply})
        options.credits -= 1
        self.chat_streams_started += 1
        record.status = 200
        if options.refusal_in_body is not None:
            # The reference does not know how a moderated refusal looks; this is one plausible form.
            return Response(json.dumps({"error": options.refusal_in_body}), media_type="text/plain; charset=utf-8")
        return self._stream_reply(reply, conversation_id)

    def _stream_reply(self, reply: str, conversation_id: str) -> Response:
        options = self.options
        mode = options.conversation_id_mode
        data = reply.encode("utf-8")
        step = max(1, options.chunk_bytes)
        pieces = [data[i:i + step] for i in range(0, len(data), step)]

        async def pace() -> None:
            await asyncio.sleep(options.chunk_delay)

        async def raw_text() -> AsyncIterator[bytes]:
            sent = 0
            for piece in pieces:
                if options.drop_after_bytes is not None and sent + len(piece) > options.drop_after_bytes:
                    cut = options.drop_after_bytes - sent
                    if cut > 0:
                        yield piece[:cut]
                    raise ConnectionAbortedError("the fake drops the connection mid-reply")
                sent += len(piece)
                yield piece
                await pace()
            if mode == "body-marker":
                yield b"\n" + json.dumps({"conversationId": conversation_id}).encode()

        def text_pieces() -> list[str]:
            # SSE/NDJSON carry text, so split on characters (the piece size is in bytes for the raw mode)
            return [reply[i:i + step] for i in range(0, len(reply), step)]

        async def sse() -> AsyncIterator[bytes]:
            sent = 0
            for text in text_pieces():
                if options.stream_error_after_bytes is not None and sent >= options.stream_error_after_bytes:
                    yield b"event: error\ndata: " + json.dumps({"error": "The model failed mid-reply."}).encode() + b"\n\n"
                    return
                if options.drop_after_bytes is not None and sent >= options.drop_after_bytes:
                    raise ConnectionAbortedError("the fake drops the connection mid-reply")
                sent += len(text.encode())
                yield b"data: " + json.dumps({"content": text}).encode() + b"\n\n"
                await pace()
            yield b"event: done\ndata: " + json.dumps({"conversationId": conversation_id}).encode() + b"\n\n"

        async def ndjson() -> AsyncIterator[bytes]:
            sent = 0
            for text in text_pieces():
                if options.stream_error_after_bytes is not None and sent >= options.stream_error_after_bytes:
                    yield json.dumps({"error": "The model failed mid-reply."}).encode() + b"\n"
                    return
                sent += len(text.encode())
                yield json.dumps({"content": text}).encode() + b"\n"
                await pace()
            yield json.dumps({"type": "done", "conversationId": conversation_id}).encode() + b"\n"

        if mode == "sse":
            return StreamingResponse(sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        if mode == "ndjson":
            return StreamingResponse(ndjson(), media_type="application/x-ndjson")
        if mode == "json":
            return JSONResponse({"reply": reply, "conversationId": conversation_id})
        headers = {options.conversation_header: conversation_id} if mode == "header" else {}
        return StreamingResponse(raw_text(), media_type="text/plain; charset=utf-8", headers=headers)

    # ------------------------------------------------------------ knowledge

    def _new_source(self, type_: str, where: str, name: str = "") -> dict[str, Any]:
        source = {
            "id": self._id("kb"),
            "type": type_,
            "source_url_or_path": where,
            "status": "indexing",
            "chunk_count": 0,
            "enabled": 1,
            "created_at": self._now(),
            "indexed_at": None,
            "last_error": None,
            "_name": name,
            "_polls": 0,
            "_size": 0,
        }
        self.sources[source["id"]] = source
        return source

    def _advance(self) -> None:
        """Each list call moves indexing sources one step on."""
        for source in self.sources.values():
            if source["status"] != "indexing":
                continue
            source["_polls"] += 1
            if source["_polls"] < self.options.polls_to_index:
                continue
            if "fail" in source["source_url_or_path"]:
                source["status"] = "failed"
                source["last_error"] = "Could not fetch the page (HTTP 404)."
            else:
                source["status"] = "indexed"
                source["chunk_count"] = max(1, source["_size"] // 500 + 1)
                source["indexed_at"] = self._now()
                source["last_error"] = None

    @staticmethod
    def _public(source: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in source.items() if not k.startswith("_")}

    @_gated(read_body=False)
    async def _knowledge_list(self, request: Request, body: Any) -> Response:
        self._advance()
        return JSONResponse({"sources": [self._public(s) for s in self.sources.values()]})

    async def _knowledge_add(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        length = int(request.headers.get("content-length") or 0)
        if content_type.startswith("multipart/form-data"):
            record, refused = await self._gate(request, {"multipart": True, "content_length": length})
            if refused:
                return self._answer(record, refused)
            if length > self.options.max_upload_bytes:
                return self._answer(record, self._error(413, "This upload would exceed your storage quota."))
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                return self._answer(record, self._error(400, "Send the file in a part named 'file'."))
            data = await upload.read()
            if len(data) > self.options.max_upload_bytes:
                return self._answer(record, self._error(413, "This upload would exceed your storage quota."))
            name = form.get("name")
            self.uploads.append({"filename": upload.filename, "size": len(data), "content_type": upload.content_type,
                                 "name": name, "data": data})
            record.body = {"multipart": True, "filename": upload.filename, "size": len(data), "name": name}
            source = self._new_source("file", upload.filename or "upload", name if isinstance(name, str) else "")
            source["_size"] = len(data)
            return self._answer(record, JSONResponse({"id": source["id"], "status": "indexing"}))
        body = await self._json_body(request)
        record, refused = await self._gate(request, body)
        if refused:
            return self._answer(record, refused)
        if not isinstance(body, dict):
            return self._answer(record, self._error(400, "Send JSON with 'url' or 'text'."))
        has_url, has_text = isinstance(body.get("url"), str), isinstance(body.get("text"), str)
        if has_url == has_text:
            return self._answer(record, self._error(400, "Send exactly one of 'url' or 'text'."))
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        if has_url:
            if not body["url"].startswith(("http://", "https://")):
                return self._answer(record, self._error(400, "'url' must be an http(s) URL."))
            source = self._new_source("url", body["url"], name)
            source["_size"] = 1200
        else:
            if len(body["text"].encode()) > self.options.max_upload_bytes:
                return self._answer(record, self._error(413, "This text is larger than the size limit."))
            source = self._new_source("text", name or "text", name)
            source["_size"] = len(body["text"].encode())
        return self._answer(record, JSONResponse({"id": source["id"], "status": "indexing"}))

    @_gated(read_body=True)
    async def _crawl(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("seedUrl"), str):
            return self._error(400, "Field 'seedUrl' is required.")
        max_pages = body.get("maxPages", 12)
        if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
            return self._error(400, "'maxPages' must be a positive number.")
        crawl_id = self._id("crawl")
        seed = body["seedUrl"].rstrip("/")
        pages = [self._new_source("url", seed if i == 0 else f"{seed}/page-{i}")["id"] for i in range(min(max_pages, 3))]
        self.crawls[crawl_id] = {"seedUrl": seed, "maxPages": max_pages, "sources": pages}
        return JSONResponse({"crawlId": crawl_id, "status": "indexing", "maxPages": max_pages})

    @_gated(read_body=True)
    async def _knowledge_patch(self, request: Request, body: Any) -> Response:
        source = self.sources.get(request.path_params["id"])
        if source is None:
            return self._error(404, "Knowledge source not found.")
        if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
            return self._error(400, "'enabled' must be a boolean.")
        source["enabled"] = 1 if body["enabled"] else 0
        if self.options.patch_answer == "source":
            return JSONResponse(self._public(source))
        if self.options.patch_answer == "empty":
            return Response(status_code=204)
        return JSONResponse({"ok": True})

    @_gated(read_body=False)
    async def _knowledge_delete(self, request: Request, body: Any) -> Response:
        if not self.options.allow_delete:
            return self._error(405, "Method not allowed.")
        if self.sources.pop(request.path_params["id"], None) is None:
            return self._error(404, "Knowledge source not found.")
        return JSONResponse({"deleted": True})

    @_gated(read_body=False)
    async def _reindex(self, request: Request, body: Any) -> Response:
        source = self.sources.get(request.path_params["id"])
        if source is None:
            return self._error(404, "Knowledge source not found.")
        source.update(status="indexing", _polls=0, last_error=None)
        if "fail" in source["source_url_or_path"]:
            source["source_url_or_path"] = source["source_url_or_path"].replace("fail", "fixed")
        return JSONResponse({"id": source["id"], "status": "indexing"})

    # ------------------------------------------------------------ skills

    @_gated(read_body=False)
    async def _skills(self, request: Request, body: Any) -> Response:
        return JSONResponse({"skills": SKILLS})

    @_gated(read_body=True)
    async def _skill_exec(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("skillId"), str):
            return self._error(400, "Field 'skillId' is required.")
        skill = next((s for s in SKILLS if s["id"] == body["skillId"]), None)
        if skill is None:
            return self._error(404, "Skill not found.")
        variables = body.get("vars") or {}
        if not isinstance(variables, dict):
            return self._error(400, "'vars' must be an object.")
        if self.options.credits <= 0:
            return self._error(403, "You have run out of credits. Top up to continue.")
        self.options.credits -= 1
        self.skill_runs.append({"skillId": skill["id"], "vars": variables})
        lines = [f"# {skill['name']}", ""] + [f"- **{k}**: {v}" for k, v in sorted(variables.items())]
        if not variables:
            lines.append("_No variables given._")
        return JSONResponse({"output": "\n".join(lines)})


@contextlib.contextmanager
def running_fake_mixerlead(*, port: int = 0, **options: Any) -> Iterator[tuple[str, FakeMixerLead]]:
    """Start the fake on 127.0.0.1 (a free port, or `port`) in a thread; yields (base URL, state); stops on exit."""
    fake = FakeMixerLead(FakeMixerLeadOptions(**options))
    with serve_in_thread(fake.app, "MixerLead", port=port, own_socket=True, log_level="critical") as fake.base_url:
        yield fake.base_url, fake
