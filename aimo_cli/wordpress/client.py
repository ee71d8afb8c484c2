"""A small WordPress REST client over httpx.

Explicit timeouts; bounded retries for idempotent requests (connect errors, 502/503/504, 429 honouring Retry-After);
TLS verification on; every failure mapped to an AimoError carrying the site's own error code and message; a --debug
log that never shows the Authorization header or a key (everything passes through `redact`).

Origin pinning (docs/security.md): a client is pinned to one origin (scheme, host, port) — the site URL the admin
typed, or the REST root they gave explicitly. Every request is checked in one place, `_send`, the one path every
request of a client takes (redirect hops included, whatever the transport or proxy): a request to any other origin is
refused before it leaves (SafetyError, exit 6), so neither the application password nor a key in a body can reach
another host; the password is added to a request only after that check.

Transport: the client's own HTTP/1.1 transport (transport.py: a fresh connection per client, never shared between
sites), an httpx client picking the proxy when proxy variables are set, or an injected one (`ctx.transport`: tests).
Redirects are never followed on a write (a 307/308 would re-send the body); a read follows only a redirect to the
same origin (or http → https on the same host); any other redirect is an error naming the target.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from .. import redact
from ..core.hosts import DOTTED_QUAD
from ..errors import AuthError, RemoteError, SafetyError
from ..tls import env_proxies, ssl_context

DEFAULT_TIMEOUT = 15.0
CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = {429, 502, 503, 504}
MAX_RETRY_AFTER = 30.0
MAX_REDIRECTS = 5
READ_METHODS = ("GET", "HEAD", "OPTIONS")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, lower-cased, with the scheme's default port filled in."""
    if type(url) is str:  # (the common case: a site's URL, its REST root)
        return _origin_of_text(url)
    if type(url) is _PlainURL:  # (a request to the REST root's parse: its origin, kept)
        return url.origin
    import httpx

    if isinstance(url, (httpx.URL, _PlainURL)):
        return _origin(url)
    return _origin_of_text(str(url))


def _origin(u) -> tuple[str, str, int | None]:
    scheme = u.scheme.lower()
    return scheme, (u.host or "").lower(), u.port or _DEFAULT_PORTS.get(scheme)


@functools.lru_cache(maxsize=4096)
def _origin_of_text(url: str) -> tuple[str, str, int | None]:
    """The same for a URL given as text, parsed once per process: a fleet checks each site's URLs several times, and
    httpx's URL parser is not cheap (an invalid URL raises, and is not cached)."""
    parsed = _parsed_url(url)
    return parsed.origin if type(parsed) is _PlainURL else _origin(parsed)


@functools.lru_cache(maxsize=4096)
def _parsed_url(url: str):
    """httpx's parse of `url`, once per process (a site's REST root: its origin checked, its routes requested); a
    plain URL's parts without it (_PlainURL: the same values, a tenth of the cost; a fleet parses one per site)."""
    plain = plain_url(url)
    if plain is not None:
        return plain
    import httpx

    return httpx.URL(url)


@functools.lru_cache(maxsize=4096)
def plain_url(url: str) -> "_PlainURL | None":
    """`url`'s parts when it is a plain URL (_PlainURL), else None; once per process (a site's URL is checked, then
    its client pinned to it)."""
    return _PlainURL.of(url)


# A URL whose parse is plain to see: http or https, lower case; a host name of lower-case ASCII letters, digits and
# inner hyphens (no IDNA "xn--" label), or a dotted-quad IPv4 address without leading zeros; a port that is not the
# scheme's default (httpx drops that one); a path of segments of letters, digits and _ ~ . - (no "." or ".." segment:
# httpx removes those), no user, query or fragment. For those httpx's parse changes nothing: each part is the text.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_URL = re.compile(rf"(https?)://((?:{_LABEL}\.)*{_LABEL})(?::([1-9][0-9]{{0,4}}))?((?:/[A-Za-z0-9_~.-]*)*)\Z")
_DIGITS_AND_DOTS = re.compile(r"[0-9.]+\Z")


