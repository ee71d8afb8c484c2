"""scripts/wordpress-up never adopts another process's server, and scripts/demo runs with any fake port and any
AIMO_DEMO_HOME (#16 item 7). These run on a scratch site of their own (a state dir under /tmp, a kernel-chosen port),
provisioned once for the module and purged after it, so the shared test site is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from . import secrets_registry

pytestmark = pytest.mark.wordpress

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scripts_env(state: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("AIMO_WP_PORT", "AIMO_WP_MULTISITE", "AIMO_KEYRING", "AIMO_WP_PORT_FIRST")}
    env["AIMO_WP_DIR"] = str(state)
    env.update(extra)
    return env


def run_script(name: str, env: dict, timeout: float = 1500) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts" / name)], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def scratch():
    """A site of its own (short /tmp path: MariaDB's socket must fit in sun_path)."""
    state = Path(tempfile.mkdtemp(prefix="aimo-wpup-"))
    port = free_port()
    proc = run_script("wordpress-up", scripts_env(state, AIMO_WP_PORT=str(port)))
    if proc.returncode != 0:
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"scripts/wordpress-up (scratch site) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    info = json.loads((state / "site.json").read_text())
    for k in ("admin_app_password", "editor_app_password", "admin_password", "editor_password"):
        secrets_registry.register(info[k])
    try:
        yield state
    finally:
        run_script("wordpress-down", {**scripts_env(state), "AIMO_WP_DIR": str(state)}, timeout=300)
        subprocess.run(["bash", str(REPO / "scripts" / "wordpress-down"), "--purge"], env=scripts_env(state), capture_output=True, timeout=300)
        shutil.rmtree(state, ignore_errors=True)


def site_info(state: Path) -> dict:
    return json.loads((state / "site.json").read_text())


class Squatter:
    """Another process's server: it binds the port at once (so the free-port check, a connect, finds nothing listening)
    and starts listening the moment wordpress-up has spawned php -S (its pid file appears) — the race #16 saw. It
    answers every request with 200 and a WordPress-looking JSON body."""

    def __init__(self, port: int, pid_file: Path) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", port))  # no SO_REUSEADDR: php -S cannot bind it too
        self.pid_file = pid_file
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        while not self.pid_file.exists() and not self._stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        body = json.dumps({"name": "someone else's WordPress", "namespaces": ["wp/v2"]}).encode()
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                self.hits += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                # let the client close first: no TIME_WAIT left on this port (the next test binds it again)
                try:
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def _stop_site(state: Path) -> None:
    proc = run_script("wordpress-down", scripts_env(state), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not (state / "run" / "php.pid").exists()


def test_a_fixed_port_taken_before_php_listens_is_an_error_not_adopted(scratch):
    port = free_port()  # a fresh port (the site's own has TIME_WAIT connections left by the server)
    _stop_site(scratch)
    squatter = Squatter(port, scratch / "run" / "php.pid")
    try:
        proc = run_script("wordpress-up", scripts_env(scratch, AIMO_WP_PORT=str(port)), timeout=600)
        # the squatter answered wordpress-up (the adoption case), or, when its thread was too slow to listen before
        # the first readiness probe, php -S was seen failing to listen: the same lost port either way
        assert squatter.hits >= 1 or "could not listen" in proc.stderr, proc.stderr
    finally:
        squatter.close()
    assert proc.returncode != 0, f"wordpress-up adopted another process's server on port {port}:\n{proc.stderr}"
    assert f"port {port}" in proc.stderr and "another process" in proc.stderr
    assert "url=" not in proc.stdout


def test_a_lost_port_moves_the_site_and_the_site_proves_it_is_its_own(scratch):
    port = site_info(scratch)["port"]  # the port the previous test moved the site to (php -S never listened there)
    _stop_site(scratch)
    squatter = Squatter(port, scratch / "run" / "php.pid")
    try:
        proc = run_script("wordpress-up", scripts_env(scratch), timeout=600)  # no AIMO_WP_PORT: the recorded one
        # the squatter answered wordpress-up (the adoption case), or, when its thread was too slow to listen before
        # the first readiness probe, php -S was seen failing to listen: the same lost port either way
        assert squatter.hits >= 1 or "could not listen" in proc.stderr, proc.stderr
    finally:
        squatter.close()
    assert proc.returncode == 0, proc.stderr
    info = site_info(scratch)
    assert info["port"] != port and f"url=http://127.0.0.1:{info['port']}" in proc.stdout
    token = (scratch / "run" / "ready-token").read_text()
    assert httpx.get(f"{info['url']}/.aimo-wp-ready", timeout=30).text == token
    assert httpx.get(f"{info['url']}/wp-json/", timeout=30).json()["name"] == "aimo test"
    # the site itself moved: WordPress's own URLs name the new port
    r = httpx.get(f"{info['url']}/wp-json/wp/v2/users/me", auth=(info["admin_user"], info["admin_app_password"]), timeout=30)
    assert r.status_code == 200 and r.json()["link"].startswith(info["url"])


def test_demo_runs_with_any_fake_port_and_a_missing_home(scratch, tmp_path):
    port = free_port()
    assert port != 8080
    home = tmp_path / "not" / "yet" / "there"
    env = scripts_env(scratch, AIMO_WP_PORT=str(site_info(scratch)["port"]), AIMO_DEMO_FAKE_PORT=str(port), AIMO_DEMO_HOME=str(home))
    proc = subprocess.run(["bash", str(REPO / "scripts" / "demo")], env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert home.is_dir() and (home / "config" / "aimo" / "aimo.toml").exists()
    # the connectors reached the fake on that port from inside WordPress
    assert "+ aimo connectors enable local" in proc.stderr
    assert "Traceback" not in proc.stderr
    mu = Path(site_info(scratch)["mu_plugins_dir"])
    assert not list(mu.glob("aimo-demo-*.php")), "the demo's loopback opening outlived the demo"
