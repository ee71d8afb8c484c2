"""WordPressClient's own HTTP/1.1 transport (aimo_cli/transport.py) against a raw loopback server that
answers with exact bytes: framing (Content-Length, chunked, to the end of the connection), interim answers,
malformed and cut-off answers as errors (never a short answer taken as whole), keep-alive within one client only,
timeouts, and nothing malformed sent."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from aimo_cli.errors import RemoteError
from aimo_cli.wordpress.client import RestRoot, WordPressClient
from aimo_cli.transport import DirectTransport

JSON = b'{"ok": true}'


class RawServer:
    """Accepts connections; on each, reads requests and answers each with the next of `answers` (bytes; None: close
    the connection without answering). Records every request head and the connection it came on."""

    def __init__(self, answers: list, *, close_after: bool = False) -> None:
        self.answers = list(answers)
        self.close_after = close_after
        self.requests: list[tuple[int, bytes]] = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        buf = b""
        with conn:
            while self.answers:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                self.requests.append((number, head))
                answer = self.answers.pop(0)
                if answer is None:
                    return
                conn.sendall(answer)
                if self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


def _client(server: RawServer, **kw) -> WordPressClient:
    return WordPressClient(RestRoot.parse(server.url + "/wp-json/"), "admin", "abcd efgh ijkl mnop qrst uvwx", retries=0, **kw)


def _ok(body: bytes = JSON, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_the_request_as_sent_and_keep_alive_within_one_client():
    server = RawServer([_ok(), _ok(b'{"n": 2}')])
    with _client(server) as client:
        assert isinstance(client._transport, DirectTransport)
        assert client.get("/aimo/v1/status") == {"ok": True}
        assert client.post("/aimo/v1/mode", {"mode": "managed"}) == {"n": 2}
    assert server.connections == 1  # the second request reused the connection of the first
    first = server.requests[0][1].decode()
    assert first.startswith("GET /wp-json/aimo/v1/status HTTP/1.1\r\n")
    assert f"Host: {server.url[7:]}" in first and "Authorization: Basic " in first and "Accept: application/json" in first
    assert b"Content-Length: 18" in server.requests[1][1] and b"Content-Type: application/json" in server.requests[1][1]
    server.close()


def test_a_connection_is_never_shared_between_two_clients():
    server = RawServer([_ok(), _ok()])
    for _ in range(2):
        with _client(server) as client:
            client.get("/aimo/v1/status")
    assert server.connections == 2
    server.close()


def test_chunked_with_extensions_and_trailers_and_a_bare_lf_head():
    chunked = b"HTTP/1.1 200 OK\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n5;x=y\r\n{\"ok\"\r\n7\r\n: true}\r\n0\r\nX-Trailer: 1\r\n\r\n"
    server = RawServer([chunked, _ok()])
    with _client(server) as client:
        assert client.get("/a") == {"ok": True}
        assert client.get("/b") == {"ok": True}
    assert server.connections == 1
    server.close()


def test_a_body_to_the_end_of_the_connection_and_an_interim_answer():
    server = RawServer([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + JSON], close_after=True)
    with _client(server) as client:
        assert client.get("/a") == {"ok": True}
    server.close()


def test_no_body_for_204_and_head():
    server = RawServer([b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"])
    with _client(server) as client:
        assert client.request("POST", "/a", body={}, expect_json=False).status == 204
        assert client.request("HEAD", "/a", expect_json=False).status == 200
    assert server.connections == 1
    server.close()


@pytest.mark.parametrize(
    "answer, needle",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + JSON, "before the end of the answer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ok\"", "within a chunked answer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n" + JSON, "Content-Length"),
        (b"ICY 200 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "folds a header"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000, "longer than 64 KiB"),
        (None, "Server disconnected without sending a response"),
    ],
)
def test_a_malformed_or_cut_off_answer_is_an_error_never_a_short_answer(answer, needle):
    server = RawServer([answer], close_after=True)
    with _client(server) as client:
        with pytest.raises(RemoteError) as err:
            client.get("/a")
    assert "the connection broke before an answer" in err.value.message and needle in err.value.message
    server.close()


def test_a_keep_alive_connection_the_server_closed_is_replaced():
    server = RawServer([_ok(), _ok()], close_after=True)  # answers, then closes: the idle connection is dead
    with _client(server) as client:
        client.get("/a")
        import time

        time.sleep(0.2)  # the server's close arrives
        assert client.get("/b") == {"ok": True}
    assert server.connections == 2
    server.close()


def test_a_slow_answer_times_out():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)  # accepts (the kernel does) but never answers
    client = WordPressClient(RestRoot.parse(f"http://127.0.0.1:{sock.getsockname()[1]}/wp-json/"), "u", "p p p p p p", retries=0, timeout=0.3)
    with pytest.raises(RemoteError, match="did not answer GET /a in time"):
        client.get("/a")
    client.close()
    sock.close()


def test_nothing_malformed_is_sent():
    transport = DirectTransport()
    for request in (
        httpx.Request("GET", "http://127.0.0.1:9/a", headers={"X-Bad": "a\r\nInjected: 1"}),
        httpx.Request("G T", "http://127.0.0.1:9/a"),
    ):
        with pytest.raises(httpx.LocalProtocolError):
            transport.handle_request(request)
    with pytest.raises(httpx.UnsupportedProtocol):
        transport.handle_request(httpx.Request("GET", "ftp://127.0.0.1:9/a"))


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000,  # announced too long: refused before reading it
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000,  # to the end of the connection, without end
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(b"1f4\r\n" + b"x" * 500 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n",
    ],
    ids=["content-length", "to-close", "chunked"],
)
def test_an_answer_longer_than_the_cap_is_an_error_never_all_of_memory(monkeypatch, answer):
    """A hostile or broken site streaming without end: every framing stops at MAX_BODY (here lowered to 1,000 bytes)."""
    from aimo_cli import transport

    monkeypatch.setattr(transport, "MAX_BODY", 1000)
    server = RawServer([answer], close_after=True)
    with _client(server) as client:
        with pytest.raises(RemoteError) as err:
            client.get("/a")
    assert "longer than" in err.value.message and "more than aimo accepts" in err.value.message, err.value.message
    server.close()
    # at the cap, an answer is whole
    monkeypatch.setattr(transport, "MAX_BODY", len(JSON))
    server = RawServer([_ok()], close_after=True)
    with _client(server) as client:
        assert client.get("/a") == {"ok": True}
    server.close()


def _compressed(body: bytes, coding: str) -> bytes:
    import gzip
    import zlib

    if coding == "gzip":
        return gzip.compress(body)
    if coding == "deflate":  # zlib-wrapped, as RFC 9110 says
        return zlib.compress(body)
    inflater = zlib.compressobj(wbits=-15)  # "raw-deflate": the raw stream some servers send as deflate
    return inflater.compress(body) + inflater.flush()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_answer_is_decoded_and_only_gzip_and_deflate_are_asked_for(coding):
    body = b'{"compressed": "' + b"ab" * 2000 + b'"}'
    name = b"deflate" if coding == "raw-deflate" else coding.encode()
    server = RawServer([_ok(_compressed(body, coding), b"Content-Encoding: " + name + b"\r\n")])
    with _client(server) as client:
        assert client.get("/a") == {"compressed": "ab" * 2000}
    assert b"Accept-Encoding: gzip, deflate\r\n" in server.requests[0][1]
    server.close()


@pytest.mark.parametrize("via_proxy", [False, True], ids=["direct", "proxy"])
def test_a_compressed_answer_is_inflated_within_the_cap_never_all_of_memory(monkeypatch, via_proxy):
    """A "zip bomb": 64 MiB of zeros is 64 KiB of gzip. Inflated within MAX_BODY (here 1 MiB), it is an error; without
    the bound, httpx inflated the whole of it (a 300 KB answer took 1.2 GB of memory). Through a proxy (httpx's
    transport then), the same bounds hold."""
    import gzip
    import resource

    from aimo_cli import transport

    monkeypatch.setattr(transport, "MAX_BODY", 1024 * 1024)
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)
    assert len(bomb) < transport.MAX_BODY  # small on the wire: only the inflating can find it
    server = RawServer([_ok(bomb, b"Content-Encoding: gzip\r\n")] * 3, close_after=True)
    if via_proxy:  # the "proxy" is the raw server: it answers the request meant for the site itself
        monkeypatch.setenv("HTTP_PROXY", server.url)
        client = WordPressClient(RestRoot.parse("http://127.0.0.1:9/wp-json/"), "admin", "abcd efgh ijkl mnop qrst uvwx", retries=0)
        assert not isinstance(client._transport, DirectTransport)
    else:
        client = _client(server)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with client:
        with pytest.raises(RemoteError) as err:
            client.get("/a")
    assert "once decompressed" in err.value.message, err.value.message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 * 1024  # KiB: far below the 64 MiB
    assert server.requests, "the answer came from the raw server"
    server.close()


@pytest.mark.parametrize(
    ("extra", "body", "needle"),
    [
        (b"Content-Encoding: br\r\n", b"\x8b\x02\x80{}\x03", "did not ask for"),
        (b"Content-Encoding: gzip\r\n", b"\x1f\x8b\x08\x00not gzip at all", "corrupt"),
    ],
    ids=["unasked-coding", "corrupt-gzip"],
)
def test_an_answer_aimo_cannot_decode_is_an_error(extra, body, needle):
    server = RawServer([_ok(body, extra)], close_after=True)
    with _client(server) as client:
        with pytest.raises(RemoteError) as err:
            client.get("/a")
    assert needle in err.value.message, err.value.message
    server.close()


# -- the client's way in without httpx's objects: the same request and the same origin as httpx's parse -------------

import re  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from aimo_cli.wordpress.client import origin_of, under  # noqa: E402

_URL_PIECES = st.sampled_from(["http://", "https://", "HTTP://", "", "h", "H", "h.test", "evil", ":80", ":443", ":8080", "/", "//", "?", "#", "@",
                               "a@", "%41", ".", "..", "[::1]", "127.0.0.1", "x", "\\", ":"])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://"]), st.lists(_URL_PIECES, max_size=8).map("".join), st.lists(_URL_PIECES, max_size=6).map("".join))
def test_a_url_under_another_has_its_origin(scheme, outer, rest):
    """`under` (a site's REST root under its URL) implies the same origin as httpx parses it, whatever the text."""
    outer = scheme + outer
    inner = outer.rstrip("/") + "/" + rest
    assert under(inner, outer) == bool(re.match(r"(?i)https?://[^/?#]", outer))  # an http(s) URL with an authority
    assert not under(inner + "x", inner + "xy") and not under(outer, inner + "z")
    if not under(inner, outer):
        return
    try:
        a, b = origin_of(inner), origin_of(outer)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return  # not a URL httpx parses (the client refuses it before any request)
    assert a == b


@pytest.mark.parametrize(
    "base",
    ["http://127.0.0.1:8080/wp-json/", "https://Example.COM/wp-json/", "http://x.test/a/../wp-json/", "http://x.test/sub%20dir/wp-json/",
     "https://bücher.example/wp-json/", "http://[::1]:80/wp-json/", "https://h:443/c/", "http://h/?rest_route=", "http://h/wp-json/?x=1"],
)
def test_a_route_of_the_rest_root_is_requested_as_httpx_would(base):
    """The request line and Host header of a bodiless read are httpx's (the REST root parsed once, the route appended);
    a REST root that is not a plain path (query style, a query) takes httpx's parse of the whole URL."""
    client = WordPressClient(RestRoot.parse(base), "u", "p p p p p p")
    for route in ("/aimo/v1/status", "/wp/v2/settings", "/x_y-z/", "/a.b", "/a b"):
        url, query = client.root.url_and_params(route, None)
        try:
            target, key, headers, data = client._direct_request("GET", url, query)
        except httpx.LocalProtocolError:
            continue  # (a space in the path: refused either way)
        request = httpx.Request("GET", url, params=query or None)
        assert data.split(b"\r\n")[0] == b"GET " + request.url.raw_path + b" HTTP/1.1"
        assert headers[0] == (b"Host", request.url.netloc)
        assert key == (request.url.scheme, request.url.raw_host.decode(), request.url.port or {"http": 80, "https": 443}[request.url.scheme])
    client.close()


_OCTETS = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "010", "127", "0127", "256", "999", "", " 1", "1 ", "0x7f", "+1"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(_OCTETS, min_size=1, max_size=5).map(".".join), st.sampled_from(["", "[", "]"]))
def test_a_loopback_host_is_what_ipaddress_says(host, bracket):
    """is_loopback_host's shortcut for a dotted-quad IPv4 address gives ipaddress's own answer, whatever the text."""
    import ipaddress

    from aimo_cli.core.hosts import is_loopback_host

    host = bracket + host
    try:
        expected = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        expected = False
    assert is_loopback_host(host) == expected
    assert is_loopback_host("127.0.0.1") and is_loopback_host("127.255.0.9") and not is_loopback_host("128.0.0.1") and is_loopback_host("[::1]")


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(_JSON.map(json.dumps), st.sampled_from(["", " ", "\n", "\ufeff", "x", "{", "]", "0", '"'] ), st.sampled_from(["", " ", "\r\n", "x", "}", "1", "[]", '"']))
def test_an_answer_parses_as_json_loads_parses_it(text, before, after):
    """The client's JSON parse of an answer (the scanner called directly when nothing surrounds the value) gives
    json.loads's value, or its error, whatever the text."""
    from aimo_cli.wordpress.client import _json

    for candidate in (text, before + text, text + after, before + text + after, text[: len(text) // 2]):
        try:
            expected = ("value", json.loads(candidate))
        except ValueError as exc:
            expected = ("error", type(exc), str(exc))
        try:
            got = ("value", _json(candidate))
        except ValueError as exc:
            got = ("error", type(exc), str(exc))
        assert repr(got) == repr(expected)


def test_a_request_head_keeps_no_credential_and_checks_every_header(monkeypatch):
    """request_head remembers well-formed header pairs it has seen (the constant ones every request sends), never an
    Authorization or Cookie value, and refuses a malformed header whatever it has seen before."""
    from aimo_cli import transport

    monkeypatch.setattr(transport, "_CHECKED", set())  # (what this process's earlier requests left there aside)

    secret = b"Basic " + b"c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3N3b3Jk"
    head = transport.request_head("GET", b"/x", [(b"Host", b"h"), (b"User-Agent", b"aimo/t"), (b"Authorization", secret), (b"Cookie", b"a=b")])
    assert head.endswith(b"Authorization: " + secret + b"\r\nCookie: a=b\r\n\r\n")
    assert (b"User-Agent", b"aimo/t") in transport._CHECKED
    assert not any(name.lower() in (b"authorization", b"cookie") for name, _ in transport._CHECKED)
    for bad in [(b"User-Agent", b"aimo/t\r\nX: y"), (b"Bad Name", b"v"), (b"Authorization", secret + b"\n")]:
        with pytest.raises(httpx.LocalProtocolError):
            transport.request_head("GET", b"/x", [(b"Host", b"h"), bad])
