"""The fleet's event loop (services/fleet_loop.py) reads sites exactly as the blocking client does: the same answers
and the same errors for every framing, malformed or cut-off answer (transport.response_reader is the one parser),
TLS verified with the client's context, the request's timeouts, a retry's back-off, keep-alive within one client
only, addresses and host names as socket.create_connection takes them, at most --jobs connections at once, the
outcomes in the sites' order."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from aimo_cli.services import fleet, fleet_loop
from aimo_cli.wordpress.client import RestRoot, WordPressClient, drive

from .test_direct_transport import JSON, RawServer, _ok
from .test_tls_default_trust import tls_server  # noqa: F401 - a fixture

PASSWORD = "abcd efgh ijkl mnop qrst uvwx"


def _loop(sites, steps, **kw):
    return fleet_loop.run(sites, steps, fleet.outcome, **kw)


def _client(url: str, **kw) -> WordPressClient:
    kw.setdefault("retries", 0)
    return WordPressClient(RestRoot.parse(url + "/wp-json/"), "admin", PASSWORD, **kw)


def _both(make_client, route: str = "/a", n: int = 1):
    """The outcome of GET `route` by `drive` (the blocking client) and by the loop, each with clients of its own:
    (value or error message) pairs."""

    def steps(site):
        def run():
            with make_client() as client:
                return (yield from client.get_steps(route))

        return run()

    blocking = []
    for i in range(n):
        try:
            blocking.append(("ok", drive(steps(None))))
        except Exception as exc:  # noqa: BLE001 - compared below
            blocking.append(("error", getattr(exc, "message", str(exc))))
    looped = _loop([SimpleNamespace(name=f"s{i}") for i in range(n)], steps, jobs=4)
    return blocking, [("ok", o.value) if o.ok else ("error", o.error) for o in looped]


ANSWERS = [
    _ok(),
    b"HTTP/1.1 200 OK\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n5;x=y\r\n{\"ok\"\r\n7\r\n: true}\r\n0\r\nX-Trailer: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + JSON,
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + JSON,
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ok\"",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n" + JSON,
    b"ICY 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000,
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000,
    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 48\r\n\r\n"
    b'{"code":"rest_no_route","message":"No route.",""}'[:48],
    b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/elsewhere\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n<html>no</html>",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=iso-8859-1\r\nContent-Length: 13\r\n\r\n"
    b'{"n": "caf\xe9"}',
    None,
    _ok(__import__("gzip").compress(b'{"zipped": true}'), b"Content-Encoding: gzip\r\n"),
    _ok(__import__("gzip").compress(b"\0" * 50_000, 9), b"Content-Encoding: gzip\r\n"),  # a "zip bomb" over the cap once inflated
    _ok(b"\x8b\x02\x80{}\x03", b"Content-Encoding: br\r\n"),
    _ok(JSON, b"Set-Cookie: a=b; Path=/\r\n"),
]


@pytest.mark.parametrize("answer", ANSWERS, ids=range(len(ANSWERS)))
def test_every_answer_reads_as_with_the_blocking_client(monkeypatch, answer):
    from aimo_cli import transport

    monkeypatch.setattr(transport, "MAX_BODY", 1000)  # the caps are the parser's: the same in the loop
    server = RawServer([answer, answer], close_after=True)
    blocking, looped = _both(lambda: _client(server.url))
    assert looped == blocking
    server.close()


def test_tls_is_verified_in_the_loop_as_by_the_blocking_client(tls_server):  # noqa: F811 - the fixture
    url, cert = tls_server
    url = url.rstrip("/")
    for make, expected in (
        (lambda: _client(url), "TLS verification failed"),  # the default trust refuses a self-signed certificate
        (lambda: _client(url.replace("127.0.0.1", "localhost"), verify=cert), "TLS verification failed"),  # another name
    ):
        blocking, looped = _both(make)
        assert looped == blocking and expected in looped[0][1]

    def steps(site):
        def run():
            with _client(url, verify=cert) as client:
                return (yield from client.request_steps("GET", "/aimo/v1/status", expect_json=False)).status

        return run()

    assert [o.value for o in _loop([SimpleNamespace(name="tls")], steps, jobs=1)] == [204]


def test_a_silent_site_times_out_and_a_closed_port_is_unreachable():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts, nobody answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now
    started = time.monotonic()
    blocking, looped = _both(lambda: _client(url, timeout=0.3))
    assert looped == blocking and "did not answer GET /a in time" in looped[0][1]
    assert time.monotonic() - started < 5
    blocking, looped = _both(lambda: _client(closed_url))
    assert looped == blocking and looped[0][1].startswith("cannot reach") and "Connection refused" in looped[0][1]
    silent.close()


def test_a_retry_waits_on_a_timer_and_keep_alive_stays_within_one_client():
    busy = b"HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    server = RawServer([busy, _ok(), busy, _ok()])
    blocking, looped = _both(lambda: _client(server.url, retries=1))
    assert looped == blocking == [("ok", {"ok": True})]
    assert server.connections == 2  # one per client: the retry went on the client's own kept-alive connection
    server.close()


def test_a_host_name_is_resolved_off_the_loop():
    server = RawServer([_ok(), _ok()])
    blocking, looped = _both(lambda: _client(server.url.replace("127.0.0.1", "localhost")))
    assert looped == blocking == [("ok", {"ok": True})]
    server.close()


class _CountingServer:
    """Answers every request after 10 ms; counts the requests waiting for their answer at the same time."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.open = self.most = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn) -> None:
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
            with self.lock:
                self.open += 1
                self.most = max(self.most, self.open)
            time.sleep(0.01)
            with self.lock:
                self.open -= 1  # before the answer goes: the client cannot have sent another request meanwhile
            try:
                conn.sendall(_ok(b'{"path": "%s"}' % buf.split(b" ")[1]))
                conn.recv(1)  # until the client closes
            except OSError:
                pass


