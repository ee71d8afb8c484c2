"""Fixtures for the bridge tests: the plugin installed and active on the real test site, the test-only mu-plugins,
a running fake of the providers, and every option a test touches put back afterwards.

Exposed to all tests by one import line in tests/conftest.py. Session scope installs; function scope (`bridge`)
snapshots and restores, so each test starts in observe mode with no keys of its own and leaves the site as it was.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .fakeprovider import MANIFEST, PROVIDERS, FakeProviders

REPO = Path(__file__).resolve().parent.parent
TEST_MU_PLUGINS = REPO / "tests" / "wp" / "mu-plugins"
BASENAME = "aimo-bridge/aimo-bridge.php"

# Every option a bridge test may change; restored (or deleted when absent before) after each test.
TOUCHED_OPTIONS = [
    "aimo_connectors_mode",
    "aimo_connectors_models",
    "aimo_provider_base_urls",
    "aimo_connectors_taken_over",
    "aimo_connectors_created_keys",
    "aimo_uninstall_remove_keys",
    "aimo_connectors_banner_dismissed",
    "wpai_connector_approvals",
    "aimo_connectors_added_approvals",
    "wpai_features_enabled",
    "wpai_feature_connector-approval_enabled",
    "mwai_wpai_connectors_mode",
    "aipkit_wp_ai_client_gateway_mode",
    "aimo_test_redirect_hosts",
    "aimo_test_login_token",
    *[MANIFEST[p].setting_name for p in PROVIDERS],
    "aimo_connectors_change_log",  # last: restoring keys above appends to it
]

# The harness resets the site; it is not a plugin the bridge's key guard should stop. A site left in managed mode
# (by a test, or a killed run) loads the guard, which would put back every key the reset deletes: the reset takes
# aimo's explicit removal path (the flag POST /aimo/v1/credentials/clear sets), so it works from any state.
_HARNESS_PHP = "$GLOBALS['aimo_bridge_clearing'] = true;\n"

# The options named in $names as they are now, into $out: {name: {"value": v} or {"absent": true}}.
_READ_STEP = r"""
$out = [];
foreach ($names as $name) {
    $v = get_option($name, '__aimo_absent__');
    $out[$name] = $v === '__aimo_absent__' ? ['absent' => true] : ['value' => $v];
}
"""

# The touched options as they are now, printed as JSON (args: the option names as JSON). For tests that compare.
_SNAPSHOT_PHP = "$names = json_decode($args[0], true);" + _READ_STEP + "echo json_encode($out);"

# Put every touched option back as the snapshot file $restore_from has it (deleted when it was absent).
_RESTORE_STEP = r"""
foreach (json_decode(file_get_contents($restore_from), true) as $name => $state) {
    if (!empty($state['absent'])) { delete_option($name); } else { update_option($name, $state['value']); }
}
"""

# Remember every touched option (into the file $save_to), then a clean start: observe mode, no keys, no preferences.
_BEGIN_STEP = _READ_STEP + r"""
file_put_contents($save_to, json_encode($out));
foreach ($names as $n) { if ($n !== 'aimo_connectors_change_log') delete_option($n); }
update_option('aimo_connectors_mode', 'observe');
"""

_CLEAR_CACHES_PHP = r"""
delete_transient('aimo_bridge_connected');
delete_transient('aimo_bridge_ollama_cooldown');
global $wpdb;
foreach ($wpdb->get_col("SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '\_transient\_aimo\_bridge\_models\_%'") as $n) {
    delete_transient(substr($n, strlen('_transient_')));
}
wp_clear_scheduled_hook('aimo_bridge_warm_models');
delete_option('aimo_bridge_cache');
wp_clear_scheduled_hook('aimo_bridge_refresh_models');
"""

# Every row of the options table and the list of tables, into the file $full_to (tests/peers.py restores it).
FULL_SNAPSHOT_STEP = r"""
global $wpdb;
$rows = $wpdb->get_results("SELECT option_name, option_value, autoload FROM {$wpdb->options}", ARRAY_A);
file_put_contents($full_to, json_encode(['options' => $rows, 'tables' => $wpdb->get_col('SHOW TABLES')]));
"""

# args: the snapshot file to restore.
_RESTORE_PHP = _HARNESS_PHP + "$restore_from = $args[0];" + _RESTORE_STEP + _CLEAR_CACHES_PHP + "echo 'ok';"
# args: the option names (JSON), the file to save the snapshot in, the previous test's snapshot to restore first (''),
# the file for a snapshot of the whole options table after the clean start ('': none; the peers fixture's).
_BEGIN_PHP = (
    _HARNESS_PHP
    + "[$names, $save_to, $restore_from, $full_to] = [json_decode($args[0], true), $args[1], $args[2], $args[3]];"
    + "if ($restore_from !== '') {" + _RESTORE_STEP + "}"
    + _BEGIN_STEP + _CLEAR_CACHES_PHP
    + "if ($full_to !== '') {" + FULL_SNAPSHOT_STEP + "}"
    + "echo 'ok';"
)

# The previous bridge test's restore, held back while the next test is a bridge test too: that test's one PHP run
# restores and starts clean (one WordPress load per test instead of two). Any other next test, and the end of the
# run, get the restore at once (settle(), called by conftest.py's pytest_runtest_teardown and by bridge_installed).
# Nothing between the two touches the options: fixtures torn down after `bridge` and set up before it (isolated,
# tmp_path, the module fixtures) never write to the site.
_PENDING: dict[str, Any] = {}


def settle(nextitem=None) -> None:
    """Restore the last bridge test's options now unless `nextitem` is a bridge test that will do it."""
    if nextitem is not None and "bridge" in getattr(nextitem, "fixturenames", ()):
        return
    pending = _PENDING.pop("restore", None)
    if pending is not None:
        site, saved, nodeid = pending
        out = site.php(_RESTORE_PHP, str(saved)).strip()
        assert out == "ok", f"restoring the site's options after {nodeid} failed: {out}"


