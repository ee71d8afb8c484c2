"""The HTTP layer every provider adapter shares (httpx): auth headers, key-pool rotation, retries, error mapping.

- A credential pool rotates round-robin per request and fails over to the next key on 401/403/429.
- 429 and 5xx (and connection failures) are retried with bounded exponential backoff honouring `Retry-After`
  (capped); `sleep` is injectable so tests do not wait.
- A rejected key becomes `AuthError` (exit 4); unreachable, 5xx, rate limits that do not clear and unparseable
  answers become `RemoteError` (exit 5); other 4xx become `ProviderHTTPError` so an adapter can react (a 400 that
  names a rejected parameter is retried once without it).
- Messages quote the provider (parsed defensively) and show a key only as its mask; keys are registered for
  redaction before anything is sent.
- Loopback hosts are reached without any proxy from the environment.
- Transport: without a proxy to apply (a loopback provider, or no proxy variable set), aimo's own HTTP/1.1 transport
  (aimo_cli/transport.py: a connection per client, answers read whole and capped at 16 MiB, the largest model list
  of a real provider being about a MiB); a streamed completion, or a proxy, takes httpx's default transport.
"""

from __future__ import annotations

import itertools
import time
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import httpx

from .. import redact
from ..transport import read_capped
from ..core.provider_errors import describe_http_error, error_message
from ..core.secrets import mask
from ..errors import AuthError, RemoteError

MAX_RETRIES = 3
RETRY_AFTER_CAP = 20.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
LIST_TIMEOUT = 15.0
PROMPT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 5.0
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


class ProviderHTTPError(RemoteError):
    """A 4xx the shared layer did not classify (not auth, not rate limit): the adapter decides."""

    def __init__(self, message: str, status: int, provider_message: str, hint: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.provider_message = provider_message


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


def retry_after_seconds(value: str | None, attempt: int, *, cap: float = RETRY_AFTER_CAP, now: float | None = None) -> float:
    """Seconds to wait before the next attempt: `Retry-After` (seconds or HTTP date) if given, else backoff; capped."""
    if value:
        value = value.strip()
        try:
            return min(max(float(value), 0.0), cap)
        except ValueError:
            pass
        try:
            delta = parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now)
            return min(max(delta, 0.0), cap)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return min(BACKOFF_BASE * (2**attempt), BACKOFF_CAP, cap)


from ..tls import env_proxies, ssl_context  # noqa: E402,F401  (shared with the WordPress client)


def SLEEP(seconds: float) -> None:
    """The sleep between retries when none is injected (tests replace this module attribute)."""
    time.sleep(seconds)


def _default_auth_failure(status: int, message: str) -> bool:
    return status in (401, 403)


