"""Async client for a Mix server: one method per endpoint of the seed spec, plus the SSE stream.

Tolerates newer servers (openapi-latest.yaml): the send body shape is learned from the server's
400 and remembered, a 202 "processing" send is a success, and the server's generation ("seed" or
"latest") is detected from cheap signals (see `detect_generation`).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, BinaryIO, Callable, Mapping
from urllib.parse import quote

import httpx

from tui.api import events as ev
from tui.api.errors import ApiError, BadRequest, ProtocolError, ServerError
from tui.api.mix import errors as mix_errors
from tui.api.mix.models import (
    AuthResult,
    AuthStatus,
    AuthValidation,
    BroadcastResult,
    CancelResult,
    Command,
    FileInfo,
    Health,
    McpServer,
    MessageData,
    OAuthStart,
    PermissionResult,
    Preferences,
    PreferencesResponse,
    ProviderInfo,
    SendResult,
    SessionData,
    ToolsStatus,
    providers_from_json,
)
from tui.api.mix.rules import PermissionRule
from tui.api.mix.stream import ReconnectPolicy, run_stream

DEFAULT_BASE_URL = "http://localhost:8088"
DEFAULT_BROWSER_MODE = "local-browser-service"  # this client drives no browser; the mode a server is told
THUMBNAILS_DIR = ".thumbnails"

ProgressCallback = Callable[[int, int], None]  # (bytes sent, total bytes)

# Signals that say which generation a server is (PROTOCOL §9).
_LATEST_EVENTS = (ev.UserMessageCreated, ev.ToolUseStart, ev.ToolParameterDelta, ev.ToolParametersComplete, ev.Notification)
_SEED_EVENTS = (ev.ToolSnapshot, ev.Summarize)


@dataclass
class FileContent:
    data: bytes
    content_type: str = ""


class _ProgressReader:
    """A file object that reports how much of it httpx has read (for upload progress)."""

    def __init__(self, raw: BinaryIO, total: int, progress: ProgressCallback) -> None:
        self._raw = raw
        self._total = total
        self._sent = 0
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if chunk:
            self._sent += len(chunk)
            try:
                self._progress(self._sent, self._total)
            except Exception:  # noqa: BLE001 — a broken progress bar must not break the upload
                pass
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            self._sent = 0
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


class MixClient:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        heartbeat: float = 45.0,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.reconnect = reconnect or ReconnectPolicy()
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._has_token = bool(token)
        # Plain HTTP (the embedded server, a local one) never uses TLS: a bare context saves loading
        # the CA bundle, ~40 ms on the way to "connected". HTTPS keeps httpx's verifying default.
        verify: ssl.SSLContext | bool = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if self.base_url.startswith("http://") else True
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport,
                                       verify=verify)
        self._pauses: set[asyncio.Future[None]] = set()  # streams waiting to reconnect (retry_pause)
        self._back_at = float("-inf")  # loop time of the last server_back()
        self._send_shape: str | None = None  # "content" (seed) or "text" (latest), once known
        self._generation: str | None = None
        self._latest_votes = 0
        self._seed_votes = 0

    def __repr__(self) -> str:  # never the token
        return f"MixClient({self.base_url!r}, token={'set' if self._has_token else 'none'})"

    def move_to(self, base_url: str) -> None:
        """Talk to the same server at a new address (the app's restarted server got another port)."""
        self.base_url = base_url.rstrip("/")
        self._http.base_url = self.base_url

    async def retry_pause(self, delay: float, since: float) -> None:
        """A stream's wait before reconnecting: `delay` seconds, or until `server_back()` (none when
        that was called after `since`, the loop time of the try that failed)."""
        if self._back_at > since:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._pauses.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=delay)
        finally:
            self._pauses.discard(waiter)
            waiter.cancel()

    def server_back(self) -> None:
        """The server is serving again (the app restarted it): every waiting stream reconnects now."""
        self._back_at = asyncio.get_running_loop().time()
        for waiter in list(self._pauses):
            if not waiter.done():
                waiter.set_result(None)

    async def aclose(self) -> None:
        await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> "MixClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ plumbing

    def _transport_error(self, exc: httpx.HTTPError, what: str = "") -> ApiError:
        return mix_errors.from_transport(exc, self.base_url, what)

    def _status_error(self, response: httpx.Response, what: str = "") -> ServerError:
        return mix_errors.from_response(response, self.base_url, what)

    async def _request(self, method: str, path: str, *, what: str, ok: tuple[int, ...] = (200, 201, 202, 204),
                       timeout: Any = None, **kwargs: Any) -> httpx.Response:
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from None
        if response.status_code not in ok:
            raise self._status_error(response, what)
        return response

    async def _json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, what=what, **kwargs)
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"Mix server at {self.base_url} sent something that is not JSON while {what}") from None

    @staticmethod
    def _seg(value: str) -> str:
        return quote(str(value), safe="")

    # ------------------------------------------------------------------ generation

    @property
    def generation(self) -> str | None:
        """"seed" or "latest" once known (after `detect_generation` or enough signals), else None."""
        if self._generation is not None:
            return self._generation
        if self._latest_votes or self._seed_votes:
            return "latest" if self._latest_votes > self._seed_votes else "seed"
        return None

    @property
    def send_shape(self) -> str | None:
        """"content" or "text" once a server refused the other one; None while both are fine."""
        return self._send_shape

    def _vote(self, latest: bool) -> None:
        if latest:
            self._latest_votes += 1
        else:
            self._seed_votes += 1

    def _observe_event(self, event: Any) -> None:
        if isinstance(event, _LATEST_EVENTS):
            self._vote(True)
        elif isinstance(event, _SEED_EVENTS):
            self._vote(False)

    async def detect_generation(self) -> str:
        """"latest" if the server has `/api/system/info` (added after the seed), or earlier signals
        (text send shape, FileInfo.url, latest-only events) say so; else "seed"."""
        if self._generation is not None:
            return self._generation
        try:
            response = await self._http.get("/api/system/info")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, "asking the server's version") from None
        if response.status_code == 200:
            self._generation = "latest"
            return self._generation
        guess = self.generation
        self._generation = guess or "seed"
        return self._generation

    async def system_info(self) -> dict:
        """Latest servers only (`GET /api/system/info`); NotFound on seed servers."""
        data = await self._json("GET", "/api/system/info", what="reading the server's system info")
        self._generation = "latest"
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ system

    async def health(self) -> Health:
        return Health.from_json(await self._json("GET", "/health", what="checking the server's health"))

    async def list_commands(self) -> list[Command]:
        data = await self._json("GET", "/api/commands", what="listing slash commands")
        return [Command.from_json(c) for c in data or []]

    async def get_command(self, name: str) -> Command:
        data = await self._json("GET", f"/api/commands/{self._seg(name.lstrip('/'))}", what=f"reading the command {name}")
        return Command.from_json(data)

    async def list_mcp_servers(self) -> list[McpServer]:
        data = await self._json("GET", "/api/mcp", what="listing MCP servers")
        return [McpServer.from_json(s) for s in data or []]

    async def restart_mcp_server(self, name: str) -> None:
        """mix-tui's embedded server only (`POST /api/mcp/{name}/restart`); NotFound elsewhere."""
        await self._json("POST", f"/api/mcp/{self._seg(name)}/restart", what=f"restarting the MCP server {name}")

    async def tools_status(self) -> ToolsStatus:
        return ToolsStatus.from_json(await self._json("GET", "/api/tools/status", what="reading the tools' status"))

    # ------------------------------------------------------------------ auth (provider credentials)

    async def store_api_key(self, provider: str, api_key: str) -> AuthResult:
        data = await self._json("POST", "/api/auth/api-key", json={"provider": provider, "api_key": api_key},
                                what=f"saving the {provider} API key")
        return AuthResult.from_json(data)

    async def start_oauth(self, provider: str) -> OAuthStart:
        return OAuthStart.from_json(await self._json("POST", f"/api/auth/oauth/{self._seg(provider)}", what=f"starting {provider} sign-in"))

    async def oauth_callback(self, provider: str, code: str, state: str) -> AuthResult:
        data = await self._json("POST", "/api/auth/oauth-callback", json={"provider": provider, "code": code, "state": state},
                                what=f"finishing {provider} sign-in")
        return AuthResult.from_json(data)

    async def auth_status(self) -> AuthStatus:
        return AuthStatus.from_json(await self._json("GET", "/api/auth/status", what="reading provider sign-in status"))

    async def validate_auth(self, provider: str | None = None) -> AuthValidation:
        """The preferred provider's credentials; `provider` asks for that one (servers that cannot
        answer for the preferred one: compare `provider` in the answer)."""
        params = {"provider": provider} if provider else None
        return AuthValidation.from_json(await self._json("GET", "/api/auth/validate", params=params,
                                                         what="checking the provider credentials"))

    async def delete_credentials(self, provider: str) -> AuthResult:
        data = await self._json("DELETE", f"/api/auth/{self._seg(provider)}", what=f"removing the {provider} credentials")
        return AuthResult.from_json(data)

    # ------------------------------------------------------------------ preferences

    async def get_preferences(self) -> PreferencesResponse:
        return PreferencesResponse.from_json(await self._json("GET", "/api/preferences", what="reading preferences"))

    async def update_preferences(self, changes: Mapping[str, Any] | None = None, **fields: Any) -> Preferences:
        body = {**(changes or {}), **fields}
        return Preferences.from_json(await self._json("POST", "/api/preferences", json=body, what="saving preferences"))

    async def list_providers(self) -> dict[str, ProviderInfo]:
        return providers_from_json(await self._json("GET", "/api/preferences/providers", what="listing providers and models"))

    async def reset_preferences(self) -> Preferences:
        return Preferences.from_json(await self._json("POST", "/api/preferences/reset", what="resetting preferences"))

    # ------------------------------------------------------------------ permissions

    async def grant_permission(self, request_id: str) -> PermissionResult:
        data = await self._json("POST", f"/api/permissions/{self._seg(request_id)}/grant", what="granting a permission")
        return PermissionResult.from_json(data, granted=True, request_id=request_id)

    async def remember_permission(self, request_id: str, scope: str) -> PermissionRule:
        """Grant a waiting request and keep the answer: `scope` "session" or "always" (this tool in
        this folder). The embedded server's extension; NotFound from servers without it."""
        data = await self._json("POST", f"/api/permissions/{self._seg(request_id)}/remember", json={"scope": scope},
                                what="granting a permission")
        return PermissionRule.from_json(data.get("rule") if isinstance(data, dict) else None)

    async def list_permission_rules(self) -> list[PermissionRule]:
        data = await self._json("GET", "/api/permission-rules", what="listing the permission rules")
        rules = data.get("rules") if isinstance(data, dict) else None
        return [PermissionRule.from_json(r) for r in rules or []]

    async def delete_permission_rule(self, rule_id: str) -> None:
        await self._request("DELETE", f"/api/permission-rules/{self._seg(rule_id)}", what="revoking a permission rule")

    async def deny_permission(self, request_id: str) -> PermissionResult:
        data = await self._json("POST", f"/api/permissions/{self._seg(request_id)}/deny", what="denying a permission")
        return PermissionResult.from_json(data, granted=False, request_id=request_id)

    # ------------------------------------------------------------------ notifications (latest)

    async def respond_notification(self, notification_id: str, response_type: str, value: str | None = None) -> None:
        """Answer a `notification` event: type "acknowledge", "text" or "choice" (with `value`)."""
        body: dict[str, Any] = {"type": response_type}
        if value is not None:
            body["value"] = value
        await self._request("POST", f"/api/notifications/{self._seg(notification_id)}/respond", json=body,
                            what="answering the agent's question")

    # ------------------------------------------------------------------ sessions

    async def list_sessions(self) -> list[SessionData]:
        data = await self._json("GET", "/api/sessions", what="listing sessions")
        return [SessionData.from_json(s) for s in data or []]  # older builds send null for none

    async def create_session(self, title: str, *, working_directory: str | None = None) -> SessionData:
        body: dict[str, Any] = {"title": title}
        if working_directory:
            body["workingDirectory"] = working_directory  # newer servers reject it: only when asked
        if (self._generation or await self.detect_generation()) == "latest":
            # Required by the latest spec; seed servers refuse unknown fields, so only there.
            body["browserMode"] = DEFAULT_BROWSER_MODE
        return SessionData.from_json(await self._json("POST", "/api/sessions", json=body, what="creating a session"))

    async def get_session(self, session_id: str) -> SessionData:
        return SessionData.from_json(await self._json("GET", f"/api/sessions/{self._seg(session_id)}", what="reading a session"))

    async def delete_session(self, session_id: str) -> None:
        await self._request("DELETE", f"/api/sessions/{self._seg(session_id)}", what="deleting a session")

    async def rename_session(self, session_id: str, title: str) -> SessionData:
        """Extension (not in the Mix spec; the embedded server has it): PATCH {title}. Other servers
        answer 404/405, raised as NotFound/MethodNotAllowed so callers can keep the title locally."""
        data = await self._json("PATCH", f"/api/sessions/{self._seg(session_id)}", json={"title": title}, what="renaming a session")
        return SessionData.from_json(data)

    async def cancel_session(self, session_id: str) -> CancelResult:
        data = await self._json("POST", f"/api/sessions/{self._seg(session_id)}/cancel", what="cancelling the turn")
        return CancelResult.from_json(data, session_id)

    async def rewind_session(self, session_id: str, message_id: str, *, cleanup_media: bool = True) -> SessionData:
        """Latest servers: keep the messages up to and including `message_id`, delete the rest."""
        data = await self._json("POST", f"/api/sessions/{self._seg(session_id)}/rewind",
                                json={"messageId": message_id, "cleanupMedia": cleanup_media}, what="rewinding the session")
        return SessionData.from_json(data)

    async def fork_session(self, session_id: str, message_index: int, *, title: str | None = None) -> SessionData:
        """`message_index` counts stored messages to copy (tool messages included), PROTOCOL §7."""
        body: dict[str, Any] = {"messageIndex": int(message_index)}
        if title:
            body["title"] = title
        data = await self._json("POST", f"/api/sessions/{self._seg(session_id)}/fork", json=body, what="forking the session")
        return SessionData.from_json(data)

    # ------------------------------------------------------------------ messages

    async def list_messages(self, session_id: str) -> list[MessageData]:
        return [MessageData.from_json(m) for m in await self.list_messages_json(session_id)]

    async def list_messages_json(self, session_id: str) -> list[Any]:
        """The session's messages as decoded JSON, not yet parsed (a long history is parsed as it is shown)."""
        data = await self._json("GET", f"/api/sessions/{self._seg(session_id)}/messages", what="loading messages")
        return data if isinstance(data, list) else []

    async def message_history(self, *, limit: int = 50, offset: int = 0) -> list[MessageData]:
        data = await self._json("GET", "/api/messages/history", params={"limit": limit, "offset": offset},
                                what="loading the input history")
        return [MessageData.from_json(m) for m in data or []]

    def _send_body(self, shape: str, text: str, plan_mode: bool) -> dict[str, Any]:
        if shape == "text":
            body: dict[str, Any] = {"text": text}
            if plan_mode:
                body["plan_mode"] = True
            return body
        return {"content": text}  # the seed shape has no plan mode

    async def send_message(self, session_id: str, text: str, *, plan_mode: bool = False,
                           timeout: float | None = None, on_sent: Callable[[], None] | None = None) -> SendResult:
        """POST /api/sessions/{id}/messages. Seed servers answer after the whole turn (200 MessageData),
        latest ones at once (202 processing). No read timeout unless `timeout` is given. `on_sent`: called
        once the request is written (httpcore's trace of the request body)."""
        # The seed shape {content} unless plan mode must be said (only {text, plan_mode} can), or the
        # server already told us (a 400 "unknown field") which one it takes.
        shape = self._send_shape or ("text" if plan_mode else "content")
        path = f"/api/sessions/{self._seg(session_id)}/messages"
        limit = httpx.Timeout(self.timeout, read=timeout)
        for tries in range(2):
            try:
                response = await self._request("POST", path, json=self._send_body(shape, text, plan_mode),
                                               what="sending the message", timeout=limit, extensions=_trace_sent(on_sent))
            except BadRequest as exc:
                other = _other_shape(shape, exc)
                if tries == 0 and other is not None:
                    shape = other
                    continue
                raise
            if tries == 1:
                self._send_shape = shape  # learned from the server's refusal: remembered
                self._vote(shape == "text")
            break
        if response.status_code == 202:
            data = _json_or_empty(response)
            self._vote(True)
            return SendResult(accepted=True, processing=True, status=str(data.get("status", "processing")),
                              session_id=str(data.get("sessionId", session_id)))
        data = _json_or_empty(response)
        message = MessageData.from_json(data) if data else None
        return SendResult(accepted=True, processing=False, message=message, status="ok", session_id=session_id)

    async def stream_message(self, session_id: str, text: str, *, plan_mode: bool = False) -> BroadcastResult:
        """Seed-era streaming send, POST /stream/{id}/message: the turn's events go to the open SSE
        connections of the session (none open: the message is dropped). The inner content is JSON."""
        inner = json.dumps({"text": text, "plan_mode": bool(plan_mode)}, separators=(",", ":"))
        data = await self._json("POST", f"/stream/{self._seg(session_id)}/message", json={"content": inner},
                                what="sending the message to the stream")
        return BroadcastResult.from_json(data)

    # ------------------------------------------------------------------ files

    def _files(self, session_id: str) -> str:
        return f"/api/sessions/{self._seg(session_id)}/files"

    async def list_files(self, session_id: str, *, include_hidden: bool = False) -> list[FileInfo]:
        """The session's files; the server's thumbnail cache folder is left out unless asked for."""
        data = await self._json("GET", self._files(session_id), what="listing files")
        files = [FileInfo.from_json(f) for f in data or []]
        if include_hidden:
            return files
        hidden = [f for f in files if f.name == THUMBNAILS_DIR]
        if any(f.url for f in files):
            self._vote(True)
        return [f for f in files if f not in hidden]

    async def upload_file(
        self,
        session_id: str,
        source: str | os.PathLike[str] | bytes | BinaryIO,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileInfo:
        """Multipart upload (field `file`). `source` is a path, bytes or a binary file object;
        `progress(sent, total)` is called as httpx reads the file."""
        import io

        close_after = None
        if isinstance(source, (bytes, bytearray)):
            raw: BinaryIO = io.BytesIO(bytes(source))
            total = len(source)
            name = filename or "upload.bin"
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            try:
                raw = close_after = path.open("rb")
            except OSError as exc:
                raise ApiError(f"Could not read {path}: {exc.strerror or exc}") from None
            total = path.stat().st_size
            name = filename or path.name
        else:
            raw = source
            try:
                pos = raw.tell()
                raw.seek(0, 2)
                total = raw.tell() - pos
                raw.seek(pos)
            except (OSError, AttributeError):
                total = 0
            name = filename or os.path.basename(getattr(raw, "name", "") or "upload.bin")
        kind = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        body: Any = _ProgressReader(raw, total, progress) if progress else raw
        try:
            data = await self._json("POST", f"{self._files(session_id)}/upload", files={"file": (name, body, kind)},
                                    what=f"uploading {name}", timeout=httpx.Timeout(self.timeout, write=None, read=None))
        finally:
            if close_after is not None:
                close_after.close()
        info = FileInfo.from_json(data)
        if info.url:
            self._vote(True)
        return info

    async def get_file(self, session_id: str, filename: str, *, thumb: str | int | None = None,
                       time: float | None = None) -> FileContent:
        """A file's bytes; `thumb` = N (fit N×N), "wN" or "hN" (N 16…1024) for a JPEG thumbnail,
        `time` = the video frame in seconds."""
        params: dict[str, Any] = {}
        if thumb is not None:
            params["thumb"] = str(thumb)
            if time is not None:
                params["time"] = f"{time:g}"
        response = await self._request("GET", f"{self._files(session_id)}/{self._seg(filename)}", params=params or None,
                                       what=f"fetching {filename}")
        return FileContent(response.content, response.headers.get("content-type", ""))

    async def delete_file(self, session_id: str, filename: str) -> None:
        await self._request("DELETE", f"{self._files(session_id)}/{self._seg(filename)}", what=f"deleting {filename}")

    # ------------------------------------------------------------------ the event stream

    def stream(self, session_id: str, *, heartbeat: float | None = None, reconnect: ReconnectPolicy | None = None,
               resync: bool = True) -> AsyncIterator[ev.Event]:
        """Typed events of one session, reconnecting as needed, for as long as the caller iterates.
        Also yields `ConnectionChanged` and, after each reconnect, `Resynced` with the messages."""
        return run_stream(self, session_id, heartbeat=heartbeat or self.heartbeat, policy=reconnect or self.reconnect,
                          resync=resync)


def _json_or_empty(response: httpx.Response) -> dict:
    try:
        data = response.json() if response.content.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _other_shape(shape: str, exc: BadRequest) -> str | None:
    """The send shape to retry with, when the 400 says the server does not know a key we sent."""
    said = (getattr(exc, "server_message", "") or str(exc)).lower()
    if "unknown field" not in said:
        return None
    if shape == "content" and '"content"' in said:
        return "text"
    if shape == "text" and ('"text"' in said or '"plan_mode"' in said):
        return "content"
    return None


def _trace_sent(on_sent: Callable[[], None] | None) -> dict[str, Any]:
    """httpx request extensions that call `on_sent` once the request body is written. The headers and
    the body go out in two writes with a turn of the event loop between them: drawing the message in
    that turn held the body (and so the answer) back by the length of the drawing."""
    if on_sent is None:
        return {}

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            on_sent()

    return {"trace": trace}
