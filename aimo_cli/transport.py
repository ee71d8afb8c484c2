"""aimo's direct HTTP/1.1 transport (under WordPressClient): an httpx transport that speaks HTTP/1.1 on a socket itself.

Why: a fleet run sends one request per site, each on a fresh connection to another host, and the general machinery
costs several times the exchange itself: httpx's own transport (httpcore, h11, a connection pool per client) about
1 ms of CPU per request here, the standard library's http.client (an email parser for the headers) a third of that.
This one writes the request and reads the answer with a few byte operations.

What stays with WordPressClient (client.py), whatever the transport: the origin pin checked on every request before
it is sent, redirects never followed here, answers parsed and validated there, credentials only on the pinned
origin. This transport moves bytes: TLS with the SSL context it is given (verification and host name checks:
aimo_cli/tls.py), the timeouts the request carries (httpx's `timeout` extension: connect, read, write), strict
framing (Content-Length or chunked, else to the end of the connection; a cut-off body is an error, never a short
answer), bounded answers (headers ≤ MAX_HEAD, a body ≤ MAX_BODY: an endless answer is an error, never all of aimo's
memory; a compressed body is inflated here, within the same bound: decoded_response), and its errors as httpx's
exceptions, so WordPressClient handles them as before.

One transport serves one WordPressClient (one origin): it keeps an idle connection for the client's next request (a
push reads, then writes) and closes it with the client, so no connection is ever shared between two sites.
"""

from __future__ import annotations

import re
import socket
import threading

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HEAD = 64 * 1024  # a status line and headers longer than this are not a WordPress answer
MAX_BODY = 16 * 1024 * 1024  # nor is a body longer than this (a status with its change log is tens of KiB): a
# hostile or broken site that streams without end gets an error, not all of aimo's memory
_RECV = 64 * 1024
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
_NO_BODY = (204, 304)


