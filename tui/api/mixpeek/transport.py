"""The Mixpeek transport: one API key, one base URL, a current namespace, the 429/503 retry policy,
and typed errors. `MixpeekClient` (client.py) builds its endpoints on `_call`.

A 200 whose body is not JSON (a proxy's page, a cut-off body) is retried like a 503 on calls that
read (GET and the `…/list` listings): one bad page must not lose a listing.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable
from urllib.parse import quote

import httpx

from tui.api.errors import ApiError, ConnectionFailed, ProtocolError, Timeout
from tui.api.mixpeek.errors import MixpeekError, PresignedUrlExpired, UploadStorageError, error_for, parse_envelope
from tui.api.mixpeek.models import RateLimitInfo
from tui.api.mixpeek.retry import RETRY_STATUSES, RetryCallback, RetryNotice, RetryPolicy, parse_retry_after

log = logging.getLogger("tui.api.mixpeek")

DEFAULT_BASE_URL = "https://api.mixpeek.com"


class NamespaceRequired(ApiError):
    """A namespace-scoped call was made before a namespace was chosen."""

    action = "fix-input"


class MissingApiKey(ApiError):
    action = "credentials"


async def maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


def is_read(method: str, path: str) -> bool:
    """Calls that change nothing, so a bad answer may simply be asked again."""
    return method == "GET" or path.split("?", 1)[0].endswith("/list")


class MixpeekTransport:
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
    def from_settings(cls, config: Any, secrets: Any, **kw: Any) -> Any:
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

    async def __aenter__(self) -> Any:
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
                await maybe_await(self.on_retry(notice))
            await policy.sleep(wait)
            total_wait += wait

    def _error(self, response: httpx.Response, method: str, url: str, namespace: str | None, storage: bool) -> MixpeekError:
        # Support asks for the request id; its header name is not documented, so keep any "*request*" header.
        request_headers = {k: v for k, v in response.headers.items() if "request" in k.lower()}
        request_id = next(iter(request_headers.values()), "")
        log.warning("mixpeek %s %s -> HTTP %s %s", method, _path_of(url), response.status_code, request_headers or "")
        if storage and response.status_code == 403 and "expired" in response.text.lower():
            return PresignedUrlExpired(
                "The upload link expired before the file was sent; a new upload is needed.",
                status=403, body=response.text[:2000], method=method, path=_path_of(url),
            )
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
        valid: Callable[[Any], bool] | None = None,
    ) -> Any:
        """One API call's JSON. A read whose 200 body is not JSON (or fails `valid`) is asked again
        with the retry policy's waits, as a 503 would be; a write is never sent twice."""
        headers = self._headers(namespace, scoped)
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        policy = self.retry
        attempt = 0
        total_wait = 0.0
        while True:
            attempt += 1
            response = await self._send(self._http, method, path, headers=headers, params=params, json_body=json_body,
                                        namespace=namespace)
            if response.status_code == 204 or not response.content:
                return {}
            try:
                data = response.json()
                if valid is None or valid(data):
                    return data
                problem = "an answer of the wrong shape"
            except ValueError:
                problem = "something that is not JSON"
            error = ProtocolError(f"Mixpeek sent {problem} for {method} {_path_of(path)}.")
            wait = policy.delay(attempt, None)
            if not is_read(method, path) or attempt >= policy.max_attempts or total_wait + wait > policy.max_total_wait:
                raise error
            notice = RetryNotice(attempt=attempt, wait=wait, status=response.status_code, reason=str(error), method=method,
                                 path=_path_of(path))
            log.info("mixpeek %s %s: malformed body, retry %d in %.1f s", method, notice.path, attempt, wait)
            if self.on_retry is not None:
                await maybe_await(self.on_retry(notice))
            await policy.sleep(wait)
            total_wait += wait


def _seg(value: str) -> str:
    """One URL path segment; ids never contain '/', but names typed by a person might."""
    return quote(value, safe="")


def _path_of(url: str) -> str:
    """The path of a URL, for messages and logs: never the presigned query string (it is a credential)."""
    return httpx.URL(url).path if "://" in url else url.split("?", 1)[0]
