"""A fleet's reads on one event loop: every site's requests in one thread, up to --jobs connections in flight.

A read-only fleet job (`sync status`) of fast sites is CPU-bound, and threads cost it twice: each site's handful of
blocking calls hands the interpreter lock from thread to thread, and a pool of threads waits on locks between them.
Here each site is a generator of request steps (WordPressClient.request_steps: everything about a request but the
waiting happens there, the same code as for one site), and this loop does the waiting for all of them at once:
connections on non-blocking sockets under one poller (epoll), a retry's back-off on a timer.

What the loop does for an Exchange step is what DirectTransport.exchange does in a thread, with the same rules: an
idle connection of that very client (transport) first, else a new one to that client's origin only (each site has
its own client and transport, so no connection is ever shared between two sites); addresses tried in order as
socket.create_connection tries them (host names resolved on a few threads, never on the loop); TLS with the
client's SSL context (certificate and host name verified); the answer read by transport.response_reader (the one
implementation of the framing rules and caps); the request's timeouts (connect, including the TLS handshake, write,
read: each the longest wait for the next piece of progress, as a blocking socket's timeout is); errors as httpx's
exceptions, thrown into the site's steps, which map them as they always do.
"""

from __future__ import annotations

import errno
import gc
import heapq
import os
import select
import selectors
import socket
import ssl
import time
from collections import deque
from typing import Any, Callable

from ..transport import _close, _Protocol, response_reader

_RECV = 64 * 1024
_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)
_EPOLL = hasattr(select, "epoll")  # Linux: epoll itself (the selectors module's bookkeeping costs a fleet per site)
_READ = select.EPOLLIN if _EPOLL else selectors.EVENT_READ
_WRITE = select.EPOLLOUT if _EPOLL else selectors.EVENT_WRITE
_FAILED = select.EPOLLERR | select.EPOLLHUP if _EPOLL else -1  # (a selector does not say: every event may be a failure)


class _Poller:
    """register/modify/unregister a file descriptor for _READ or _WRITE, poll(timeout) -> [(fd, events)]: epoll's own
    methods where there is epoll, else a selector behind the same four calls."""

    def __init__(self) -> None:
        if _EPOLL:
            self._epoll = select.epoll()
            self.register, self.modify, self.unregister, self.poll = self._epoll.register, self._epoll.modify, self._epoll.unregister, self._epoll.poll
            self.close = self._epoll.close
            return
        self._selector = selectors.DefaultSelector()
        self.close = self._selector.close

    def register(self, fd: int, events: int) -> None:
        self._selector.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        self._selector.modify(fd, events)

    def unregister(self, fd: int) -> None:
        self._selector.unregister(fd)

    def poll(self, timeout: float | None = None) -> list:
        return [(key.fd, events) for key, events in self._selector.select(timeout)]
_CONNECT, _HANDSHAKE, _SEND, _RECEIVE = range(4)


class _Site:
    __slots__ = ("index", "name", "steps", "started")

    def __init__(self, index: int, name: str, steps) -> None:
        self.index, self.name, self.steps, self.started = index, name, steps, False


class _Connection:
    """One Exchange step in flight: its socket, what is left to send, the answer's reader, the next deadline."""

    __slots__ = ("site", "step", "sock", "addresses", "phase", "out", "reader", "deadline", "host", "error", "events")

    def __init__(self, site: _Site, step) -> None:
        self.site, self.step = site, step
        self.sock = None
        self.addresses: list = []
        self.phase = _CONNECT
        self.out = memoryview(step.data)
        self.reader = None
        self.deadline: float | None = None
        self.host = step.key[1]
        self.error: Exception | None = None  # the last connect error (the next address is tried)
        self.events = 0  # what the poller watches the socket for


def run(sites, steps_for: Callable[[Any], Any], outcome: Callable[[str, Any, Exception | None], Any], *, jobs: int, advance: Callable[[], None] | None = None) -> list:
    """Run `steps_for(site)` (a generator of request steps returning the site's value) for every site of `sites` (a
    list, or an iterator taken from one site at a time, as a connection frees up), at most `jobs` at once;
    `outcome(site name, value, error)` of each, in the sites' order (services/fleet.outcome)."""
    # the collector's young generation collected every few thousand new objects, not every 700: a site makes some
    # hundreds that live until it is done (its answer, its report), each examined again at every collection meanwhile
    # (measured: a third of the collector's time for 1,000 sites); the cycles of failed sites are still collected
    before = gc.get_threshold()
    gc.set_threshold(*(max(now, least) for now, least in zip(before, _THRESHOLDS)))
    try:
        return _Loop(sites, steps_for, outcome, jobs, advance).run()
    finally:
        gc.set_threshold(*before)


