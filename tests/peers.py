"""The real third-party plugins (../shared/peers) in the test site, driven the way an admin drives them.

`peers` (function scope, on top of `bridge`) installs any of the snapshots into wp-content/plugins (a copy made
once per run and moved in and out, checked unchanged before reuse: `Staging`; the project never holds them),
activates, deactivates and removes them, and at the end of the test removes every plugin it installed and puts the
site back as it was: every row of the options table (added rows deleted, changed rows
restored byte for byte) and every database table the plugins created. Nothing here imitates a plugin: AI Engine and
AI Puffer are switched through their banners' AJAX actions with the nonce from the Connectors page, by an admin
logged in with a cookie (wp-login.php form), and configured through their own settings routes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def peers_dir() -> Path:
    """Where the plugin snapshots live: $AIMO_PEERS_DIR, else ../shared/peers next to the checkout."""
    env = os.environ.get("AIMO_PEERS_DIR")
    if env:
        return Path(env)
    for cand in (REPO.parent / "shared" / "peers", Path("/work/shared/peers")):
        if cand.is_dir():
            return cand
    return REPO.parent / "shared" / "peers"


@dataclass(frozen=True)
class Peer:
    slug: str
    main: str
    name: str
    version: str
    mode_option: str = ""

    @property
    def basename(self) -> str:
        return f"{self.slug}/{self.main}"


PEERS = {
    "ai-engine": Peer("ai-engine", "ai-engine.php", "AI Engine", "3.6.2", "mwai_wpai_connectors_mode"),
    "openai": Peer("ai-provider-for-openai", "plugin.php", "AI Provider for OpenAI", "1.0.3"),
    "ollama": Peer("ai-provider-for-ollama", "plugin.php", "AI Provider for Ollama", "1.2.0"),
    "puffer": Peer("gpt3-ai-content-generator", "gpt3-ai-content-generator.php", "AI Puffer", "2.4.71", "aipkit_wp_ai_client_gateway_mode"),
    "wpai": Peer("ai", "ai.php", "AI", "1.1.0"),
}


_RESTORE_PHP = r"""
global $wpdb;
$snap = json_decode(file_get_contents($args[0]), true);
$before = [];
foreach ($snap['options'] as $r) { $before[$r['option_name']] = $r; }
$now = [];
foreach ($wpdb->get_results("SELECT option_name, option_value, autoload FROM {$wpdb->options}", ARRAY_A) as $r) { $now[$r['option_name']] = $r; }
$changed = 0;
foreach ($now as $name => $r) {
    if (!isset($before[$name])) { $wpdb->delete($wpdb->options, ['option_name' => $name]); $changed++; }
}
foreach ($before as $name => $r) {
    if (!isset($now[$name])) { $wpdb->insert($wpdb->options, $r); $changed++; }
    elseif ($now[$name]['option_value'] !== $r['option_value'] || $now[$name]['autoload'] !== $r['autoload']) {
        $wpdb->update($wpdb->options, ['option_value' => $r['option_value'], 'autoload' => $r['autoload']], ['option_name' => $name]); $changed++;
    }
}
foreach (array_diff($wpdb->get_col('SHOW TABLES'), $snap['tables']) as $t) { $wpdb->query("DROP TABLE IF EXISTS `$t`"); }
wp_cache_flush();
echo 'ok';
"""


class AdminBrowser:
    """An administrator in a browser: logged in through the wp-login.php form, with the session cookie."""

    def __init__(self, url: str, user: str, password: str) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=90.0, follow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (aimo tests; admin browser)"})
        self.http.cookies.set("wordpress_test_cookie", "WP Cookie check")
        r = self.http.post(
            f"{self.url}/wp-login.php",
            data={"log": user, "pwd": password, "wp-submit": "Log In", "redirect_to": f"{self.url}/wp-admin/", "testcookie": "1"},
        )
        assert r.status_code == 302 and any(c.startswith("wordpress_logged_in_") for c in self.http.cookies.keys()), (
            f"wp-login.php did not log the admin in ({r.status_code})"
        )
        self._rest_nonce = ""

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kw):
        r = self.http.get(f"{self.url}{path}", **kw)
        assert r.status_code < 500, f"GET {path}: {r.status_code}\n{r.text[:2000]}"
        return r

    def admin_page(self, page: str = "index.php") -> str:
        """Load an admin page (admin_init runs, as on every admin page load); returns its HTML."""
        r = self.get(f"/wp-admin/{page}")
        assert r.status_code == 200, f"/wp-admin/{page}: {r.status_code}"
        return r.text

    def connectors_page(self) -> str:
        return self.admin_page("options-connectors.php")

    def banner_payloads(self, html: str | None = None) -> dict[str, dict]:
        """The banner payloads (`var D = {...}`) of AI Engine and AI Puffer on the Connectors page, by plugin."""
        html = self.connectors_page() if html is None else html
        found: dict[str, dict] = {}
        dec = json.JSONDecoder()
        for m in re.finditer(r"var D = ", html):
            obj, _ = dec.raw_decode(html, m.end())
            link = str(obj.get("manageLink", ""))
            if "AI Engine" in link:
                found["ai-engine"] = obj
            elif "AI Puffer" in link:
                found["puffer"] = obj
        return found

    def ajax(self, action: str, **data: str):
        return self.http.post(f"{self.url}/wp-admin/admin-ajax.php", data={"action": action, **data})

    def rest_nonce(self) -> str:
        if not self._rest_nonce:
            r = self.http.get(f"{self.url}/wp-admin/admin-ajax.php", params={"action": "rest-nonce"})
            assert r.status_code == 200 and r.text.strip(), r.text
            self._rest_nonce = r.text.strip()
        return self._rest_nonce

    def rest(self, method: str, route: str, body: Any = None, params: dict | None = None):
        """A REST call with the cookie and the wp_rest nonce, as the admin screens (React apps) make them."""
        return self.http.request(
            method, f"{self.url}/wp-json{route}", json=body, params=params, headers={"X-WP-Nonce": self.rest_nonce()}
        )


@dataclass
class PeerSite:
    """Install, activate and drive the real plugins on the bridge's test site."""

    site: Any  # tests.bridgefix.BridgeSite
    staging: "Staging"
    installed: list[str] = field(default_factory=list)
    _browser: AdminBrowser | None = None

    @property
    def plugins_dir(self) -> Path:
        return Path(self.site.wp.wp_path) / "wp-content" / "plugins"

    def browser(self) -> AdminBrowser:
        if self._browser is None:
            info = json.loads((Path(self.site.wp.state_dir) / "site.json").read_text())
            self._browser = AdminBrowser(self.site.url, self.site.wp.admin_user, info["admin_password"])
        return self._browser

    def install(self, *keys: str) -> None:
        for key in keys:
            peer = PEERS[key]
            dest = self.plugins_dir / peer.slug
            if dest.exists():
                _rmtree(dest)
            self.staging.move_in(peer.slug, dest)
            if key not in self.installed:
                self.installed.append(key)

    def activate(self, *keys: str) -> None:
        for key in keys:
            if key not in self.installed:
                self.install(key)
        code = (
            "require_once ABSPATH . 'wp-admin/includes/plugin.php'; $out = [];"
            "foreach (json_decode($args[0], true) as $b) { $r = activate_plugin($b); if (is_wp_error($r)) { $out[] = $b . ': ' . $r->get_error_message(); } }"
            "echo $out ? implode(\"\\n\", $out) : 'ok';"
        )
        out = self.site.php(code, json.dumps([PEERS[k].basename for k in keys]))
        assert out.strip().endswith("ok"), out

    def deactivate(self, *keys: str) -> None:
        self.site.php(
            "require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins(json_decode($args[0], true)); echo 'ok';",
            json.dumps([PEERS[k].basename for k in keys]),
        )

    def remove(self, *keys: str) -> None:
        self.deactivate(*keys)
        for key in keys:
            self.staging.move_out(PEERS[key].slug, self.plugins_dir / PEERS[key].slug)
            if key in self.installed:
                self.installed.remove(key)

    def active(self) -> list[str]:
        return self.site.php_json(
            "require_once ABSPATH . 'wp-admin/includes/plugin.php'; echo json_encode(array_values(array_filter(json_decode($args[0], true), 'is_plugin_active')));",
            json.dumps([p.basename for p in PEERS.values()]),
        )

    def official_openai(self) -> None:
        """The official AI Provider for OpenAI, active; its calls to api.openai.com go to the loopback fake."""
        self.site.set_options(aimo_test_redirect_hosts={"api.openai.com": self.site.fake.url + "/openai"})
        self.activate("openai")

    def ai_engine_managed(self) -> None:
        """AI Engine active, and switched to managed by an admin clicking Enable on its banner."""
        self.activate("ai-engine")
        self.banner_click("ai-engine", "managed")

    def puffer_managed(self) -> None:
        """AI Puffer active, and switched to managed by an admin clicking Enable on its banner."""
        self.activate("puffer")
        self.banner_click("puffer", "managed")

    # -- AI Engine and AI Puffer, as an admin uses them ---------------------------------------------------------------

    def banner_click(self, key: str, mode: str):
        """Click Enable (mode=managed) or Stop (observe) on a plugin's banner on Settings → Connectors."""
        b = self.browser()
        payload = b.banner_payloads().get(key)
        assert payload, f"no {PEERS[key].name} banner on the Connectors page"
        action = {"ai-engine": "mwai_wpai_connectors_set_mode", "puffer": "aipkit_wp_ai_client_set_mode"}[key]
        r = b.ajax(action, mode=mode, nonce=payload["nonce"])
        assert r.status_code == 200 and r.json().get("success"), f"{action}: {r.status_code} {r.text[:500]}"
        return r.json()

    def ai_engine_options(self) -> dict:
        r = self.browser().rest("GET", "/mwai/v1/settings/options")
        assert r.status_code == 200, r.text[:500]
        return r.json()["options"]

    def ai_engine_set_env_key(self, env_type: str, key: str) -> None:
        """Type a key into AI Engine's first environment of a type and save (its settings screen's route)."""
        b = self.browser()
        options = self.ai_engine_options()
        for env in options["ai_envs"]:
            if env.get("type") == env_type:
                env["apikey"] = key
                break
        else:
            raise AssertionError(f"AI Engine has no {env_type} environment")
        r = b.rest("POST", "/mwai/v1/settings/update", {"options": options})
        assert r.status_code == 200 and r.json().get("success"), r.text[:500]

    def ai_engine_env_key(self, env_type: str) -> str:
        return self.site.php(
            "$o = get_option('mwai_options', []); foreach (($o['ai_envs'] ?? []) as $e) { if (($e['type'] ?? '') === $args[0]) { echo $e['apikey'] ?? ''; break; } }",
            env_type,
        )

    def page_connectors(self) -> dict:
        """The connector data the Settings → Connectors page renders (its script module data), as the admin sees it."""
        html = self.browser().connectors_page()
        m = re.search(r'<script[^>]*id="wp-script-module-data-options-connectors-wp-admin"[^>]*>(.*?)</script>', html, re.S)
        assert m, "no connectors data on the Connectors page"
        return json.loads(m.group(1)).get("connectors", {})


