"""A small hostile WordPress look-alike on two loopback origins, for origin-pinning and redirect attacks.

`HostilePair()` binds one threaded stdlib HTTP server on **127.0.0.1:P** (origin A, "the site the admin named") and
one on **127.0.0.2:P** (origin B, "somewhere else"): same port, different host, so the two differ only by origin.
Both are loopback (127.0.0.0/8); each is bound explicitly to its own address.

Each server answers from a table of routes the test sets (`route(method, path, status, body, headers)`; the path is
matched without the query string, `path?query` first) and records every request it receives (method, path, headers,
body), so a test can assert what reached which origin: `b.seen`, `b.with_auth()`.

By default A plays a minimal WordPress: `HEAD /` (no Link header), the REST index at `/wp-json/`, `users/me` (an
administrator), `settings` and an RSS feed with a generator tag. Tests then make A or B hostile: a `Link` header naming
B, an index whose `home` is B, a 307 from a write to B, a redirect of a read to B.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FEED = '<?xml version="1.0"?><rss><channel><generator>https://wordpress.org/?v=7.1.4</generator></channel></rss>'


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def auth(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class _Handler(BaseHTTPRequestHandler):
    server_version = "hostile/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        owner: HostileServer = self.server.owner  # type: ignore[attr-defined]
        owner.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = owner.reply_for(self.command, self.path)
        if isinstance(reply.body, (dict, list)):
            data = json.dumps(reply.body).encode()
        elif isinstance(reply.body, str):
            data = reply.body.encode()
        else:
            data = reply.body or b""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _any


class HostileServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.seen: list[Seen] = []
        self.routes: dict[tuple[str, str], Reply] = {}
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)  # stop() waits one poll

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def route(self, method: str, path: str, status: int = 200, body: Any = None, headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        self.routes[(method.upper(), path)] = Reply(status, body, dict(headers or {}), content_type)

    def redirect(self, method: str, path: str, to: str, status: int = 307) -> None:
        self.route(method, path, status, "", {"Location": to}, "text/plain")

    def reply_for(self, method: str, path: str) -> Reply:
        for key in ((method, path), (method, path.split("?", 1)[0])):
            if key in self.routes:
                return self.routes[key]
        if method == "HEAD" and ("GET", path.split("?", 1)[0]) in self.routes:
            return self.routes[("GET", path.split("?", 1)[0])]
        return Reply(404, {"code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": {"status": 404}})

    def with_auth(self) -> list[Seen]:
        return [s for s in self.seen if s.auth]

    def start(self) -> "HostileServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _free_port_on_both() -> int:
    """A port number free on 127.0.0.1 and on 127.0.0.2 (tried a few times: another process may take it meanwhile)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.2", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


def wordpress_index(origin: str, *, home: str | None = None, namespaces: tuple[str, ...] = ("wp/v2",)) -> dict:
    return {
        "name": "Hostile",
        "url": origin,
        "home": home or origin,
        "namespaces": list(namespaces),
        "authentication": {"application-passwords": {"endpoints": {}}},
        "routes": {},
    }


class HostilePair:
    """Origin A on 127.0.0.1:P (a minimal WordPress) and origin B on 127.0.0.2:P (records what it is sent)."""

    def __init__(self) -> None:
        for attempt in range(5):
            port = _free_port_on_both()
            try:
                self.a = HostileServer("127.0.0.1", port)
            except OSError:
                continue
            try:
                self.b = HostileServer("127.0.0.2", port)
            except OSError:
                self.a.stop()
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError("could not bind 127.0.0.1 and 127.0.0.2 on one port")
        for srv in (self.a, self.b):
            srv.route("GET", "/", 200, "<html>home</html>", content_type="text/html")
            srv.route("GET", "/wp-json/", 200, wordpress_index(srv.url))
            srv.route("GET", "/wp-json/wp/v2/users/me", 200, {"id": 1, "slug": "admin", "roles": ["administrator"], "capabilities": {"manage_options": True}})
            srv.route("GET", "/wp-json/wp/v2/settings", 200, {"title": "Hostile", "connectors_ai_openai_api_key": ""})
            srv.route("GET", "/?feed=rss2", 200, FEED, content_type="application/rss+xml")

    def start(self) -> "HostilePair":
        self.a.start()
        self.b.start()
        return self

    def stop(self) -> None:
        self.a.stop()
        self.b.stop()

    def __enter__(self) -> "HostilePair":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