_THRESHOLDS = (5000, 20, 100)


class _Loop:
    def __init__(self, sites: list, steps_for, outcome, jobs: int, advance) -> None:
        import httpx

        from ..wordpress.client import Exchange, Sleep

        self.httpx = httpx
        self.Exchange, self.Sleep = Exchange, Sleep
        self.sites = iter(sites)  # taken one at a time, as a connection frees up (services/fleet.py may hand them out)
        self.exhausted = False
        self.steps_for = steps_for
        self.outcome = outcome
        self.jobs = max(1, jobs)
        self.advance = advance
        self.results: list = []  # in the order the sites were taken
        self.poller = _Poller()
        self.by_fd: dict[int, _Connection | None] = {}
        self.connections: set[_Connection] = set()
        self.timers: list = []  # (when, sequence, site): back-offs
        self.sequence = 0
        self.ready: deque = deque()  # (site, value, error) to resume
        self.resolver = None  # a thread pool for host names, and its wake-up pipe, on first need
        self.resolved: deque = deque()
        self.wake_r = self.wake_w = None
        self.active = 0

    # -- the loop ------------------------------------------------------------------------------------------------
    def run(self) -> list:
        finished = False
        try:
            self._fill()
            while self.active:
                self._drain()
                if not self.active:
                    break
                timeout = self._timeout()
                events = self.poller.poll(-1 if timeout is None else timeout) if _EPOLL else self.poller.poll(timeout)
                now = time.monotonic()
                for fd, happened in events:
                    conn = self.by_fd.get(fd, False)
                    if conn is None:
                        self._wake()
                    elif conn is not False:
                        self._progress(conn, now, happened)
                self._expire(time.monotonic())
            finished = True
        finally:
            for conn in list(self.connections):
                _close(conn.sock)
            self.poller.close()
            if self.resolver is not None:
                # done: its threads are idle and end now (not at exit); interrupted: nobody waits for a lookup
                self.resolver.shutdown(wait=finished, cancel_futures=True)
                _close(self.wake_r)
                _close(self.wake_w)
        return self.results

    def _fill(self) -> None:
        while self.active < self.jobs and not self.exhausted:
            try:
                site = next(self.sites)
            except StopIteration:
                self.exhausted = True
                return
            task = _Site(len(self.results), site.name, None)
            self.results.append(None)
            self.active += 1
            try:
                task.steps = self.steps_for(site)
            except Exception as exc:  # noqa: BLE001 - said as the site's outcome
                self._finish(task, error=exc)
                continue
            self.ready.append((task, None, None))

    def _drain(self) -> None:
        while self.ready:
            task, value, error = self.ready.popleft()
            self._resume(task, value, error)
            if not self.ready:
                self._fill()

    def _resume(self, task: _Site, value, error) -> None:
        try:
            if error is not None:
                step = task.steps.throw(error)
            elif not task.started:
                task.started = True
                step = next(task.steps)
            else:
                step = task.steps.send(value)
        except StopIteration as done:
            self._finish(task, value=done.value)
            return
        except Exception as exc:  # noqa: BLE001 - said as the site's outcome
            self._finish(task, error=exc)
            return
        if type(step) is self.Sleep:
            if step.sleep is time.sleep:
                self.sequence += 1
                heapq.heappush(self.timers, (time.monotonic() + step.seconds, self.sequence, task))
            else:  # an injected clock (tests): its sleep decides
                step.sleep(step.seconds)
                self.ready.append((task, None, None))
            return
        self._exchange(task, step)

    def _finish(self, task: _Site, value=None, error: Exception | None = None) -> None:
        self.results[task.index] = self.outcome(task.name, value, error)
        self.active -= 1
        if self.advance is not None:
            self.advance()
        self._fill()

    def _timeout(self) -> float | None:
        if self.ready or self.resolved:
            return 0
        soonest = self.timers[0][0] if self.timers else None
        for conn in self.connections:
            if conn.deadline is not None and (soonest is None or conn.deadline < soonest):
                soonest = conn.deadline
        return None if soonest is None else max(0.0, soonest - time.monotonic())

    def _expire(self, now: float) -> None:
        while self.timers and self.timers[0][0] <= now:
            _, _, task = heapq.heappop(self.timers)
            self.ready.append((task, None, None))
        for conn in [c for c in self.connections if c.deadline is not None and c.deadline <= now]:
            httpx = self.httpx
            kind = {_CONNECT: httpx.ConnectTimeout, _HANDSHAKE: httpx.ConnectTimeout, _SEND: httpx.WriteTimeout}.get(conn.phase, httpx.ReadTimeout)
            self._fail(conn, kind("timed out"))

    # -- one exchange ----------------------------------------------------------------------------------------------
    def _exchange(self, task: _Site, step) -> None:
        conn = _Connection(task, step)
        self.connections.add(conn)
        sock = step.transport._take(step.key)  # an idle connection of this very client
        if sock is not None:
            try:
                sock.setblocking(False)
            except OSError:
                _close(sock)
                sock = None
        if sock is not None:
            conn.sock = sock
            self._enter(conn, _SEND, _WRITE, register=True)
            return
        scheme, host, port = step.key
        if scheme == "https" and not step.transport._ssl_context:
            self._fail(conn, self.httpx.ConnectError("no TLS context for an https:// request"))
            return
        # the host as bytes: it is ASCII already (httpx's raw host); a str goes through the idna codec at every lookup
        host = host.encode("ascii")
        if host[-1:].isalpha() and b":" not in host:  # a host name, not a dotted address: straight to the resolver (the
            self._resolve(conn, host, port)  # numeric try would fail; the resolver reads any address form as this would)
            return
        try:  # an address literal needs no resolver
            conn.addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        except socket.gaierror:
            self._resolve(conn, host, port)
            return
        self._connect_next(conn)

    def _resolve(self, conn: _Connection, host: bytes, port: int) -> None:
        if self.resolver is None:
            from concurrent.futures import ThreadPoolExecutor

            self.resolver = ThreadPoolExecutor(max_workers=min(8, self.jobs))
            self.wake_r, self.wake_w = socket.socketpair()
            self.wake_r.setblocking(False)
            self.poller.register(self.wake_r.fileno(), _READ)
            self.by_fd[self.wake_r.fileno()] = None
        conn.deadline = None  # create_connection's timeout does not bound the lookup either
        future = self.resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)

        def done(f, conn=conn) -> None:
            self.resolved.append((conn, f))
            try:
                self.wake_w.send(b"x")
            except OSError:
                pass

        future.add_done_callback(done)

    def _wake(self) -> None:
        try:
            while self.wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self.resolved:
            conn, future = self.resolved.popleft()
            if conn not in self.connections:
                continue
            try:
                conn.addresses = future.result()
            except Exception as exc:  # noqa: BLE001 - a name that does not resolve: as create_connection says it
                self._fail(conn, self.httpx.ConnectError(str(exc) or type(exc).__name__))
                continue
            self._connect_next(conn)

    def _connect_next(self, conn: _Connection) -> None:
        """Connect to the next address (create_connection's order); the last error when none is left."""
        while conn.addresses:
            family, kind, proto, _, address = conn.addresses.pop(0)
            sock = None
            try:
                sock = socket.socket(family, kind | _NONBLOCK, proto)  # (Linux: non-blocking from the start, one call less)
                if not _NONBLOCK:
                    sock.setblocking(False)
                err = sock.connect_ex(address)
            except OSError as exc:
                _close(sock)
                conn.error = exc
                continue
            if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                _close(sock)
                conn.error = OSError(err, os.strerror(err))
                continue
            conn.sock = sock
            self._enter(conn, _CONNECT, _WRITE, register=True)
            return
        error = conn.error or OSError("getaddrinfo returns an empty list")
        self._fail(conn, self.httpx.ConnectError(str(error) or type(error).__name__))

    def _enter(self, conn: _Connection, phase: int, events: int, *, register: bool = False) -> None:
        conn.phase = phase
        timeouts = conn.step.timeout
        limit = timeouts.get("connect") if phase in (_CONNECT, _HANDSHAKE) else timeouts.get("write") if phase == _SEND else timeouts.get("read")
        conn.deadline = None if limit is None else time.monotonic() + limit
        if register:
            fd = conn.sock.fileno()
            self.poller.register(fd, events)
            self.by_fd[fd] = conn
            conn.events = events
        elif events != conn.events:
            self.poller.modify(conn.sock.fileno(), events)
            conn.events = events

    def _wait(self, conn: _Connection, events: int) -> None:
        """Wait for `events` in the same phase (its deadline unchanged: no progress was made)."""
        if events != conn.events:
            self.poller.modify(conn.sock.fileno(), events)
            conn.events = events

    def _forget(self, conn: _Connection) -> None:
        """Stop watching the connection's socket (before it is closed, handed on or wrapped)."""
        fd = conn.sock.fileno()
        if self.by_fd.pop(fd, False) is not False:
            try:
                self.poller.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass

    def _progress(self, conn: _Connection, now: float, happened: int = _FAILED) -> None:
        httpx = self.httpx
        phase = conn.phase
        if phase == _CONNECT:
            # the connection is made, or it failed: epoll says which (a socket is not writable while its connect is under
            # way, and a failed one is reported with EPOLLERR), so its error is asked for only then (one call less per site)
            err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if happened & _FAILED else 0
            if err:
                self._forget(conn)
                _close(conn.sock)
                conn.sock = None
                conn.error = OSError(err, os.strerror(err))
                self._connect_next(conn)
                return
            try:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            if conn.step.key[0] == "https":  # the handshake within the connect timeout; certificate and host name verified
                self._forget(conn)
                try:
                    conn.sock = conn.step.transport._ssl_context.wrap_socket(conn.sock, server_hostname=conn.host, do_handshake_on_connect=False)
                except (OSError, ValueError) as exc:
                    self._fail(conn, httpx.ConnectError(str(exc) or type(exc).__name__))
                    return
                self._enter(conn, _HANDSHAKE, _WRITE, register=True)
                self._progress(conn, now, happened)
                return
            self._enter(conn, _SEND, _WRITE)
            self._send(conn)
        elif phase == _HANDSHAKE:
            try:
                conn.sock.do_handshake()
            except ssl.SSLWantReadError:
                self._wait(conn, _READ)
                return
            except ssl.SSLWantWriteError:
                self._wait(conn, _WRITE)
                return
            except OSError as exc:  # a certificate that does not verify, a reset
                self._fail(conn, httpx.ConnectError(str(exc) or type(exc).__name__))
                return
            self._enter(conn, _SEND, _WRITE)
            self._send(conn)
        elif phase == _SEND:
            self._send(conn)
        else:
            self._receive(conn)

    def _send(self, conn: _Connection) -> None:
        while conn.out:
            try:
                sent = conn.sock.send(conn.out)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError):
                self._wait(conn, _WRITE)
                return
            except ssl.SSLWantReadError:
                self._wait(conn, _READ)
                return
            except OSError as exc:
                self._fail(conn, self.httpx.WriteError(str(exc) or type(exc).__name__))
                return
            conn.out = conn.out[sent:]
        conn.reader = response_reader(conn.step.method)
        next(conn.reader)
        self._enter(conn, _RECEIVE, _READ)

    def _receive(self, conn: _Connection) -> None:
        httpx = self.httpx
        sock = conn.sock
        while True:
            try:
                data = sock.recv(_RECV)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                self._wait(conn, _READ)
                return
            except ssl.SSLWantWriteError:
                self._wait(conn, _WRITE)
                return
            except OSError as exc:
                self._fail(conn, httpx.ReadError(str(exc) or type(exc).__name__))
                return
            try:
                conn.reader.send(data)
            except StopIteration as done:
                status, reason, headers, body, reusable = done.value
                self._done(conn, (status, reason, headers, body), reusable)
                return
            except _Protocol as exc:
                self._fail(conn, httpx.RemoteProtocolError(str(exc)))
                return
            if not data:  # (the reader ends or raises at the end of the connection: not reached)
                self._fail(conn, httpx.RemoteProtocolError("the server closed the connection within the answer"))
                return
            limit = conn.step.timeout.get("read")
            conn.deadline = None if limit is None else time.monotonic() + limit
            if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                return  # the rest when the selector says so

    def _done(self, conn: _Connection, answer: tuple, reusable: bool) -> None:
        self.connections.discard(conn)
        self._forget(conn)
        transport = conn.step.transport
        if reusable:  # left non-blocking: whoever takes it sets its mode (DirectTransport.exchange: its timeouts; _exchange)
            with transport._lock:
                transport._idle.append((conn.step.key, conn.sock))
        else:
            _close(conn.sock)
        self.ready.append((conn.site, answer, None))

    def _fail(self, conn: _Connection, error: Exception) -> None:
        self.connections.discard(conn)
        if conn.sock is not None:
            try:
                self._forget(conn)
            except OSError:  # (a socket already closed)
                pass
            _close(conn.sock)
        self.ready.append((conn.site, None, error))