class _PlainURL:
    """The parts of a plain URL (see _PLAIN_URL) that httpx.URL would give, as it gives them."""

    __slots__ = ("scheme", "host", "port", "raw_host", "netloc", "raw_path", "_text", "origin")
    query = b""
    fragment = ""

    def __init__(self, text: str, scheme: str, host: str, port: int | None, path: str) -> None:
        self._text = text
        self.scheme, self.host, self.port = scheme, host, port
        self.origin = (scheme, host, port or _DEFAULT_PORTS[scheme])  # origin_of's (the scheme and host lower case already)
        self.raw_host = host.encode("ascii")
        self.netloc = self.raw_host if port is None else b"%s:%d" % (self.raw_host, port)
        self.raw_path = path.encode("ascii") or b"/"

    @classmethod
    def of(cls, text: str) -> "_PlainURL | None":
        m = _PLAIN_URL.match(text) if isinstance(text, str) else None
        if m is None:
            return None
        scheme, host, port_text, path = m.groups()
        if "xn--" in host or (_DIGITS_AND_DOTS.match(host) and not DOTTED_QUAD.match(host)):
            return None
        port = int(port_text) if port_text else None
        if port is not None and (port > 65535 or port == _DEFAULT_PORTS[scheme]):
            return None
        if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
            return None
        return cls(text, scheme, host, port, path)

    def __str__(self) -> str:
        return self._text


_PLAIN_ROUTE = re.compile(r"[A-Za-z0-9_/-]*\Z")


def under(url: str, outer: str) -> bool:
    """`url` is `outer`'s text, a slash and more (a site's REST root under its URL), `outer` an http(s) URL with an
    authority: then both have the same scheme and authority text (an authority ends at the first / ? or #), so the same
    origin, without parsing either."""
    return isinstance(url, str) and isinstance(outer, str) and _HAS_AUTHORITY.match(outer) is not None and url.startswith(outer.rstrip("/") + "/")


_HAS_AUTHORITY = re.compile(r"(?i)https?://[^/?#]")


def origin_label(url) -> str:
    scheme, host, port = origin_of(url)
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS.get(scheme) or port is None else f":{port}")


def same_origin_or_upgrade(pin: tuple[str, str, int | None], url) -> bool:
    """True for the pinned origin itself, and for https on the same host when the pin is plain http (an upgrade)."""
    target = origin_of(url)
    if target == pin:
        return True
    return pin[0] == "http" and target[0] == "https" and target[1] == pin[1]


@dataclass(frozen=True)
class RestRoot:
    """Where a site's REST API lives: a path root (`…/wp-json/`) or the query form (`…/?rest_route=`)."""

    base: str
    query_style: bool = False

    @classmethod
    def parse(cls, value: str) -> "RestRoot":
        if "rest_route=" in value:
            return cls(value.split("rest_route=")[0].rstrip("?&"), True)
        return cls(value if value.endswith("/") else value + "/", False)

    def url_and_params(self, route: str, params: dict | None) -> tuple[str, dict]:
        route = "/" + route.lstrip("/")
        params = dict(params or {})
        if self.query_style:
            params = {"rest_route": route, **params}
            return self.base, params
        return self.base + route.lstrip("/"), params

    def __str__(self) -> str:
        return self.base + ("?rest_route=" if self.query_style else "")


@dataclass(frozen=True)
class RestResponse:
    status: int
    data: Any
    headers: dict[str, str]


# JSON fields that carry a secret in the bridge's and core's answers (`key` of /aimo/v1/credentials/ID, every
# `*_api_key` setting, passwords): the debug log masks their values even when aimo has never seen the secret (a key
# changed in wp-admin, fetched by a pull), and even when the log's 400-character cut falls inside the value.
_SECRET_FIELD_RE = re.compile(r'("(?:key|api_key|[A-Za-z0-9_]*_api_key|password|app_password|secret|token)"\s*:\s*")((?:[^"\\]|\\.)*)("?)')