class ProviderClient:
    """One provider's connection: a base URL, a key pool and the policies above."""

    _counter = itertools.count()

    def __init__(
        self,
        *,
        provider: str,
        name: str,
        base_url: str,
        pool: Iterable[str] = (),
        auth: str = "bearer",  # "bearer", "x-api-key" or "none"
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
        max_retries: int = MAX_RETRIES,
        retry_after_cap: float = RETRY_AFTER_CAP,
        timeout: float = PROMPT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        verify: bool | str = True,
        is_auth_failure: Callable[[int, str], bool] = _default_auth_failure,
        log: Callable[[str], None] | None = None,
        console_hint: str | None = None,
    ) -> None:
        self.provider = provider
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.pool = tuple(pool)
        redact.register(*self.pool)
        self.auth = auth
        self.headers = dict(headers or {})
        self.sleep = sleep if sleep is not None else (lambda seconds: SLEEP(seconds))
        self.max_retries = max_retries
        self.retry_after_cap = retry_after_cap
        self.is_auth_failure = is_auth_failure
        self.log = log or (lambda _text: None)
        self.console_hint = console_hint
        self._start = next(self._counter)
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._verify = verify
        self._proxied = not is_loopback(self.base_url) and env_proxies()
        self._streaming: httpx.Client | None = None
        if self._proxied:
            self._client = self._httpx_client()
        else:  # aimo's own HTTP/1.1 transport (no httpcore, no connection pool): answers read whole, size-capped
            from ..transport import DirectTransport

            self._client = httpx.Client(timeout=self._timeout, trust_env=False, follow_redirects=False, transport=DirectTransport(ssl_context(verify)))

    def _httpx_client(self) -> httpx.Client:
        """An httpx client with its default transport: it picks the proxy from the environment and can stream."""
        return httpx.Client(timeout=self._timeout, trust_env=self._proxied, verify=ssl_context(self._verify), follow_redirects=False)

    def _sender(self, stream: bool) -> httpx.Client:
        """The client for one request: a streamed answer (`ask` prints completions as they come) needs httpx's own
        transport, built on the first such request; everything else goes through the client built above."""
        if not stream or self._proxied:
            return self._client
        if self._streaming is None:
            self._streaming = self._httpx_client()
        return self._streaming

    def close(self) -> None:
        self._client.close()
        if self._streaming is not None:
            self._streaming.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        if not key or self.auth == "none":
            return {}
        if self.auth == "x-api-key":
            return {"x-api-key": key}
        return {"Authorization": f"Bearer {key}"}

    def _keys(self, key: str | None, use_auth: bool) -> list[str | None]:
        if key is not None:
            redact.register(key)
            return [key]
        if not use_auth or not self.pool or self.auth == "none":
            return [None]
        start = self._start % len(self.pool)
        self._start += 1
        return list(self.pool[start:] + self.pool[:start])

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        auth: bool = True,
        key: str | None = None,
        stream: bool = False,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send with retries and failover; return a successful response (for `stream`, unread: close it)."""
        url = self.url(path)
        keys = self._keys(key, auth)
        ki = 0
        attempt = 0
        label = self._label(url)
        while True:
            current = keys[ki]
            hdrs = {**self.headers, **(headers or {}), **self._auth_headers(current)}
            if stream:  # read line by line within bounds (providers/stream.py): nothing compressed to inflate
                hdrs["Accept-Encoding"] = "identity"
            extra = {"timeout": timeout} if timeout is not None else {}
            client = self._sender(stream)
            req = client.build_request(method, url, json=json, params=params, headers=hdrs, **extra)
            try:
                resp = client.send(req, stream=True)
                if not stream:  # whole, within the transport's cap, inflated within it (through a proxy too)
                    resp = read_capped(resp)
            except httpx.DecodingError as exc:
                raise RemoteError(f"{self.name} answered {label} with something aimo cannot read: {exc}", self._net_hint()) from None
            except httpx.TimeoutException as exc:
                if attempt < self.max_retries and not isinstance(exc, httpx.ConnectTimeout):
                    self._wait(None, attempt, f"{method} {label}: timed out")
                    attempt += 1
                    continue
                raise RemoteError(f"{self.name} did not answer in time ({type(exc).__name__} at {label})", self._net_hint()) from None
            except httpx.TransportError as exc:
                if attempt < self.max_retries and not isinstance(exc, httpx.ConnectError):
                    self._wait(None, attempt, f"{method} {label}: {type(exc).__name__}")
                    attempt += 1
                    continue
                reason = redact.redact(str(exc)) or type(exc).__name__
                raise RemoteError(f"cannot reach {self.name} at {label}: {reason}", self._net_hint()) from None
            status = resp.status_code
            self.log(f"{method} {label} -> HTTP {status}")
            if status < 400:
                return resp
            if stream:
                try:
                    resp = read_capped(resp)
                except httpx.HTTPError as exc:
                    raise RemoteError(f"{self.name} answered {label} with HTTP {status} and a body aimo cannot read: {exc}", self._net_hint()) from None
            body = resp.content
            resp.close()
            ctype = resp.headers.get("content-type")
            said = error_message(body, ctype)
            if self.is_auth_failure(status, said):
                if ki + 1 < len(keys):
                    self.log(f"{self.name} refused key {mask(current)}; trying the next key in the pool")
                    ki += 1
                    continue
                which = f" {mask(current)}" if current else ""
                raise AuthError(
                    f"{self.name} rejected the key{which}: " + describe_http_error(self.name, status, body, ctype),
                    f"Check or replace it: aimo keys set {self.provider}" + (f" (keys: {self.console_hint})" if self.console_hint else ""),
                )
            if status == 429:
                if ki + 1 < len(keys):
                    self.log(f"{self.name} rate-limited key {mask(current)}; trying the next key in the pool")
                    ki += 1
                    continue
                if attempt < self.max_retries:
                    self._wait(resp.headers.get("retry-after"), attempt, f"{self.name} rate-limited (429)")
                    attempt += 1
                    continue
                raise RemoteError(describe_http_error(self.name, status, body, ctype), "The provider is rate-limiting: wait, or add keys to the pool (one per line).")
            if status >= 500 or status == 408:
                if attempt < self.max_retries:
                    self._wait(resp.headers.get("retry-after"), attempt, f"{self.name} answered {status}")
                    attempt += 1
                    continue
                raise RemoteError(describe_http_error(self.name, status, body, ctype), f"{self.name} is failing; try again later.")
            raise ProviderHTTPError(describe_http_error(self.name, status, body, ctype), status, said)

    def get_json(self, path: str, **kw) -> Any:
        resp = self.request("GET", path, **kw)
        return self.parse_json(resp)

    def post_json(self, path: str, body: Any, **kw) -> Any:
        resp = self.request("POST", path, json=body, **kw)
        return self.parse_json(resp)

    def parse_json(self, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            snippet = error_message(resp.content, resp.headers.get("content-type"), limit=120)
            raise RemoteError(
                f"{self.name} answered {self._label(str(resp.request.url))} with something that is not JSON" + (f": \u201c{snippet}\u201d" if snippet else ""),
                "Check the provider's base_url in aimo.toml (a proxy or captive portal may be answering).",
            ) from None

    def _wait(self, retry_after: str | None, attempt: int, why: str) -> None:
        delay = retry_after_seconds(retry_after, attempt, cap=self.retry_after_cap)
        self.log(f"{why}; retrying in {delay:.2f}s (attempt {attempt + 2} of {self.max_retries + 1})")
        self.sleep(delay)

    def _label(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def _net_hint(self) -> str:
        return f"Check the network, or the base_url under [providers.{self.provider}] in aimo.toml."