@dataclass
class BridgeSite:
    """The test site with the bridge active, plus helpers to drive it."""

    wp: Any
    fake: FakeProviders
    tmp: Path
    _http: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.wp.url

    def php(self, code: str, *args: str) -> str:
        """Run PHP inside WordPress as the admin; `$args` holds the extra arguments."""
        import os
        import subprocess

        proc = subprocess.run(
            [str(REPO / "scripts" / "wp-php"), "-", *args],
            input=code,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "AIMO_WP_DIR": str(self.wp.state_dir)},
        )
        if proc.returncode != 0:
            raise AssertionError(f"wp-php failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def php_json(self, code: str, *args: str) -> Any:
        return json.loads(self.php(code, *args))

    def api(self, method: str, route: str, body: Any = None, *, user: str = "admin", raw: str | None = None, params: dict | None = None):
        """A raw REST call (python-httpx user agent: the bridge logs such writes as made outside aimo)."""
        import httpx

        auth = {
            "admin": (self.wp.admin_user, self.wp.admin_app_password),
            "editor": (self.wp.editor_user, self.wp.editor_app_password),
            "anonymous": None,
        }[user]
        kw: dict = {"auth": auth, "timeout": 60.0, "params": params}
        if raw is not None:
            kw["content"] = raw
            kw["headers"] = {"Content-Type": "application/json"}
        elif body is not None:
            kw["json"] = body
        return httpx.request(method, f"{self.url}/wp-json{route}", **kw)

    def client(self):
        """aimo's own WordPressClient for the admin (user agent aimo/…)."""
        from aimo_cli.wordpress.client import RestRoot, WordPressClient

        return WordPressClient(RestRoot.parse(self.url + "/wp-json/"), self.wp.admin_user, self.wp.admin_app_password, timeout=60.0)

    def set_options(self, **values: Any) -> None:
        self.php("foreach (json_decode($args[0], true) as $k => $v) { update_option($k, $v); }", json.dumps(values))

    def option(self, name: str, default: Any = None) -> Any:
        return self.php_json("echo json_encode(get_option($args[0], json_decode($args[1], true)));", name, json.dumps(default))

    def point_at_fake(self) -> None:
        """Base URL overrides for every provider but Ollama (whose URL is its credential)."""
        self.set_options(aimo_provider_base_urls=self.fake_base_urls())

    def fake_base_urls(self) -> dict[str, str]:
        return {p: self.fake.base_url(p) for p in PROVIDERS if MANIFEST[p].credential != "url"}

    def managed(self) -> None:
        """point_at_fake(), then managed mode (one PHP run, in that order)."""
        self.set_options(aimo_provider_base_urls=self.fake_base_urls(), aimo_connectors_mode="managed")

    def store_key(self, provider: str, key: str) -> None:
        """Write a key option directly (as an admin screen would), bypassing validation."""
        self.set_options(**{f"connectors_ai_{provider}_api_key": key})

    def status(self, check: bool = False) -> dict:
        r = self.api("GET", "/aimo/v1/status", params={"check": 1} if check else None)
        assert r.status_code == 200, r.text
        return r.json()

    def connector(self, status: dict, pid: str) -> dict:
        return next(c for c in status["connectors"] if c["id"] == pid)


@pytest.fixture(scope="session")
def fake_providers():
    fake = FakeProviders(port=0).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def bridge_installed(wp_site, tmp_path_factory):
    """Install the packaged bridge and the test mu-plugins, activate the bridge; undo all of it at session end."""
    from aimo_cli.services import bridge as bridge_service

    plugins = Path(wp_site.wp_path) / "wp-content" / "plugins"
    mu = Path(wp_site.wp_path) / "wp-content" / "mu-plugins"
    mu.mkdir(parents=True, exist_ok=True)
    target = plugins / "aimo-bridge"
    backup = None
    if target.exists():
        backup = tmp_path_factory.mktemp("bridge-backup") / "aimo-bridge"
        shutil.copytree(target, backup)
    state = json.loads(
        wp_site.php_eval(
            "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
            f"echo json_encode(['active' => is_plugin_active('{BASENAME}'), 'mode' => get_option('aimo_connectors_mode', null)]);"
        )
    )
    # What older versions of these tests, or a killed run, left behind: test mu-plugins that are no longer in
    # tests/wp/mu-plugins (e.g. the removed mimics of other plugins) and harness options no fixture restores. The site
    # starts from a known state, not from whatever an earlier checkout put there.
    current = {f.name for f in TEST_MU_PLUGINS.iterdir()}
    for stale in sorted(mu.glob("aimo-test-*")):
        if stale.name not in current:
            stale.unlink()
    keep = json.dumps(TOUCHED_OPTIONS)
    assert "'" not in keep
    wp_site.php_eval(
        f"global $wpdb; $keep = json_decode('{keep}', true);"
        " foreach ($wpdb->get_col(\"SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE 'aimo%'\") as $n) {"
        "   if (str_starts_with($n, 'aimo_test_') && !in_array($n, $keep, true)) { delete_option($n); }"
        " }"
    )
    added = []
    for f in sorted(TEST_MU_PLUGINS.iterdir()):
        dest = mu / f.name
        if not dest.exists():
            added.append(dest)
        shutil.copyfile(f, dest)
    bridge_service.install(wp_site.wp_path)
    out = wp_site.php_eval(
        "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
        f"$r = activate_plugin('{BASENAME}'); echo is_wp_error($r) ? $r->get_error_message() : 'ok';"
    )
    assert out.strip() == "ok", out
    try:
        yield wp_site
    finally:
        settle()
        if not state["active"]:
            wp_site.php_eval(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('{BASENAME}');")
        if state["mode"] is None:
            wp_site.php_eval("delete_option('aimo_connectors_mode');")
        for dest in added:
            dest.unlink(missing_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        if backup is not None:
            shutil.copytree(backup, target)


@pytest.fixture
def bridge(bridge_installed, fake_providers, tmp_path, request):
    """The bridge in observe mode with nothing set by this test; every touched option is restored afterwards (by the
    next bridge test's set-up when one follows: see settle())."""
    site = BridgeSite(bridge_installed, fake_providers, tmp_path)
    saved = tmp_path / "options-snapshot.json"
    fake_providers.clear()
    previous = _PENDING.pop("restore", None)
    full = str(tmp_path / "peers-options.json") if "peers" in request.fixturenames else ""  # see tests/peers.py
    out = site.php(_BEGIN_PHP, json.dumps(TOUCHED_OPTIONS), str(saved), str(previous[1]) if previous else "", full).strip()
    assert out == "ok", f"restoring the options after {previous[2]} and the clean start failed: {out}" if previous else out
    try:
        yield site
    finally:
        fake_providers.clear()
        _PENDING["restore"] = (site, saved, request.node.nodeid)


@pytest.fixture
def cli_site(bridge):
    """aimo configured for the test site ("local"), every provider pointed at the fake, the bridge too."""
    import os

    from .clihelper import run_cli

    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(bridge.fake.settings_toml())
    r = run_cli(["site", "add", "local", bridge.url, "--user", bridge.wp.admin_user, "--stdin"], stdin=bridge.wp.admin_app_password)
    assert r.code == 0, r.err
    bridge.point_at_fake()
    return bridge
