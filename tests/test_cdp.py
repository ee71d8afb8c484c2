"""tests/cdp.py's fixtures: one Chromium for the run, and each test's page in a browser context of its own (a cookie or
a login of one test never reaches another)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<!doctype html><title>cdp</title><p>hello</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def origin():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_pages_share_one_chromium_but_not_cookies_or_storage(browser, page, origin):
    chromium = browser.get()
    assert page.browser is chromium and browser.get() is chromium  # no second process for a second page
    pid = chromium.proc.pid
    page.goto(origin + "/")
    page.evaluate("document.cookie = 'who=first; path=/'; localStorage.setItem('who', 'first')")
    assert page.evaluate("document.cookie") == "who=first"
    with chromium.new_page() as other:
        other.goto(origin + "/")
        assert other.evaluate("document.cookie") == ""
        assert other.evaluate("localStorage.getItem('who')") is None
        assert other.text("p") == "hello"
    assert page.evaluate("document.cookie") == "who=first"  # closing the other page left this one alone
    assert chromium.proc.pid == pid and chromium.alive


def test_a_dead_chromium_is_started_again(browser, origin):
    first = browser.get()
    launches = browser.launches
    first.proc.kill()
    first.proc.wait(timeout=10)
    second = browser.get()
    assert second is not first and browser.launches == launches + 1
    with second.new_page() as p:
        p.goto(origin + "/")
        assert p.text("p") == "hello"