_AUTOLOAD_PHP = """<?php
// Written by the aimo test suite in place of `composer install --no-dev` (the plugin has no runtime dependencies):
// its composer.json PSR-4 autoload map, nothing else.
spl_autoload_register(static function ($class) {
    foreach (%s as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = __DIR__ . '/../' . $dir . str_replace('\\\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) { require $file; }
            return;
        }
    }
});
"""


def _composer_autoload(dest: Path) -> None:
    """A plugin snapshot without vendor/ but with a composer.json autoload map and no runtime dependencies gets the
    autoloader composer would generate (AI Provider for Ollama's snapshot ships without vendor/)."""
    composer = dest / "composer.json"
    if (dest / "vendor" / "autoload.php").exists() or not composer.exists():
        return
    spec = json.loads(composer.read_text())
    deps = [d for d in spec.get("require", {}) if d != "php" and not d.startswith("ext-")]
    psr4 = spec.get("autoload", {}).get("psr-4", {})
    if deps or not psr4:
        return
    php_map = "[" + ", ".join(f"'{k.replace(chr(92), chr(92) * 2)}' => '{v}'" for k, v in psr4.items()) + "]"
    (dest / "vendor").mkdir(exist_ok=True)
    (dest / "vendor" / "autoload.php").write_text(_AUTOLOAD_PHP % php_map)


