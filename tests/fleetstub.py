"""A stub 'WordPress site' for fleet tests and benchmarks: answers every GET with the bridge's status document (managed,
no keys), and refuses every other method (405). It stands for a fleet without the cost of real sites, so what is
measured or tested is aimo's own handling of the fleet.

Two ways to lay a fleet out on it:
- `fleet_toml(stub.url, names)`: every site at its own path of one origin (aimo sees distinct WordPress sites: writes go
  once per WordPress), the cheapest set-up for tests;
- `StubSites(hosts=N)` and `fleet_toml(stub.url, names, origins=stub.origins)`: every site on its own origin (its own
  loopback address, 127.77.x.y, on the stub's port), as distinct real hosts are: no connection can be shared between
  two sites. The fleet benchmark uses this.

The stub is one selector loop in a daemon thread (HTTP/1.1, keep-alive honoured within a connection): its CPU on the
machine's cores is an artefact of benchmarking on one machine (real sites are other machines), so it is kept small.
"""

from __future__ import annotations

import json
import selectors
import socket
import threading
from typing import Callable

from aimo_cli.core.providers import PROVIDER_IDS


STATUS = {
    "bridge_version": "0.1.0",
    "wordpress_version": "7.1.4",
    "mode": "managed",
    "connectors": [{"id": p, "provider_registered": True, "fingerprint": "", "mask_tail": "", "key_source": "none"} for p in PROVIDER_IDS],
}


def _answer(status: str, body: bytes, keep: bool) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n" + ("" if keep else "Connection: close\r\n") + "\r\n"
    return head.encode() + body


_REFUSED = b'{"code":"stub","message":"this stub site accepts no write"}'


def answers(document: dict) -> dict:
    """What a stub site answers (GET or not, keep-alive or not) when its status document is `document`."""
    body = json.dumps(document).encode()
    return {
        (True, True): _answer("200 OK", body, True),
        (True, False): _answer("200 OK", body, False),
        (False, True): _answer("405 Method Not Allowed", _REFUSED, True),
        (False, False): _answer("405 Method Not Allowed", _REFUSED, False),
    }


_ANSWERS = answers(STATUS)
_MAX_HEAD = 64 * 1024


class _Connection:
    """One client connection: requests parsed as they arrive (pipelined ones too), answered in order."""

    __slots__ = ("sock", "buf", "answers")

    def __init__(self, sock: socket.socket, answers: dict) -> None:
        self.sock = sock
        self.buf = b""
        self.answers = answers

    def received(self, data: bytes) -> bool:
        """Answer every complete request in the buffer; False when the connection is to be closed."""
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return len(self.buf) <= _MAX_HEAD
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length") or 0)
            except ValueError:
                return False
            if len(self.buf) < end + 4 + length:
                return True  # the body is still on its way
            self.buf = self.buf[end + 4 + length :]
            keep = parts[-1] == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            answer = self.answers[(parts[0] == "GET", keep)]
            try:
                sent = self.sock.send(answer)  # an answer is 1-25 KB: it fits the socket's buffer at once
                if sent < len(answer):
                    self.sock.setblocking(True)
                    self.sock.sendall(answer[sent:])
                    self.sock.setblocking(False)
            except OSError:
                return False
            if not keep:
                return False


class _Listener:
    """A listening socket's answers (its site's)."""

    __slots__ = ("answers",)

    def __init__(self, answers: dict) -> None:
        self.answers = answers


class StubSites:
    """`url`: the stub's first origin (http://127.0.0.1:PORT). With `hosts=N`, `origins` lists N more, one loopback
    address each (Linux answers on every 127/8 address), on the same port when it is free there. One thread runs one
    selector loop over every listening socket and connection (no asyncio machinery per connection: its CPU counts).

    `documents(i)`: the status document of host i (of `origins`), when the sites are to answer each their own (a real
    bridge's document, varied per site: benchmarks/fleet.py --status real); by default every site answers STATUS."""

    def __init__(self, hosts: int = 0, documents: Callable[[int], dict] | None = None) -> None:
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        first = self._listen("127.0.0.1", 0, _ANSWERS)
        self.port = first.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.origins: list[str] = []
        for i in range(hosts):
            host = f"127.77.{i // 250 + 1}.{i % 250 + 1}"
            own = answers(documents(i)) if documents is not None else _ANSWERS
            try:
                sock = self._listen(host, self.port, own)
            except OSError:  # the port is taken on that address: another one
                sock = self._listen(host, 0, own)
            self.origins.append(f"http://{host}:{sock.getsockname()[1]}")
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _listen(self, host: str, port: int, answers: dict) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._listeners.append(sock)
        self._selector.register(sock, selectors.EVENT_READ, _Listener(answers))
        return sock

    def _run(self) -> None:
        select, register, unregister = self._selector.select, self._selector.register, self._selector.unregister
        while not self._stop:
            for key, _ in select():
                if type(key.data) is _Listener:  # a listening socket: every waiting connection
                    while True:
                        try:
                            conn, _ = key.fileobj.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            break
                        conn.setblocking(False)
                        register(conn, selectors.EVENT_READ, _Connection(conn, key.data.answers))
                elif key.data is None:  # woken to stop
                    return
                else:
                    connection = key.data
                    try:
                        data = connection.sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data or not connection.received(data):
                        unregister(connection.sock)
                        connection.sock.close()

    def close(self) -> None:
        self._stop = True
        self._wake_w.send(b"x")
        self._thread.join(5)
        for sock in self._listeners:
            sock.close()
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _Connection):
                key.data.sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> "StubSites":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fleet_toml(url: str, names: list[str], bad: list[str] = (), *, origins: list[str] | None = None) -> str:
    """Site entries for `names` at the stub (each at its own path of `url`, or on its own origin of `origins`), and
    `bad` ones nobody answers (connection refused)."""
    lines = []
    for i, name in enumerate(names):
        site = origins[i] if origins is not None else f"{url}/{name}"  # either way each is its own WordPress to aimo
        lines += [f'[sites."{name}"]', f'url = "{site}"', 'user = "admin"', 'group = "fleet"', f'rest_root = "{site}/wp-json/"', ""]
    for name in bad:
        lines += [f'[sites."{name}"]', f'url = "http://127.0.0.1:9/{name}"', 'user = "admin"', 'group = "fleet"', f'rest_root = "http://127.0.0.1:9/{name}/wp-json/"', ""]
    return "\n".join(lines)
