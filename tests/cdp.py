"""A very small Chrome DevTools Protocol driver for headless Chromium, with no dependency beyond the stdlib.

Chromium is started with `--remote-debugging-pipe`: it reads commands from file descriptor 3 and writes answers and
events to file descriptor 4, each message one JSON object ended by a NUL byte. No port, no websocket library.

One Chromium serves a whole test run (starting one costs seconds); each test gets its own page in its own browser
context (Target.createBrowserContext: an incognito-like profile of its own, so no cookie, login or storage of one test
reaches another), closed with the test. The fixtures below are what tests use:

    def test_x(page):                      # a fresh page in a fresh context; the run's one Chromium behind it
        page.goto(url)
        page.wait_for("document.querySelector('#x') !== null")
        page.click("#x button")
        page.screenshot(path)
        assert not page.problems()       # console errors, uncaught exceptions, failed loads

`browser` (session scope) is the shared Chromium; it is started again if it died. Used by tests/test_banner_page.py
and tests/test_bridge_page.py; Debian's `chromium` (scripts/test-deps).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
]


class CDPError(RuntimeError):
    pass


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium; `new_page()` opens a page in a browser context of its own."""

    def __init__(self, width: int = 1280, height: int = 1000, timeout: float = 30.0) -> None:
        exe = chromium_path()
        if not exe:
            raise CDPError("chromium is not installed: run scripts/test-deps")
        self.width, self.height = width, height
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="aimo-cdp-")
        # our end -> chromium's fd 3 (commands); chromium's fd 4 -> our end (answers, events). The child's ends are
        # moved above 9 first, then bash's redirections put them at 3 and 4 just before exec (no preexec_fn).
        low_r, self._cmd_w = os.pipe()
        self._ans_r, low_w = os.pipe()
        cmd_r = fcntl.fcntl(low_r, fcntl.F_DUPFD_CLOEXEC, 10)
        ans_w = fcntl.fcntl(low_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(low_r)
        os.close(low_w)
        self.proc = subprocess.Popen(
            [
                "bash", "-c", f'exec "$@" 3<&{cmd_r} 4>&{ans_w} {cmd_r}<&- {ans_w}>&-', "chromium",
                exe, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(cmd_r, ans_w),
        )
        os.close(cmd_r)
        os.close(ans_w)
        self._next = 0
        self._lock = threading.Lock()
        self._waiting: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._pages: dict[str, "Page"] = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.send("Browser.getVersion")
        except BaseException:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self._closed

    def new_page(self, width: int | None = None, height: int | None = None) -> "Page":
        return Page(self, width or self.width, height or self.height)

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._ans_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                self._dispatch(msg)

    def _dispatch(self, msg: dict) -> None:
        if "id" in msg:
            with self._cond:
                self._waiting[msg["id"]] = msg
                self._cond.notify_all()
            return
        page = self._pages.get(msg.get("sessionId", ""))
        if page is not None:
            page._event(msg)
        with self._cond:
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, *, session: str | None = None, timeout: float | None = None) -> dict:
        with self._lock:
            self._next += 1
            mid = self._next
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        except OSError as exc:
            raise CDPError(f"chromium is gone ({exc}) during {method}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while mid not in self._waiting:
                if self._closed:
                    raise CDPError(f"chromium exited during {method}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError(f"{method}: no answer in {timeout or self.timeout} s")
                self._cond.wait(left)
            answer = self._waiting.pop(mid)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", timeout=5)
                except CDPError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._cmd_w, self._ans_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Page:
    """One tab in a browser context of its own: its cookies, storage and cache are its own, and go with it."""

    def __init__(self, browser: Browser, width: int, height: int) -> None:
        self.browser = browser
        self.timeout = browser.timeout
        self.events: list[dict] = []
        self.console: list[dict] = []  # {type, text}
        self.exceptions: list[str] = []
        self.failed_requests: list[str] = []
        self.log_errors: list[str] = []
        self._cond = browser._cond
        self.session = ""
        self.context = browser.send("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        try:
            self.target = browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": self.context})["targetId"]
            self.session = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
            browser._pages[self.session] = self
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
            self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.close()
            raise

    def _event(self, msg: dict) -> None:
        method, params = msg.get("method", ""), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append({"type": params.get("type", ""), "text": text})
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.exceptions.append(str(d.get("exception", {}).get("description") or d.get("text", "")))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                self.log_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed":
            if not params.get("canceled"):
                self.failed_requests.append(f"{params.get('type')}: {params.get('errorText')}")
        with self._cond:
            self.events.append(msg)

    @property
    def _closed(self) -> bool:
        return self.browser._closed

    def send(self, method: str, params: dict | None = None, *, timeout: float | None = None) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def close(self) -> None:
        """Close the tab and throw its browser context away (cookies, storage, cache)."""
        self.browser._pages.pop(self.session, None)
        if not self.browser.alive:
            return
        try:
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context}, timeout=10)
        except CDPError:
            pass

    def __enter__(self) -> "Page":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the page -------------------------------------------------------------------------------------------------

    def goto(self, url: str, timeout: float | None = None) -> None:
        """Navigate and wait for the load event (redirects included)."""
        with self._cond:
            mark = len(self.events)
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {answer['errorText']}")
        self._wait_event("Page.loadEventFired", mark, timeout)

    def reload(self, timeout: float | None = None) -> None:
        with self._cond:
            mark = len(self.events)
        self.send("Page.reload", {"ignoreCache": True})
        self._wait_event("Page.loadEventFired", mark, timeout)

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def _wait_event(self, method: str, mark: int, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for ev in self.events[mark:]:
                    if ev.get("method") == method:
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise CDPError(f"no {method} in {timeout or self.timeout} s")
                self._cond.wait(left)

    def wait_load(self, mark: int, timeout: float | None = None) -> None:
        """Wait for a load event after `mark` (a page reload the page itself triggered)."""
        self._wait_event("Page.loadEventFired", mark, timeout)

    def evaluate(self, expression: str, await_promise: bool = True) -> Any:
        answer = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": await_promise})
        if "exceptionDetails" in answer:
            d = answer["exceptionDetails"]
            raise CDPError(f"evaluate failed: {d.get('exception', {}).get('description') or d.get('text')}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None, interval: float = 0.1) -> None:
        """Poll a JS expression until it is truthy (JavaScript's truthiness: a DOM node counts)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last: Any = None
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"!!({expression})"):
                    return
                last = False
            except CDPError as exc:
                last = exc
            time.sleep(interval)
        raise CDPError(f"timed out waiting for {expression!r} (last: {last!r})")

    def text(self, selector: str) -> str:
        return self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return null;
                el.scrollIntoView({{block: 'center'}});
                const r = el.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}};
            }})()"""
        )
        if not box or not box["w"] or not box["h"]:
            raise CDPError(f"nothing visible to click at {selector!r}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params = {"type": kind, "x": box["x"], "y": box["y"]}
            if kind != "mouseMoved":
                params |= {"button": "left", "clickCount": 1}
            self.send("Input.dispatchMouseEvent", params)

    def select(self, selector: str, value: str) -> None:
        """Choose an option of a <select> the way a user does: focus it, set the value, fire input and change."""
        ok = self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return false;
                el.focus();
                el.value = {json.dumps(value)};
                if (el.value !== {json.dumps(value)}) return false;
                el.dispatchEvent(new Event('input', {{bubbles: true}}));
                el.dispatchEvent(new Event('change', {{bubbles: true}}));
                return true;
            }})()"""
        )
        if not ok:
            raise CDPError(f"cannot select {value!r} in {selector!r}")

    def screenshot(self, path: str | os.PathLike, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m.get("contentSize")
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
        data = self.send("Page.captureScreenshot", params, timeout=60)["data"]
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def problems(self) -> list[str]:
        """Everything that would show as an error in DevTools' console: console.error, uncaught exceptions,
        error log entries (failed resource loads, CSP, …)."""
        out = [f"console.{c['type']}: {c['text']}" for c in self.console if c["type"] in ("error", "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log: {e}" for e in self.log_errors]
        return out


# -- fixtures (imported into tests/conftest.py) ------------------------------------------------------------------------

class SharedBrowser:
    """The run's one Chromium, started on first use and again if it died (a crash fails one test, not the rest)."""

    def __init__(self) -> None:
        self._browser: Browser | None = None
        self.launches = 0

    def get(self) -> Browser:
        if self._browser is not None and not self._browser.alive:
            self._browser.close()
            self._browser = None
        if self._browser is None:
            if not chromium_path():
                pytest.fail("chromium is not installed: run scripts/test-deps", pytrace=False)
            self._browser = Browser(width=1280, height=1000)
            self.launches += 1
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None


@pytest.fixture(scope="session")
def browser():
    shared = SharedBrowser()
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
def page(browser):
    """A fresh page (1280×1000) in a browser context of its own, on the run's shared Chromium."""
    with browser.get().new_page() as p:
        yield p