class Staging:
    """Each plugin copied once per run (beside the site, outside WordPress) and moved into wp-content/plugins and back
    by rename: the same files with the same mtimes, so the server's OPcache and wp-php's keep them compiled. A copy a
    test or the plugin changed (any file added, removed, resized or touched) is deleted, and the next test gets a new
    one from the snapshot."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prints: dict[str, frozenset] = {}

    @staticmethod
    def _print(path: Path) -> frozenset:
        out = set()
        for d, dirs, files in os.walk(path):
            for name in dirs + files:
                st = os.lstat(os.path.join(d, name))
                out.add((os.path.relpath(os.path.join(d, name), path), st.st_size, st.st_mtime_ns, st.st_mode))
        return frozenset(out)

    def move_in(self, slug: str, dest: Path) -> None:
        staged = self.root / slug
        if not staged.exists():
            src = peers_dir() / slug
            main = next((p.main for p in PEERS.values() if p.slug == slug), "")
            assert (src / main).is_file(), f"plugin snapshot missing: {src / main} (set AIMO_PEERS_DIR)"
            self.root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(src, staged, copy_function=shutil.copyfile)
            for d, _dirs, _files in os.walk(staged):
                os.chmod(d, 0o755)
            _composer_autoload(staged)
            self._prints[slug] = self._print(staged)
        os.rename(staged, dest)

    def move_out(self, slug: str, dest: Path) -> None:
        if not dest.exists():
            return
        if self._prints.get(slug) == self._print(dest) and not (self.root / slug).exists():
            os.rename(dest, self.root / slug)
        else:
            self._prints.pop(slug, None)
            _rmtree(dest)

    def remove_all(self) -> None:
        _rmtree(self.root)


def _rmtree(path: Path) -> None:
    def onerror(func, p, _exc):
        os.chmod(p, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        func(p)

    shutil.rmtree(path, onerror=onerror) if path.exists() else None


@pytest.fixture(scope="session")
def peer_staging(bridge_installed):
    """The plugin copies of this run, beside the site's state dir (the same file system as wp-content: a rename)."""
    staging = Staging(Path(bridge_installed.state_dir) / "peers-staging")
    staging.remove_all()  # left by a killed run: start from the snapshots
    try:
        yield staging
    finally:
        staging.remove_all()


@pytest.fixture
def peers(bridge, tmp_path, peer_staging):
    """The real peer plugins on demand; the site (options, tables, plugins dir) is put back after the test."""
    snap = tmp_path / "peers-options.json"  # the whole options table after the clean start: the bridge fixture's PHP run
    assert snap.is_file(), "the bridge fixture did not snapshot the options table for peers"
    ps = PeerSite(bridge, peer_staging)
    try:
        yield ps
    finally:
        if ps._browser is not None:
            ps._browser.close()
        # one PHP run: deactivate what the test installed (its deactivation hooks run), then restore; the plugins'
        # shutdown hooks, loaded in this run, must not write after the restore
        deactivate = (
            "require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins(json_decode($args[1], true));"
            "remove_all_actions('shutdown');"
        )
        assert bridge.php(deactivate + _RESTORE_PHP, str(snap), json.dumps([PEERS[k].basename for k in ps.installed])).strip() == "ok"
        for key in list(ps.installed):
            peer_staging.move_out(PEERS[key].slug, ps.plugins_dir / PEERS[key].slug)
        ps.installed.clear()
