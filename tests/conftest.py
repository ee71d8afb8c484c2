"""Test isolation, the real WordPress site fixture, the secret-leak scan and the armed-fault check.

- `isolated` (autouse): each test has its own XDG config/data/state/cache dirs and an empty in-memory secret store.
- The leak scan: each test's output (captured stdout/stderr/logs, every `run_cli`/`run_aimo` result) and the files aimo
  wrote in its state and cache dirs are scanned for that test's secrets and the run's (tests/secrets_registry.py);
  at the end of the run every output is scanned again for every other test's secrets. Any hit fails the run.
- Armed faults (tests/armed.py): a test that passed fails if a fault it armed in the fakes or the proxy never fired.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDERS

from . import armed, debuglog, secrets_registry
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
    _scan_files(home)


def _scan_files(home: Path) -> None:
    """aimo's own files of this test (logs, state, caches) must hold none of its secrets. The config and data dirs are
    left out: tests write settings by hand there, and the file secret store lives there on purpose."""
    for sub in ("state", "cache"):
        for path in sorted((home / sub).rglob("*")):
            if not path.is_file() or path.stat().st_size > 20_000_000:
                continue
            text = path.read_bytes().decode("latin-1")
            label = f"file {path.relative_to(home)}"
            _remember(label, text)
            found = secrets_registry.leaks(text)
            if found:
                _LEAKS.append(f"{secrets_registry._current['test']} ({label}): {len(found)} test secret(s) in a file aimo wrote")


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
    secrets_registry.register_session(info["admin_app_password"])
    secrets_registry.register_session(info["editor_app_password"])
    for extra in ("admin_password", "editor_password"):
        if info.get(extra):
            secrets_registry.register_session(info[extra])
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


# -- the secret-leak scan and the armed-fault check -----------------------------------------------------------------

_LEAKS: list[str] = []
_OUTPUTS: list[tuple[str, str, str]] = []  # (test, where, text) of every test that reveals nothing: the end-of-run scan
_STATS = {"tests": 0, "test_secrets": 0}


def pytest_configure(config):
    config.addinivalue_line("markers", "reveals_secret: the test deliberately prints a secret (keys get --reveal)")
    debuglog.start()


def _remember(where: str, text: str) -> None:
    if text and not _REVEALS.get(secrets_registry._current["test"], False):
        _OUTPUTS.append((secrets_registry._current["test"], where, text))


_REVEALS: dict[str, bool] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test starts with no secret of its own and no armed fault; its secrets are forgotten when it ends."""
    secrets_registry.begin_test(item.nodeid)
    _REVEALS[item.nodeid] = item.get_closest_marker("reveals_secret") is not None
    armed.reset()
    try:
        yield
    finally:
        _STATS["tests"] += 1
        _STATS["test_secrets"] += len(secrets_registry.TEST_SECRETS)
        secrets_registry.end_test()
        armed.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's fixtures are gone: the site's options are restored unless the next test's bridge set-up does
    it (tests/bridgefix.py settle())."""
    from .bridgefix import settle

    try:
        return (yield)
    finally:
        settle(nextitem)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # a test that failed already fails for its own reason
    never = armed.unfired()
    if never:
        pytest.fail(f"{len(never)} armed fault(s) never fired (the test did not exercise them): " + "; ".join(never), pytrace=False)
    return result


def pytest_runtest_logreport(report):
    if report.when != "teardown" or _REVEALS.get(report.nodeid, False):
        return
    for name, content in report.sections:  # the teardown report carries the sections of all three phases
        _remember(name, content)
        found = secrets_registry.leaks(content)
        if found:
            _LEAKS.append(f"{report.nodeid} [{name}]: {len(found)} test secret(s) in captured output")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "teardown":
        revealed = _REVEALS.get(item.nodeid, False)
        while CAPTURED:
            label, text = CAPTURED.pop()
            if revealed:
                continue
            _remember(label, text)
            found = secrets_registry.leaks(text)
            if found:
                _LEAKS.append(f"{item.nodeid} ({label}): {len(found)} test secret(s) in aimo output")


def _cross_scan() -> None:
    """Every test's output against the secrets other tests registered: state leaking from one test into another, or a
    test using a value that only another test registered."""
    seen: set[tuple[str, str]] = set()
    for test, where, text in _OUTPUTS:
        for _secret, owner in secrets_registry.foreign_leaks(text, test):
            if (test, owner) not in seen:
                seen.add((test, owner))
                _LEAKS.append(f"{test} ({where}): a secret registered by {owner} (register it in this test too, or find what carries it over)")


def pytest_sessionfinish(session, exitstatus):
    _scan_debug_log(session)
    _cross_scan()
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
    terminalreporter.write_line(
        f"secret-leak scan: {_STATS['test_secrets']} test secrets over {_STATS['tests']} tests, each checked against its own test's output"
        f" and files, {len(secrets_registry.SESSION_SECRETS)} run secrets against every test, {len(secrets_registry.EVERY_SECRET)} against"
        f" all {len(_OUTPUTS)} outputs at the end; {len(_LEAKS)} leak(s)"
    )


from .bridgefix import bridge, bridge_installed, cli_site, fake_providers  # noqa: E402,F401  (bridge fixtures, tests/bridgefix.py)
from .fakeenv import fake, fake_env  # noqa: E402,F401  (the providers' fake per test, tests/fakeenv.py)
from .cdp import browser, page  # noqa: E402,F401  (one Chromium per run, a fresh page per test, tests/cdp.py)
from .peers import peer_staging, peers  # noqa: E402,F401  (the real third-party plugins, tests/peers.py)