@pytest.mark.parametrize("poller", ["epoll", "selectors"])
def test_many_sites_at_most_jobs_at_once_in_order(monkeypatch, poller):
    if poller == "selectors":  # where there is no epoll
        import selectors

        monkeypatch.setattr(fleet_loop, "_EPOLL", False)
        monkeypatch.setattr(fleet_loop, "_READ", selectors.EVENT_READ)
        monkeypatch.setattr(fleet_loop, "_WRITE", selectors.EVENT_WRITE)
    server = _CountingServer()
    sites = [SimpleNamespace(name=f"site{i:02d}") for i in range(40)]
    done = []

    def steps(site):
        def run():
            with _client(server.url) as client:
                return (yield from client.get_steps("/" + site.name))

        return run()

    outcomes = _loop(sites, steps, jobs=5, advance=lambda: done.append(1))
    assert [o.value["path"] for o in outcomes] == [f"/wp-json/{s.name}" for s in sites]
    assert 1 < server.most <= 5 and len(done) == 40
    server.sock.close()


def test_a_site_that_fails_before_any_request_costs_only_itself():
    server = RawServer([_ok()])

    def steps(site):
        if site.name == "bad":
            raise ValueError("no steps")

        def run():
            if site.name == "worse":
                raise KeyError("x")
            with _client(server.url) as client:
                return (yield from client.get_steps("/a"))

        return run()

    outcomes = _loop([SimpleNamespace(name=n) for n in ("bad", "worse", "good")], steps, jobs=2)
    assert [o.ok for o in outcomes] == [False, False, True]
    assert outcomes[0].error == "unexpected ValueError: no steps" and outcomes[2].value == {"ok": True}
    server.close()


def test_json_items_written_where_the_sites_ran_are_the_document_as_before(monkeypatch):
    """`sync status --json`: each process writes its sites' items (sync_render.prerender); the document is the text the
    whole-document path prints, byte for byte: the same layout, every secret redacted, terminal-active characters
    escaped — many secrets and a big share (the indexed search), or a few (the plain one)."""
    import io

    from aimo_cli import redact
    from aimo_cli.errors import ExitStatus
    from aimo_cli.services import sync_render
    from aimo_cli.services.sync import ProviderResult, SiteSync
    from aimo_cli.ui.output import Output

    from .secrets_registry import make_key

    monkeypatch.setattr(redact, "_SECRETS", set())
    secret = make_key("sk-render")
    redact.register(secret)
    # the last round: a secret spanning the edge between an item's own fields and its providers list (each distinct
    # list is redacted apart unless a secret holds `[` or `]`: then every item whole)
    for extra in (0, 13, 26, 39, "span"):  # 0 → 39 more secrets: the plain search, then the indexed one
        if extra == "span":
            redact.register('iders": [{"provider": "op')
        for i in range(extra if extra != "span" else 0):
            redact.register(f"other-secret-{i:04d}-{extra}")
        outcomes = []
        for i in range(300):
            if i % 7 == 3:
                outcomes.append(fleet.SiteOutcome(f"s{i}", False, None, f"site said {secret}\u009b31m", "hint \u202e", ExitStatus.REMOTE))
                continue
            results = [ProviderResult("openai", "differs", "conflict", f"local {secret[:-2]} vs {secret}" if i % 5 == 0 else "ok", "drift" if i % 3 else "")]
            outcomes.append(fleet.SiteOutcome(f"s{i}", True, SiteSync(f"s{i}", True, results, requests=1, competitor="X\u0085" if i == 1 else None)))
        texts = []
        for finish in (None, sync_render.prerender):
            copies = [fleet.SiteOutcome(o.site, o.ok, o.value, o.error, o.hint, o.failure) for o in outcomes]
            if finish is not None:
                copies = finish(copies[:150]) + finish(copies[150:])  # two processes' shares
            buf = io.StringIO()
            ctx = SimpleNamespace(out=Output(stdout=buf, stderr=io.StringIO()))
            code = sync_render.render(ctx, copies, fmt="json", title="sync status", extra={"dry_run": False})
            texts.append((code, buf.getvalue()))
        assert texts[0] == texts[1]
        code, text = texts[1]
        assert secret not in text
        assert "\\u009b" in text and "\\u202e" in text and "\\u0085" in text and code == 5
        assert ('"providers": [{"provider": "openai"' in text) is (extra != "span")  # the span redacted at every item


def test_the_collector_runs_less_often_during_the_loop_and_as_before_after_it():
    """fleet_loop.run raises the collector's thresholds while it runs (never lowers one) and puts them back, also when
    a site fails; the collector stays on (a failed site's cycles are collected during the run)."""
    import gc

    seen = []

    def steps(site):
        seen.append((gc.get_threshold(), gc.isenabled()))
        if site.name == "bad":
            raise RuntimeError("boom")
        return None
        yield  # (a generator)

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        outcomes = _loop([SimpleNamespace(name="ok"), SimpleNamespace(name="bad")], steps, jobs=2)
        assert [o.ok for o in outcomes] == [True, False]
        assert gc.get_threshold() == (700, 10, 10)
        assert len(seen) == 2 and all(t[0] >= 5000 and t[1] >= 20 and t[2] >= 100 and on for t, on in seen)
        gc.set_threshold(9000, 10, 10)
        _loop([SimpleNamespace(name="ok")], steps, jobs=1)
        assert seen[-1][0][0] == 9000 and gc.get_threshold() == (9000, 10, 10)
    finally:
        gc.set_threshold(*before)
