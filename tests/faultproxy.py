"""A programmable HTTP fault proxy (threaded, stdlib only) to put in front of the real WordPress test site.

Point an aimo site entry at it (`rest_root = proxy.rest_root`) and every aimo request passes through it. Each
request gets a number (1, 2, …, counted from the last `reset()`), and is forwarded unchanged unless a knob says
otherwise:

    proxy = FaultProxy("http://127.0.0.1:8885").start()
    proxy.respond(503, {"code": "down"}, times=2)            # the next 2 requests get a 503 (not forwarded)
    proxy.respond(429, "", headers={"Retry-After": "1"})     # a rate limit
    proxy.firewall_page()                                    # an HTML page with 200 instead of JSON
    proxy.delay(3.0, method="POST")                          # the next POST is held 3 s, then still forwarded
    proxy.drop_after_forward(method="POST")                  # forwarded, but the answer never comes back
    proxy.down_after(1)                                      # request 1 is served, then nothing listens (refused)
    proxy.before(2, callback)                                # callback() runs before request 2 is handled
    proxy.up()                                               # listen again on the same port

A knob matches on `method` (exact) and `path` (a substring of the request's path and query; the proxy sees
`/wp-json/aimo/v1/status` etc.); `times` is how many matching requests it applies to. `proxy.seen` records every
request (number, method, path, time it arrived, status sent or None for no answer).

Every knob must fire during the test that armed it (tests/armed.py): one that no request met fails the test, even
after `reset()`. Each knob method returns its `Armed` record (`.fired` counts the requests it met).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from .armed import Armed, arm

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "content-length"}

FIREWALL_HTML = (
    "<!DOCTYPE html><html><head><title>Access denied | Site protected by a firewall</title></head>"
    "<body><h1>Sorry, you have been blocked</h1><p>This request looked automated.</p></body></html>"
)


@dataclass
class Seen:
    n: int
    method: str
    path: str
    at: float
    status: int | None = None  # what the client got; None = no answer (dropped, timed out, refused)
    forwarded: bool = False


@dataclass
class _Knob:
    kind: str  # respond | delay | drop | drop_after_forward
    times: int
    method: str | None = None
    path: str | None = None
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    armed: Armed | None = None

    def describe(self) -> str:
        what = {"respond": f"answer HTTP {self.status}", "delay": f"delay {self.seconds} s", "drop": "drop the connection",
                "drop_after_forward": "forward, then drop the answer"}[self.kind]
        where = " ".join(x for x in (self.method, f"*{self.path}*" if self.path else None) if x) or "any request"
        return f"proxy: {what} to {where} (times={self.times})"

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and (self.method is None or self.method == method) and (self.path is None or self.path in path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, *, tls: tuple[str, str] | None = None) -> None:
        """`tls=(certfile, keyfile)` serves HTTPS to aimo (the upstream stays plain http)."""
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.host = host
        self.port = port
        self.seen: list[Seen] = []
        self._knobs: list[_Knob] = []
        self._callbacks: dict[int, list[tuple[Callable[[], Any], Armed]]] = {}
        self._down_after: int | None = None
        self._down_armed: Armed | None = None
        self._count = 0
        self._inflight = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._tls = tls

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._handler = Handler
        self._listen()
        return self

    def _listen(self) -> None:
        self._server = _Server((self.host, self.port), self._handler)
        self.port = self._server.server_address[1]
        if self._tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self._tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop(self) -> None:
        self._stop_listening()

    def up(self) -> None:
        """Listen again (same port) and forget `down_after`."""
        with self._lock:
            self._down_after = None
        if self._server is None:
            self._listen()

    @property
    def listening(self) -> bool:
        return self._server is not None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self.host}:{self.port}"

    @property
    def rest_root(self) -> str:
        return self.url + "/wp-json/"

    # -- knobs ---------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Pass everything through again; forget knobs, callbacks, the count and the record."""
        with self._lock:
            self._knobs.clear()
            self._callbacks.clear()
            self._down_after = None
            self._count = 0
            self.seen.clear()
        if self._server is None:
            self._listen()

    def respond(self, status: int, body: Any = "", *, headers: dict[str, str] | None = None, content_type: str | None = None,
                times: int = 1, method: str | None = None, path: str | None = None) -> Armed:
        """Answer the next `times` matching requests with this, without forwarding them."""
        if isinstance(body, (dict, list)):
            raw, ctype = json.dumps(body).encode(), "application/json; charset=UTF-8"
        else:
            raw, ctype = (body.encode() if isinstance(body, str) else bytes(body)), "text/plain; charset=UTF-8"
        hdrs = {"Content-Type": content_type or ctype, **(headers or {})}
        return self._add(_Knob("respond", times, method, path, status, raw, hdrs))

    def firewall_page(self, *, times: int = 1, method: str | None = None, path: str | None = None, status: int = 200) -> Armed:
        return self.respond(status, FIREWALL_HTML, content_type="text/html; charset=UTF-8", times=times, method=method, path=path)

    def delay(self, seconds: float, *, times: int = 1, method: str | None = None, path: str | None = None) -> Armed:
        """Hold the next matching requests `seconds`, then forward them anyway (a slow site still does the work)."""
        return self._add(_Knob("delay", times, method, path, seconds=seconds))

    def drop(self, *, times: int = 1, method: str | None = None, path: str | None = None) -> Armed:
        """Close the connection without forwarding or answering."""
        return self._add(_Knob("drop", times, method, path))

    def drop_after_forward(self, *, times: int = 1, method: str | None = None, path: str | None = None) -> Armed:
        """Forward (WordPress does the work), then close the connection without passing the answer back."""
        return self._add(_Knob("drop_after_forward", times, method, path))

    def down_after(self, n: int) -> Armed:
        """Serve requests up to number n (counted since reset), then stop listening: later connections are refused.
        Fires when request n arrives."""
        armed = arm(f"proxy: stop listening after request {n}")
        with self._lock:
            self._down_after = n
            self._down_armed = armed
        return armed

    def before(self, n: int, callback: Callable[[], Any]) -> Armed:
        """Run `callback()` (in the proxy's thread) before request number n is handled."""
        armed = arm(f"proxy: run {getattr(callback, '__name__', 'a callback')}() before request {n}")
        with self._lock:
            self._callbacks.setdefault(n, []).append((callback, armed))
        return armed

    def _add(self, knob: _Knob) -> Armed:
        knob.armed = arm(knob.describe())
        with self._lock:
            self._knobs.append(knob)
        return knob.armed

    # -- inspection ----------------------------------------------------------------------------------------------
    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if (method is None or s.method == method) and (path is None or path in s.path)]

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no request is being handled (e.g. a delayed write still on its way to WordPress)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fault proxy still has requests in flight")
                self._idle.wait(left)

    # -- used by the handler -------------------------------------------------------------------------------------
    def _begin(self, method: str, path: str) -> tuple[Seen, _Knob | None, list[tuple[Callable[[], Any], Armed]], tuple[bool, bool]]:
        with self._lock:
            self._count += 1
            self._inflight += 1
            seen = Seen(self._count, method, path, time.monotonic())
            self.seen.append(seen)
            callbacks = self._callbacks.pop(self._count, [])
            knob = next((k for k in self._knobs if k.matches(method, path)), None)
            if knob is not None:
                knob.times -= 1
                if knob.armed is not None:
                    knob.armed.fire()
            last = self._down_after is not None and self._count >= self._down_after
            if self._down_after is not None and self._count == self._down_after and self._down_armed is not None:
                self._down_armed.fire()
            refused = self._down_after is not None and self._count > self._down_after
        return seen, knob, callbacks, (last, refused)

    def _end(self) -> None:
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
            out["Host"] = f"{self.upstream_host}:{self.upstream_port}"
            out["Connection"] = "close"
            if body:
                out["Content-Length"] = str(len(body))
            conn.request(method, path, body=body or None, headers=out)
            resp = conn.getresponse()
            data = resp.read()
            skip = HOP_BY_HOP | {"date", "server"}  # send_response() adds its own
            return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in skip], data
        finally:
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):  # noqa: N802
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        proxy = self.owner
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        seen, knob, callbacks, (last, refused) = proxy._begin(self.command, self.path)
        try:
            for cb, armed in callbacks:
                armed.fire()
                cb()
            if refused:  # a request on a connection that was already open when the site "stopped"
                self._hang_up()
                return
            if last:  # the last request served: stop listening first, so the next connection is refused
                proxy._stop_listening()
                self.close_connection = True
            if knob is not None and knob.kind == "respond":
                self._send(seen, knob.status, list(knob.headers.items()), knob.body)
                return
            if knob is not None and knob.kind == "drop":
                self._hang_up()
                return
            if knob is not None and knob.kind == "delay":
                time.sleep(knob.seconds)
            status, headers, data = proxy._forward(self.command, self.path, dict(self.headers.items()), body)
            seen.forwarded = True
            if knob is not None and knob.kind == "drop_after_forward":
                self._hang_up()
                return
            self._send(seen, status, headers, data)
        finally:
            proxy._end()

    def _send(self, seen: Seen, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        try:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
            seen.status = status
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            pass

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