class DirectTransport(httpx.BaseTransport):
    accept_encoding = b"gzip, deflate"  # what WordPressClient's bodiless reads ask for (ACCEPT_ENCODING)

    def __init__(self, ssl_context=None) -> None:
        self._ssl_context = ssl_context  # for https:// (None or False only in tests: then https is refused)
        self._idle: list[tuple[tuple, socket.socket]] = []
        self._lock = threading.Lock()  # the doctor sends two requests at once on one client

    # -- one exchange ----------------------------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.", request=request)
        key = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[scheme])
        if "accept-encoding" in request.headers:  # only what decoded_response can decode within the cap
            request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        head = _request_head(request)
        status, reason, headers, body = self.exchange(key, head + request.content, request.method, request.extensions.get("timeout") or {}, request)
        return decoded_response(request, status, headers, body, {"http_version": b"HTTP/1.1", "reason_phrase": reason})

    def exchange(self, key: tuple, data: bytes, method: str, timeout: dict, request=None) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        """Send `data` (a request's head and body, made by request_head) to the origin `key` (scheme, host, port)
        and read the answer: (status, reason, headers, body). WordPressClient's way in without httpx's Request and
        Response objects (its bodiless reads); the errors are httpx's, as from handle_request."""
        sock = self._take(key) or self._connect(key, timeout.get("connect"), request)
        reusable = False
        try:
            try:
                sock.settimeout(timeout.get("write"))
                sock.sendall(data)
            except socket.timeout:
                raise httpx.WriteTimeout("timed out", request=request) from None
            except OSError as exc:
                raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from None
            try:
                sock.settimeout(timeout.get("read"))
                status, reason, headers, body, reusable = _read_response(sock, method)
            except socket.timeout:
                raise httpx.ReadTimeout("timed out", request=request) from None
            except _Protocol as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            except OSError as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from None
        finally:
            if reusable:
                with self._lock:
                    self._idle.append((key, sock))
            else:
                _close(sock)
        return status, reason, headers, body

    @staticmethod
    def request_head(method: str, target: bytes, headers, request=None) -> bytes:
        """The module's request_head (for a caller that has the transport, not the module)."""
        return request_head(method, target, headers, request)

    # -- connections -----------------------------------------------------------------------------------------------
    def _take(self, key: tuple) -> socket.socket | None:
        """An idle connection to `key` the server has not closed meanwhile (else None)."""
        while True:
            with self._lock:
                if not self._idle:  # (a fleet's client: nothing kept yet)
                    return None
                found = next((i for i, (k, _) in enumerate(self._idle) if k == key), None)
                if found is None:
                    return None
                _, sock = self._idle.pop(found)
            if _still_open(sock):
                return sock
            _close(sock)

    def _connect(self, key: tuple, connect_timeout: float | None, request: httpx.Request) -> socket.socket:
        scheme, host, port = key
        if scheme == "https" and not self._ssl_context:
            raise httpx.ConnectError("no TLS context for an https:// request", request=request)
        sock = None
        try:
            # the host as bytes: it is ASCII already (httpx's raw host); a str goes through the idna codec on every
            # connect, and its first use imports it (encodings.idna, stringprep) on the way to the first request
            sock = socket.create_connection((host.encode("ascii"), port), timeout=connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":  # the handshake within the connect timeout; certificate and host name verified
                sock = self._ssl_context.wrap_socket(sock, server_hostname=host)
            return sock
        except socket.timeout:
            _close(sock)
            raise httpx.ConnectTimeout("timed out", request=request) from None
        except OSError as exc:  # refused, unreachable, a name that does not resolve, a certificate that does not verify
            _close(sock)
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, sock in idle:
            _close(sock)


ACCEPT_ENCODING = DirectTransport.accept_encoding.decode("ascii")
_INFLATE = {b"gzip": (31,), b"x-gzip": (31,), b"deflate": (15, -15)}  # zlib wbits: gzip; zlib-wrapped, else raw deflate


def decoded_response(request: httpx.Request, status: int, headers: list[tuple[bytes, bytes]], body: bytes, extensions: dict | None = None) -> httpx.Response:
    """The answer with its Content-Encoding undone here, within MAX_BODY: a small compressed body can stand for
    gigabytes (a "zip bomb": 300 KB of gzip is 300 MB of zeros), and httpx would inflate it whole, without a bound.
    The decoded body is handed on with Content-Encoding and Content-Length dropped, so nothing inflates it again.
    A coding aimo did not ask for (anything but gzip and deflate), or a corrupt compressed body, is an error."""
    pairs = list(headers)
    codings = [t.strip().lower() for k, v in pairs if k.lower() == b"content-encoding" for t in v.split(b",") if t.strip()]
    codings = [c for c in codings if c != b"identity"]
    if codings and body:
        for coding in reversed(codings):  # the last coding applied is undone first
            if coding not in _INFLATE:
                raise httpx.DecodingError(f"the answer is compressed with {coding.decode('latin-1')[:20]!r}, which aimo did not ask for", request=request)
            body = _inflate(body, coding, request)
    if codings:
        pairs = [(k, v) for k, v in pairs if k.lower() not in (b"content-encoding", b"content-length")]
    return httpx.Response(status, headers=pairs, stream=httpx.ByteStream(body), request=request, extensions=extensions or {})


def _inflate(data: bytes, coding: bytes, request: httpx.Request) -> bytes:
    import zlib

    error = None
    for wbits in _INFLATE[coding]:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(data, MAX_BODY + 1)
            if len(out) > MAX_BODY or inflater.unconsumed_tail:
                raise httpx.DecodingError(_too_long(" once decompressed"), request=request)
            out += inflater.flush()
        except zlib.error as exc:
            error = exc
            continue
        if len(out) > MAX_BODY:
            raise httpx.DecodingError(_too_long(" once decompressed"), request=request)
        return out
    raise httpx.DecodingError(f"the answer's {coding.decode()} body is corrupt ({error})", request=request)


class _Protocol(Exception):
    """The server's answer is not HTTP/1.1 as it must be (reported as httpx.RemoteProtocolError)."""


def read_capped(response: httpx.Response) -> httpx.Response:
    """An answer another transport streams (httpx's, through a proxy), read within the same bounds as this one's:
    at most MAX_BODY bytes on the wire, decoded by decoded_response. The stream is closed either way."""
    chunks, have = [], 0
    try:
        for chunk in response.iter_raw():
            have += len(chunk)
            if have > MAX_BODY:
                raise httpx.RemoteProtocolError(_too_long(), request=response.request)
            chunks.append(chunk)
    finally:
        response.close()
    whole = decoded_response(response.request, response.status_code, response.headers.raw, b"".join(chunks), dict(response.extensions))
    whole.read()  # in memory already: .content, .text and .json() work at once
    return whole


def _request_head(request: httpx.Request) -> bytes:
    return request_head(request.method, request.url.raw_path, request.headers.raw, request)


_CHECKED: set = set()  # header (name, value) pairs found well-formed: the first few dozen, which include the ones every
# request sends (User-Agent, Accept, Accept-Encoding: a fleet checks them once, not per site); never a credential
_UNKEPT = frozenset({b"authorization", b"cookie", b"proxy-authorization"})  # (checked every time: no copy kept here)


def request_head(method: str, target: bytes, headers, request=None) -> bytes:
    """A request's status line and headers (`headers`: (name, value) byte pairs, Host first), refused when malformed
    (nothing a site sent can inject a header or a request: httpx.LocalProtocolError)."""
    raw_method = method.encode("ascii")
    if not _TOKEN.match(raw_method) or not target or _BAD_VALUE.search(target) or b" " in target:
        raise httpx.LocalProtocolError(f"refusing to send a malformed request line ({method} {target!r})", request=request)
    lines = [raw_method + b" " + target + b" HTTP/1.1"]
    for pair in headers:  # Host first (httpx puts it there), then the rest as given
        name, value = pair
        if pair not in _CHECKED:
            if not _TOKEN.match(name) or _BAD_VALUE.search(value):
                raise httpx.LocalProtocolError(f"refusing to send a malformed header ({name!r})", request=request)
            if len(_CHECKED) < 64 and name.lower() not in _UNKEPT:
                _CHECKED.add(pair)
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _read_response(sock: socket.socket, method: str) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """(status, reason, headers, body, whether the connection may carry another request): `response_reader` fed
    from a blocking socket."""
    reader = response_reader(method)
    send = reader.send
    try:
        next(reader)
        while True:
            send(sock.recv(_RECV))
    except StopIteration as done:
        return done.value


def response_reader(method: str):
    """The answer to one request, read without doing any I/O itself (sans-IO): a generator that is sent each piece of
    bytes the connection gives (b"" at its end) whenever it yields, and returns (status, reason, headers, body,
    whether the connection may carry another request); a malformed, cut-off or too long answer raises _Protocol.
    Start it with next(). The one implementation of the framing rules and caps, for the blocking transport and for
    the fleet's event loop (services/fleet_loop.py)."""
    buf = b""
    while True:
        buf, head = yield from _read_head(buf)
        status, reason, headers, http11 = _parse_head(head)
        if 100 <= status < 200 and status != 101:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            continue
        break
    fields: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        fields.setdefault(name.lower(), []).append(value)
    tokens = b",".join(fields.get(b"connection", [])).lower()
    keep = http11 and b"close" not in [t.strip() for t in tokens.split(b",")]
    if method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return status, reason, headers, b"", keep and not buf
    codings = [t.strip() for t in b",".join(fields.get(b"transfer-encoding", [])).lower().split(b",") if t.strip()]
    if codings:
        if codings[-1] != b"chunked":  # framed by the end of the connection
            body = yield from _read_to_close(buf)
            return status, reason, headers, body, False
        body, rest = yield from _read_chunked(buf)
        return status, reason, headers, body, keep and not rest
    lengths = {v.strip() for v in b",".join(fields.get(b"content-length", [])).split(b",")} if b"content-length" in fields else set()
    if lengths:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise _Protocol("the answer's Content-Length is malformed or contradicts itself")
        length = int(next(iter(lengths)))
        if length > MAX_BODY:
            raise _Protocol(_too_long())
        body, rest = yield from _read_exactly(buf, length)
        return status, reason, headers, body, keep and not rest
    body = yield from _read_to_close(buf)
    return status, reason, headers, body, False


def _read_head(buf: bytes):
    """(what follows the head, the head) — a head ends at an empty line (CRLF or a bare LF tolerated)."""
    start = 0
    while True:
        end = buf.find(b"\n\r\n", start)
        bare = buf.find(b"\n\n", start)
        if end >= 0 and (bare < 0 or end < bare):
            return buf[end + 3 :], buf[: end + 1]
        if bare >= 0:
            return buf[bare + 2 :], buf[: bare + 1]
        if len(buf) > MAX_HEAD:
            raise _Protocol(f"the answer's headers are longer than {MAX_HEAD // 1024} KiB")
        start = max(0, len(buf) - 3)
        data = yield
        if not data:
            raise _Protocol("Server disconnected without sending a response." if not buf.strip() else "the server closed the connection within the answer's headers")
        buf += data


def _parse_head(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]], bool]:
    lines = head.split(b"\n")
    status_line = lines[0].rstrip(b"\r")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise _Protocol(f"the answer does not start with an HTTP/1.1 status line ({status_line[:80]!r})")
    headers = []
    for line in lines[1:]:
        line = line.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            raise _Protocol("the answer folds a header over several lines (obsolete, refused)")
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.match(name):
            raise _Protocol(f"the answer has a malformed header line ({line[:80]!r})")
        headers.append((name, value.strip(b" \t")))
    return int(parts[1]), parts[2] if len(parts) > 2 else b"", headers, parts[0] == b"HTTP/1.1"


