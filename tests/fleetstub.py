"""A stub 'WordPress site' for fleet tests and benchmarks: answers every GET with the bridge's status document (managed,
no keys), and refuses every write. Many site entries can point at one stub: it stands for a fleet without the cost
of real sites (each entry at its own path, so aimo sees distinct WordPress sites), so what is measured or tested is
aimo's own handling of the fleet."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aimo_cli.core.providers import PROVIDER_IDS


STATUS = {
    "bridge_version": "0.1.0",
    "wordpress_version": "7.1.4",
    "mode": "managed",
    "connectors": [{"id": p, "provider_registered": True, "fingerprint": "", "mask_tail": "", "key_source": "none"} for p in PROVIDER_IDS],
}


class StubSites:
    def __init__(self) -> None:
        body = json.dumps(STATUS).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                msg = b'{"code":"stub","message":"this stub site accepts no write"}'
                self.send_response(405)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)

            def log_message(self, *a):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True

        self._srv = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._srv.server_port}"
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()

    def __enter__(self) -> "StubSites":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fleet_toml(url: str, names: list[str], bad: list[str] = ()) -> str:
    """Site entries for `names` at the stub, and `bad` ones nobody answers (connection refused)."""
    lines = []
    for name in names:  # one path per site: each is its own WordPress to aimo (writes go once per WordPress)
        lines += [f'[sites."{name}"]', f'url = "{url}/{name}"', 'user = "admin"', 'group = "fleet"', f'rest_root = "{url}/{name}/wp-json/"', ""]
    for name in bad:
        lines += [f'[sites."{name}"]', f'url = "http://127.0.0.1:9/{name}"', 'user = "admin"', 'group = "fleet"', f'rest_root = "http://127.0.0.1:9/{name}/wp-json/"', ""]
    return "\n".join(lines)