def scrub_secrets(text: str) -> str:
    """Mask the values of secret-named JSON fields (keeping a WordPress mask or an empty value as it is)."""

    def mask(m: re.Match) -> str:
        value = m.group(2)
        if not value or "\u2022" in value or "\\u2022" in value:
            return m.group(0)
        return m.group(1) + "[redacted]" + m.group(3)

    return _SECRET_FIELD_RE.sub(mask, text)


def _is_loopback(host: str) -> bool:
    import ipaddress

    host = (host or "").lower().strip("[]")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _site_label(url: str) -> str:
    plain = plain_url(url) if isinstance(url, str) else None
    if plain is not None:  # (its parse, kept for the client's pin: urlsplit's scheme and netloc are its own)
        return f"{plain.scheme}://{plain.netloc.decode('ascii')}"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _wp_error(data: Any) -> tuple[str, str]:
    """The site's error code and message, made inert here where they enter aimo (and again at output)."""
    if isinstance(data, dict):
        return _plain(str(data.get("code") or "")), _plain(str(data.get("message") or ""))
    return "", ""


def _retry_after(value: str | None, attempt: int) -> float:
    if value:
        try:
            return min(max(float(value), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
        from email.utils import parsedate_to_datetime

        try:
            delta = parsedate_to_datetime(value).timestamp() - time.time()
            return min(max(delta, 0.0), MAX_RETRY_AFTER)
        except (TypeError, ValueError):
            pass
    return min(0.5 * (2**attempt), 8.0)


class WordPressClient:
    def __init__(
        self,
        root: RestRoot,
        user: str | None = None,
        password: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        retries: int = 2,
        debug: Callable[[str], None] | None = None,
        transport=None,
        sleep: Callable[[float], None] = time.sleep,
        origin: str | None = None,
        proxies: bool | None = None,
    ) -> None:
        """`proxies`: whether proxy settings apply (tls.env_proxies), when the caller read them already (a fleet reads
        them once for all its sites); None reads them."""
        import httpx

        redact.register(password)
        self.root = root
        self.site = _site_label(root.base)
        # the one origin this client may talk to: the site URL the admin typed (default: the REST root's own); a REST
        # root under that URL has its origin (its parse serves the requests too: _route_url)
        pin = origin or root.base
        self.origin = origin_of(root.base if under(root.base, pin) else pin)
        if not same_origin_or_upgrade(self.origin, root.base):
            raise SafetyError(
                f"the REST root {root} is not on the site's origin {origin_label(origin or root.base)} (it is on {origin_label(root.base)})",
                "aimo sends the application password only to the origin of the site URL; add the site again (aimo site add NAME URL), "
                "or accept that REST root explicitly with --rest-root URL.",
            )
        self.retries = retries
        self._debug = debug
        self._sleep = sleep
        self.request_count = 0
        self._count_lock = threading.Lock()  # the doctor sends two requests at once
        self._auth = _basic_auth(user, password) if user and password else None
        self._user_agent = f"aimo/{_version()}"
        connect = min(CONNECT_TIMEOUT, timeout)
        self._timeout = {"connect": connect, "read": timeout, "write": timeout, "pool": timeout}  # httpx's timeout extension
        self._cookies = None  # an httpx.Cookies jar once the site sets a cookie (sent back on this client's next requests)
        self._direct = None  # the client's own transport (transport.py), when it is the one under this client
        if env_proxies() if proxies is None else proxies:  # the proxy settings (and NO_PROXY) as httpx applies them: its client picks the transport
            self._transport = _ClientTransport(
                httpx.Client(verify=ssl_context(verify), trust_env=True, follow_redirects=False, timeout=httpx.Timeout(timeout, connect=connect), transport=transport)
            )
        elif transport is not None:  # an injected transport (tests, embedding programs: ctx.transport)
            self._transport = transport
        else:
            self._transport = self._direct = _direct_transport()(ssl_context(verify))

    def _pin(self, method: str, url) -> None:
        """The transport-level check: every request this client sends goes to the pinned origin, or nowhere."""
        if not same_origin_or_upgrade(self.origin, url):
            raise SafetyError(
                f"refusing to send {method} to {origin_label(url)}: this client is pinned to {origin_label(self._origin_url())}",
                "aimo sends the application password and keys only to the site's own origin; check the site URL and its REST root (aimo site test).",
            )

    def require_private_transport(self, what: str) -> None:
        """Refuse (exit 6) to read `what` (a raw key) over plain http unless the site is on a loopback address."""
        scheme, host, _ = self.origin
        if scheme == "https" or _is_loopback(host):
            return
        raise SafetyError(
            f"refusing to read {what} from {self.site} over plain http: the key would cross the network in clear text",
            "Use the site over https (aimo site add NAME https://… --user USER); raw keys travel over http only to a loopback site.",
        )

    def _origin_url(self) -> str:
        scheme, host, port = self.origin
        return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "WordPressClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _log(self, text: str) -> None:
        if self._debug:
            self._debug(text)

    # -- requests ------------------------------------------------------------------------------------------------
    def get(self, route: str, params: dict | None = None, **kw) -> Any:
        return self.request("GET", route, params=params, **kw).data

    def get_steps(self, route: str, params: dict | None = None, **kw):
        """`get` as steps (see `request_steps`)."""
        return (yield from self.request_steps("GET", route, params=params, **kw)).data

    def post(self, route: str, body: Any = None, params: dict | None = None, **kw) -> Any:
        return self.request("POST", route, params=params, body=body, **kw).data

    def request(self, method: str, route: str, **kw) -> RestResponse:
        """One request (`request_steps`, its keyword arguments: params, body, retry, expect_json), run in this thread."""
        return drive(self.request_steps(method, route, **kw))

    def request_steps(
        self,
        method: str,
        route: str,
        *,
        params: dict | None = None,
        body: Any = None,
        retry: bool | None = None,
        expect_json: bool = True,
    ):
        """One request, retries and redirects included, as a generator of the steps that wait: an `Exchange` (a
        bodiless read on the client's own transport: it is sent the answer's parts, or thrown the transport's error)
        and a `Sleep` (a retry's back-off). `drive` runs them in this thread (`request`); the fleet's event loop runs
        many at once (services/fleet_loop.py). Everything else (the pin, the password, redirects, errors) happens here,
        the same either way; it returns the RestResponse."""
        import httpx

        url, query = self.root.url_and_params(route, params)
        idempotent = method in ("GET", "HEAD", "OPTIONS") if retry is None else retry
        attempts = (self.retries if idempotent else 0) + 1
        label = f"{method} {route}"
        for attempt in range(attempts):
            self._count()
            if self._debug:  # the line (and its scrubbing) only when asked for: a fleet sends thousands
                self._log(f"→ {method} {url} params={query} body={scrub_secrets(_preview(body))}")
            started = time.monotonic()
            try:
                if method in ("GET", "HEAD", "OPTIONS"):
                    resp = yield from self._send_steps(method, url, params=query, body=body)
                else:
                    from .. import inflight

                    with inflight.write(f"{label} on {self.site}"):  # (a write is never an Exchange step: sent here)
                        resp = self._send(method, url, params=query, body=body)
                if resp.has_redirect_location:
                    resp = yield from self._redirects_steps(resp, method, label)
            except httpx.TimeoutException:
                if attempt + 1 < attempts:
                    yield Sleep(self._sleep, _retry_after(None, attempt))
                    continue
                raise RemoteError(
                    f"{self.site} did not answer {label} in time",
                    "Check that the site is up; a slow site may need a retry later.",
                ) from None
            except httpx.ConnectError as exc:
                if attempt + 1 < attempts:
                    yield Sleep(self._sleep, _retry_after(None, attempt))
                    continue
                raise _connect_error(self.site, exc) from None
            except httpx.TransportError as exc:  # the connection broke (server disconnected, reset): a read may be retried
                if attempt + 1 < attempts:
                    yield Sleep(self._sleep, _retry_after(None, attempt))
                    continue
                raise RemoteError(
                    f"{self.site}: {label} failed: the connection broke before an answer ({type(exc).__name__}: {exc})",
                    "The site or a proxy in front of it cut the connection; check it and retry"
                    + ("." if idempotent else " (a write may have been applied anyway: aimo sync status shows where things are)."),
                ) from None
            except httpx.HTTPError as exc:
                raise RemoteError(f"{self.site}: {label} failed: {type(exc).__name__}: {exc}", "Rerun with --debug for details.") from None
            if self._debug:
                self._log(f"← {resp.status_code} {resp.headers.get('content-type', '')} in {time.monotonic() - started:.2f}s: {scrub_secrets(resp.text[:400])}")
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                yield Sleep(self._sleep, _retry_after(resp.headers.get("retry-after"), attempt))
                continue
            return self._finish(resp, label, expect_json)
        raise AssertionError("unreachable")  # pragma: no cover

    def _redirects_steps(self, resp, method: str, label: str, *, public: bool = False):
        """Follow a read's same-origin redirects (at most MAX_REDIRECTS); refuse every other redirect (exit 5)."""
        hops = 0
        while resp.has_redirect_location:
            target = _redirect_url(resp)
            shown = _plain(str(target))
            if method not in READ_METHODS:
                raise _redirect_error(
                    self.site,
                    label,
                    resp.status_code,
                    shown,
                    "aimo never follows a redirect on a write (it would re-send the body, keys included, to the target).",
                )
            if not same_origin_or_upgrade(self.origin, target):
                why = "https to plain http" if origin_of(target)[0] == "http" and self.origin[0] == "https" else "another origin"
                raise _redirect_error(self.site, label, resp.status_code, shown, f"aimo follows a read's redirect only on the site's own origin, never to {why}.")
            hops += 1
            if hops > MAX_REDIRECTS:
                raise RemoteError(f"{self.site}: {label} redirected more than {MAX_REDIRECTS} times", "Check the site's redirect rules.")
            self._log(f"↪ {resp.status_code} to {shown}")
            resp.close()
            self._count()
            resp = yield from self._send_steps(method, target, public=public)
        return resp

    def _send(self, method: str, url, *, params: dict | None = None, body: Any = None, public: bool = False):
        """`_send_steps` in this thread."""
        return drive(self._send_steps(method, url, params=params, body=body, public=public))

    def _send_steps(self, method: str, url, *, params: dict | None = None, body: Any = None, public: bool = False):
        """Send one request and read its answer: the one path every request of this client takes. The origin pin is
        checked here, on the request as it goes out, before the transport sees it; the application password is added
        only then, and never to a credential-free (`public`) request. A bodiless read on the client's own transport
        is an `Exchange` step (`_direct_request`); every other request is sent here, through httpx's objects."""
        import httpx

        if self._direct is not None and method in READ_METHODS and body is None and not public and self._cookies is None:
            target, key, headers, data = self._direct_request(method, url, params)
            status, reason, raw, content = yield Exchange(self._direct, key, data, method, self._timeout)
            return self._direct_answer(method, target, headers, status, reason, raw, content)
        headers = {"User-Agent": self._user_agent, "Accept": "*/*" if public else "application/json", "Accept-Encoding": "gzip, deflate"}
        request = httpx.Request(method, url, params=params or None, json=body, headers=headers, extensions={"timeout": self._timeout})
        self._pin(request.method, request.url)
        if self._auth and not public:
            request.headers["Authorization"] = self._auth
        if self._cookies:
            self._cookies.set_cookie_header(request)
        return self._received(request, self._transport.handle_request(request))

    def _received(self, request, response):
        """An httpx answer read in full, its cookies kept for this client's next requests."""
        import httpx

        try:
            response.read()
        except BaseException:
            response.close()
            raise
        response.request = request
        if "set-cookie" in response.headers:
            if self._cookies is None:
                self._cookies = httpx.Cookies()
            self._cookies.extract_cookies(response)
        return response

    def _direct_request(self, method: str, url, params: dict | None):
        """A bodiless read for the client's own transport: the same request on the wire as httpx writes it (Host
        first, then the client's headers, the password last) and the same pin, checked on the URL the connection is
        made to, before the password is added. (target URL, (scheme, host, port), headers, the request's bytes)"""
        target = self._route_url(url) if not params and isinstance(url, str) else None
        if target is not None:  # a route of the REST root: its parsed URL, the route's path appended
            base, path = target
            target = url
        else:
            import httpx

            base = url if isinstance(url, httpx.URL) else httpx.URL(url)
            if params:
                base = base.copy_merge_params(params)
            target, path = base, base.raw_path
        self._pin(method, base)
        scheme = base.scheme
        if scheme not in _DEFAULT_PORTS:
            import httpx

            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        headers = [(b"Host", base.netloc), (b"User-Agent", self._user_agent.encode("ascii")), (b"Accept", b"application/json"), (b"Accept-Encoding", self._direct.accept_encoding)]
        if self._auth:
            headers.append((b"Authorization", self._auth.encode("ascii")))
        key = (scheme, base.raw_host.decode("ascii"), base.port or _DEFAULT_PORTS[scheme])
        return target, key, headers, self._direct.request_head(method, path, headers)

    def _route_url(self, url: str):
        """(the REST root's parsed URL, the request's path) for `url`, a plain route under a path-style REST root
        (letters, digits, `_`, `-`, `/`): httpx would parse `url` into the root's URL with the route appended to its
        path (nothing to quote, no dot segment, no query); else None. One URL parse per client, not per request."""
        base = self.root.base
        if self.root.query_style or not url.startswith(base) or not _PLAIN_ROUTE.match(url, len(base)):
            return None
        parsed = _parsed_url(base)
        if parsed.query or parsed.fragment or not parsed.raw_path.endswith(b"/"):
            return None
        return parsed, parsed.raw_path + url[len(base) :].encode("ascii")

    def _direct_answer(self, method: str, target, headers, status: int, reason: bytes, raw, content: bytes):
        """The answer to a `_direct_request`, without httpx's Response unless it needs httpx's handling (a
        compressed body, a cookie, a charset other than UTF-8, non-ASCII headers)."""
        answer = _Answer.of(status, raw, content, target)
        if answer is not None:
            return answer
        import httpx

        request = httpx.Request(method, target, headers=[(k.decode("ascii"), v.decode("ascii")) for k, v in headers[1:]], extensions={"timeout": self._timeout})
        from ..transport import decoded_response  # a compressed body inflated within the transport's cap

        return self._received(request, decoded_response(request, status, raw, content, {"http_version": b"HTTP/1.1", "reason_phrase": reason}))

    def _count(self) -> None:
        with self._count_lock:
            self.request_count += 1

    def public_get(self, url: str, params: dict | None = None):
        """A credential-free read on the pinned origin (the feed): None when it is elsewhere, unreachable or redirected away."""
        import httpx

        if not same_origin_or_upgrade(self.origin, url):
            return None
        self._count()
        try:
            resp = self._send("GET", url, params=params, public=True)
            resp = drive(self._redirects_steps(resp, "GET", "GET " + url, public=True))
        except (httpx.HTTPError, RemoteError):
            return None
        return resp

    def _finish(self, resp, label: str, expect_json: bool) -> RestResponse:
        data: Any = None
        text = _text(resp)
        parsed = False
        if text.strip():
            try:
                data = _json(text)
                parsed = True
            except ValueError:
                parsed = False
        headers = dict(resp.headers) if type(resp) is _Answer else {k.lower(): v for k, v in resp.headers.items()}  # (_Answer's: lower case)
        status = resp.status_code
        if 200 <= status < 300:
            if expect_json and not parsed:
                raise _not_json(self.site, label, resp)
            return RestResponse(status, data, headers)
        code, message = _wp_error(data)
        detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        if status == 401:
            raise AuthError(f"{self.site} refused the credentials for {label} ({detail})", "Check the user and application password: aimo site test.")
        if status == 403:
            raise AuthError(
                f"{self.site} denied {label} ({detail})",
                "The user needs the manage_options capability (an Administrator).",
            )
        if not parsed and status >= 400 and "html" in headers.get("content-type", ""):
            raise _not_json(self.site, label, resp)
        error = RemoteError(f"{self.site}: {label} failed ({detail})", _hint_for(status, code))
        error.status = status  # type: ignore[attr-defined]
        error.wp_code = code  # type: ignore[attr-defined]
        raise error


class Exchange:
    """A step of a request (WordPressClient.request_steps): send `data` to the origin `key` on `transport` (the
    client's DirectTransport) and read the answer, within `timeout` (httpx's timeout extension). The step is sent
    back (status, reason, headers, body), or thrown the transport's error (httpx's exceptions)."""

    __slots__ = ("transport", "key", "data", "method", "timeout")

    def __init__(self, transport, key: tuple, data: bytes, method: str, timeout: dict) -> None:
        self.transport, self.key, self.data, self.method, self.timeout = transport, key, data, method, timeout


class Sleep:
    """A step of a request: wait `seconds` (a retry's back-off) with the client's `sleep` (the context's clock)."""

    __slots__ = ("sleep", "seconds")

    def __init__(self, sleep: Callable[[float], None], seconds: float) -> None:
        self.sleep, self.seconds = sleep, seconds


def drive(steps):
    """Run a request's steps (a generator of Exchange and Sleep steps) to their end in this thread; its value."""
    try:
        step = next(steps)
        while True:
            if type(step) is Sleep:
                step.sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                answer = step.transport.exchange(step.key, step.data, step.method, step.timeout)
            except Exception as exc:  # noqa: BLE001 - handed to the request, which maps it (or lets it go)
                step = steps.throw(exc)
                continue
            step = steps.send(answer)
    except StopIteration as done:
        return done.value


_REDIRECTS = (301, 302, 303, 307, 308)


class _Answer:
    """A bodiless read's answer as WordPressClient uses it (the attributes of httpx's Response it reads), built from
    the transport's parts without httpx's Response: ASCII headers by lower-cased name (repeated ones joined as httpx
    joins them), the body as sent."""

    __slots__ = ("status_code", "headers", "content", "_url")

    def __init__(self, status: int, headers: dict[str, str], content: bytes, url) -> None:
        self.status_code = status
        self.headers = headers
        self.content = content
        self._url = url  # the request's URL, as text until a redirect needs it parsed

    @property
    def url(self):
        import httpx

        if not isinstance(self._url, httpx.URL):
            self._url = httpx.URL(self._url)
        return self._url

    @classmethod
    def of(cls, status: int, raw: list[tuple[bytes, bytes]], content: bytes, url) -> "_Answer | None":
        """None when httpx's own handling is needed: a content coding to undo, a cookie to keep, a charset other
        than UTF-8 to decode, a header that is not ASCII."""
        headers: dict[str, str] = {}
        try:
            for name, value in raw:
                key = name.decode("ascii").lower()
                text = value.decode("ascii")
                headers[key] = headers[key] + ", " + text if key in headers else text
        except UnicodeDecodeError:
            return None
        if "content-encoding" in headers or "set-cookie" in headers or not _UTF8_TYPE.match(headers.get("content-type", "")):
            return None
        return cls(status, headers, content, url)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def has_redirect_location(self) -> bool:
        return self.status_code in _REDIRECTS and "location" in self.headers

    @property
    def request(self):  # what _redirect_url reads: the URL the answer came from
        return self

    def close(self) -> None:
        pass


class _ClientTransport:
    """An httpx client used as a transport (when proxy settings apply): it picks the proxy, sends, and nothing else
    (no auth, hooks or redirects of its own: WordPressClient does those). The answer is read within the direct
    transport's bounds (its size cap, compressed bodies inflated within it)."""

    def __init__(self, client) -> None:
        self.client = client

    def handle_request(self, request):
        from ..transport import read_capped

        return read_capped(self.client.send(request, stream=True))

    def close(self) -> None:
        self.client.close()


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + binascii.b2a_base64(f"{user}:{password}".encode(), newline=False).decode("ascii")  # (base64.b64encode's own call)


def _redirect_url(resp):
    """Where a redirect answer points, resolved as httpx resolves it (relative to the request's URL)."""
    import httpx

    location = resp.headers["location"]
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"Invalid URL in location header: {exc}.", request=resp.request) from None
    request_url = resp.request.url
    if url.scheme and not url.host:
        url = url.copy_with(host=request_url.host)
    if url.is_relative_url:
        url = request_url.join(url)
    if request_url.fragment and not url.fragment:
        url = url.copy_with(fragment=request_url.fragment)
    return url


_UTF8_TYPE = re.compile(r"^[^;]*(?:;\s*charset=\"?utf-?8\"?\s*)?$", re.IGNORECASE)


_SCAN = json.JSONDecoder().scan_once  # json.loads's own scanner (C)


def _json(text: str) -> Any:
    """json.loads(text), the scanner called directly when the text is one JSON value and nothing else (an answer as a
    site sends it): json.loads's checks around it (a byte-order mark, white space at either end, more after the value)
    cost a small answer ~1 us; any other text, or a malformed one, goes to json.loads itself (its value, its error)."""
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _text(resp) -> str:
    """The answer as text, as httpx's `resp.text` decodes it (the Content-Type's charset, else UTF-8; bad bytes
    replaced), without its parse of the header for the common cases: no charset, or UTF-8 (every WordPress answer)."""
    if type(resp) is _Answer:  # (its Content-Type is one of those: _Answer.of)
        return resp.content.decode("utf-8", errors="replace")
    if _UTF8_TYPE.match(resp.headers.get("content-type", "")):
        return resp.content.decode("utf-8", errors="replace")
    return resp.text


@functools.cache
def _version() -> str:
    from .. import __version__

    return __version__


@functools.cache
def _direct_transport():
    """transport.DirectTransport, imported on first use (it imports httpx), then at hand (a client per site)."""
    from ..transport import DirectTransport

    return DirectTransport


def _plain(text: str) -> str:
    from ..ui.sanitize import plain

    return plain(text)


def _redirect_error(site: str, label: str, status: int, target: str, why: str) -> RemoteError:
    error = RemoteError(
        f"{site} answered {label} with a redirect (HTTP {status}) to {target}; not followed",
        why + " If the site moved, add it again with its new URL: aimo site add NAME URL.",
    )
    error.status = status  # type: ignore[attr-defined]
    return error


def _preview(body: Any) -> str:
    if body is None:
        return "-"
    return json.dumps(body, default=str)[:400]


def _hint_for(status: int, code: str) -> str:
    if code == "rest_no_route":
        return "The route does not exist on this site: is the plugin that provides it (the aimo bridge?) active?"
    if status == 429:
        return "The site is rate-limiting aimo; wait and retry."
    if status >= 500:
        return "The site failed on its side; check its PHP error log and retry."
    return "Rerun with --debug to see the request and the site's answer."


def _not_json(site: str, label: str, resp) -> RemoteError:
    ctype = resp.headers.get("content-type", "unknown")
    kind = "HTML" if "html" in ctype.lower() or resp.text.lstrip().startswith("<") else f"non-JSON ({ctype})"
    return RemoteError(
        f"{site} answered {label} with {kind} instead of JSON (HTTP {resp.status_code})",
        "A login page, firewall, cache or maintenance page may be in front of the REST API; check the site URL.",
    )


def _connect_error(site: str, exc: Exception) -> RemoteError:
    text = str(exc)
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "temporary failure in name resolution" in lowered or "getaddrinfo" in lowered:
        return RemoteError(f"{site}: the host name does not resolve", "Check the site URL for typos (aimo site list).")
    if "certificate" in lowered or "ssl" in lowered:
        return RemoteError(
            f"{site}: TLS verification failed ({text})",
            "Fix the site's certificate, or trust its CA with --ca-bundle FILE (verification is never turned off).",
        )
    return RemoteError(f"cannot reach {site} ({text or type(exc).__name__})", "Check that the site is up and the URL is right.")