def _read_exactly(buf: bytes, n: int):
    chunks, have = [buf], len(buf)
    while have < n:
        data = yield
        if not data:
            raise _Protocol(f"the server closed the connection {n - have} bytes before the end of the answer")
        chunks.append(data)
        have += len(data)
    whole = b"".join(chunks) if len(chunks) > 1 else buf
    return whole[:n], whole[n:]


def _too_long(how: str = "") -> str:
    return f"the answer is longer than {MAX_BODY // (1024 * 1024)} MiB{how}, more than aimo accepts"  # (sites and providers)


def _read_to_close(buf: bytes):
    chunks, have = [buf], len(buf)
    while True:
        if have > MAX_BODY:
            raise _Protocol(_too_long())
        data = yield
        if not data:
            return b"".join(chunks)
        chunks.append(data)
        have += len(data)


def _read_line(buf: bytes):
    while True:
        end = buf.find(b"\n")
        if end >= 0:
            return buf[:end].rstrip(b"\r"), buf[end + 1 :]
        if len(buf) > MAX_HEAD:
            raise _Protocol("a chunk header of the answer is too long")
        data = yield
        if not data:
            raise _Protocol("the server closed the connection within a chunked answer")
        buf += data


def _read_chunked(buf: bytes):
    body, total = [], 0
    while True:
        line, buf = yield from _read_line(buf)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            size = -1
        if size < 0 or not size_text or size_text[:1] in (b"+", b"-"):
            raise _Protocol(f"the answer has a malformed chunk size ({line[:40]!r})")
        if size == 0:
            while True:  # trailer fields, to the empty line
                line, buf = yield from _read_line(buf)
                if not line:
                    return b"".join(body), buf
        total += size
        if total > MAX_BODY:
            raise _Protocol(_too_long())
        data, buf = yield from _read_exactly(buf, size)
        body.append(data)
        line, buf = yield from _read_line(buf)
        if line:
            raise _Protocol("a chunk of the answer does not end where its size says")


def _still_open(sock: socket.socket) -> bool:
    """An idle keep-alive connection is usable while the server has sent nothing on it (no close, no stray bytes)."""
    import selectors

    try:
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            return not sel.select(0)
    except (OSError, ValueError):
        return False


def _close(sock) -> None:
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
