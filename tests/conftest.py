"""Test isolation, the real WordPress site fixture, and the session-wide secret-leak scan."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDERS

from . import debuglog, secrets_registry
from .clihelper import CAPTURED

REPO = Path(__file__).resolve().parent.parent
PROVIDER_ENV = [p.env_var for p in PROVIDERS.values()] + (  # the provider manifest's env vars, then aimo's own
    "AIMO_CONFIG AIMO_KEYRING AIMO_SECRETS_FILE AIMO_CA_BUNDLE AIMO_DEBUG AIMO_HTTP_TIMEOUT"
).split()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own config, data, state and cache dirs and an empty in-memory secret store."""
    for var in PROVIDER_ENV:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    for name, var in (("config", "XDG_CONFIG_HOME"), ("data", "XDG_DATA_HOME"), ("state", "XDG_STATE_HOME"), ("cache", "XDG_CACHE_HOME")):
        d = home / name
        d.mkdir(parents=True)
        monkeypatch.setenv(var, str(d))
    monkeypatch.setenv("AIMO_KEYRING", "memory")
    from aimo_cli.stores.secrets import MemoryBackend

    MemoryBackend.reset()
    yield home
    MemoryBackend.reset()


# -- the real WordPress site ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WPSite:
    url: str
    wp_path: Path
    state_dir: Path
    admin_user: str
    admin_app_password: str
    editor_user: str
    editor_app_password: str
    php: str
    wp_version: str
    port: int

    def php_eval(self, code: str, timeout: float = 60) -> str:
        """Run PHP inside the loaded WordPress (as the admin) and return its output."""
        proc = subprocess.run(
            [str(REPO / "scripts" / "wp-php")],
            input=code,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "AIMO_WP_DIR": str(self.state_dir)},
        )
        if proc.returncode != 0:
            raise AssertionError(f"wp-php failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout


def _state_dir() -> Path:
    return Path(os.environ.get("AIMO_WP_DIR") or REPO / ".wp")


@pytest.fixture(scope="session")
def wp_site() -> WPSite:
    """Bring up (or reuse) the real WordPress 7.x test site. If it cannot come up, the tests fail; they never skip."""
    state = _state_dir()
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "wordpress-up")],
        capture_output=True,
        text=True,
        timeout=1500,
        env={**os.environ, "AIMO_WP_DIR": str(state)},
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/wordpress-up failed ({proc.returncode}); the real-WordPress tests cannot run:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    info = json.loads((state / "site.json").read_text())
    secrets_registry.register(info["admin_app_password"])
    secrets_registry.register(info["editor_app_password"])
    for extra in ("admin_password", "editor_password"):
        if info.get(extra):
            secrets_registry.register(info[extra])
    return WPSite(
        url=info["url"],
        wp_path=Path(info["wp_path"]),
        state_dir=state,
        admin_user=info["admin_user"],
        admin_app_password=info["admin_app_password"],
        editor_user=info["editor_user"],
        editor_app_password=info["editor_app_password"],
        php=info.get("php", "php"),
        wp_version=info.get("wp_version", ""),
        port=int(info.get("port", 8881)),
    )


# -- the secret-leak scan -------------------------------------------------------------------------------------------

_LEAKS: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "reveals_secret: the test deliberately prints a secret (keys get --reveal)")
    debuglog.start()


def pytest_runtest_logreport(report):
    if getattr(report, "_aimo_reveals", False):
        return
    for name, content in report.sections:
        found = secrets_registry.leaks(content)
        if found:
            _LEAKS.append(f"{report.nodeid} [{name}]: {len(found)} test secret(s) in captured output")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report._aimo_reveals = item.get_closest_marker("reveals_secret") is not None
    if call.when == "teardown":
        revealed = report._aimo_reveals
        while CAPTURED:
            label, text = CAPTURED.pop()
            if revealed:
                continue
            found = secrets_registry.leaks(text)
            if found:
                _LEAKS.append(f"{item.nodeid} ({label}): {len(found)} test secret(s) in aimo output")


def pytest_sessionfinish(session, exitstatus):
    _scan_debug_log(session)
    if _LEAKS:
        import sys

        sys.stderr.write("\nSECRET LEAK SCAN FAILED: test keys or application passwords appeared in output:\n")
        for line in _LEAKS:
            sys.stderr.write("  " + line + "\n")
        session.exitstatus = 1


_DEBUG_LOG: list[str] = []


def _scan_debug_log(session) -> None:
    """Fail the run on any PHP notice, warning or deprecation the bridge caused on the test site (tests/debuglog.py)."""
    import sys

    path, problems = debuglog.scan()
    _DEBUG_LOG[:] = problems
    if problems:
        sys.stderr.write(f"\nDEBUG LOG SCAN FAILED: the bridge caused {len(problems)} PHP notice(s) in {path}:\n")
        for line in problems[:30]:
            sys.stderr.write("  " + line + "\n")
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"debug-log scan: {len(_DEBUG_LOG)} PHP notice(s) caused by the aimo bridge")
    n = len(secrets_registry.TEST_SECRETS)
    terminalreporter.write_line(f"secret-leak scan: {n} test secrets checked against every captured output; {len(_LEAKS)} leak(s)")
from .bridgefix import bridge, bridge_installed, cli_site, fake_providers  # noqa: E402,F401  (bridge fixtures, tests/bridgefix.py)
from .fakeenv import fake, fake_env  # noqa: E402,F401  (the providers' fake per test, tests/fakeenv.py)
from .cdp import browser, page  # noqa: E402,F401  (one Chromium per run, a fresh page per test, tests/cdp.py)
from .peers import peers  # noqa: E402,F401  (the real third-party plugins, tests/peers.py)
