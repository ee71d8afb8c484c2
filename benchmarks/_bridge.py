"""Shared set-up for the benchmarks of the bridge on the local WordPress test site: this tree's bridge installed and
active in managed mode, the tests' loopback and login mu-plugins, the fake providers with a key for each, and a
probe mu-plugin that records each admin page's PHP CPU time and database queries. Everything is undone on exit."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import _wp  # noqa: E402

from tests.fakeprovider import PROVIDERS, FakeProviders  # noqa: E402

PROBE_FILE = Path("/tmp/aimo-bench-probe-%s.jsonl" % os.environ.get("AIMO_WP_PORT", "default"))
PROBE = r"""<?php
/* aimo benchmarks (temporary): PHP CPU time and queries of each wp-admin page, appended to a file at shutdown. */
defined( 'ABSPATH' ) || exit;
if ( is_admin() && ! wp_doing_ajax() && ! defined( 'SAVEQUERIES' ) ) {
	define( 'SAVEQUERIES', true );
}
$GLOBALS['aimo_bench_ru'] = getrusage(); // php -S workers live on: CPU time is counted from here
add_action( 'shutdown', static function () {
	if ( ! is_admin() || wp_doing_ajax() ) {
		return;
	}
	global $wpdb;
	$r = getrusage();
	$s = $GLOBALS['aimo_bench_ru'];
	file_put_contents( '%s', wp_json_encode( array(
		'uri'     => $_SERVER['REQUEST_URI'] ?? '',
		'cpu'     => ( $r['ru_utime.tv_sec'] - $s['ru_utime.tv_sec'] ) + ( $r['ru_utime.tv_usec'] - $s['ru_utime.tv_usec'] ) / 1e6
			+ ( $r['ru_stime.tv_sec'] - $s['ru_stime.tv_sec'] ) + ( $r['ru_stime.tv_usec'] - $s['ru_stime.tv_usec'] ) / 1e6,
		'queries' => $wpdb->num_queries,
		'list'    => array_map( static fn( $q ) => $q[0], (array) $wpdb->queries ),
	) ) . "\n", FILE_APPEND );
}, PHP_INT_MAX );
""" % PROBE_FILE


class Site:
    def __init__(self, info: dict, fake: FakeProviders) -> None:
        self.info, self.fake = info, fake
        self.url = info["url"]
        self.state_dir = Path(os.environ.get("AIMO_WP_DIR") or _wp.REPO / ".wp")

    def php(self, code: str, *args: str) -> str:
        proc = subprocess.run([str(_wp.REPO / "scripts" / "wp-php"), "-", *args], input=code, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "AIMO_WP_DIR": str(self.state_dir)})
        if proc.returncode != 0:
            raise SystemExit(f"wp-php failed: {proc.stderr[-1000:]}")
        return proc.stdout

    def set_key(self, pid: str, key: str) -> None:
        self.php("update_option($args[0], $args[1]);", f"connectors_ai_{pid}_api_key", key)

    def clear_caches(self) -> None:
        self.php(CLEAR)

    def admin_client(self):
        import httpx

        token = secrets.token_hex(24)
        self.php("update_option('aimo_test_login_token', $args[0]);", token)
        client = httpx.Client(follow_redirects=True, timeout=120.0)
        r = client.get(f"{self.url}/wp-admin/", params={"aimo_test_login": token})
        assert r.status_code == 200 and "wp-login.php" not in str(r.url), r.url
        return client

    def page(self, client) -> tuple[float, dict]:
        """Load Settings → Connectors; wall seconds and the probe's record (PHP CPU seconds, queries)."""
        PROBE_FILE.unlink(missing_ok=True)
        t = time.perf_counter()
        r = client.get(f"{self.url}/wp-admin/options-connectors.php")
        wall = time.perf_counter() - t
        assert r.status_code == 200 and "options-connectors" in r.text, r.status_code
        rec = {}
        for _ in range(50):
            if PROBE_FILE.exists() and PROBE_FILE.read_text().strip():
                rec = json.loads(PROBE_FILE.read_text().strip().splitlines()[-1])
                break
            time.sleep(0.02)
        return wall, rec


CLEAR = r"""
delete_option('aimo_bridge_cache');
delete_transient('aimo_bridge_connected');
delete_transient('aimo_bridge_ollama_cooldown');
global $wpdb;
foreach ($wpdb->get_col("SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '\_transient\_aimo\_bridge\_models\_%'") as $n) {
    delete_transient(substr($n, strlen('_transient_')));
}
"""


@contextlib.contextmanager
def managed_site():
    """This tree's bridge, managed, every provider keyed and pointed at a fresh fake."""
    from aimo_cli.services import bridge as bridge_service

    info = _wp.site()
    wp_path = Path(info["wp_path"])
    mu = wp_path / "wp-content" / "mu-plugins"
    mu.mkdir(parents=True, exist_ok=True)
    added = []
    for f in sorted((REPO / "tests" / "wp" / "mu-plugins").iterdir()):
        if f.suffix == ".php" and "login" in f.name or "loopback" in f.name:
            dest = mu / f.name
            if not dest.exists():
                added.append(dest)
                shutil.copyfile(f, dest)
    probe = mu / "aimo-bench-probe.php"
    probe.write_text(PROBE)
    added.append(probe)
    bridge_service.install(str(wp_path))
    with FakeProviders(port=0) as fake:
        site = Site(info, fake)
        urls = {p: fake.base_url(p) for p in PROVIDERS if p != "ollama"}
        site.php(
            "require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('aimo-bridge/aimo-bridge.php');"
            "update_option('aimo_provider_base_urls', json_decode($args[0], true)); update_option('aimo_connectors_mode', 'managed');",
            json.dumps(urls),
        )
        for p in PROVIDERS:
            site.set_key(p, fake.base_url("ollama") if p == "ollama" else fake.make_valid_key(p))
        site.clear_caches()
        try:
            yield site
        finally:
            site.php(
                "update_option('aimo_connectors_mode', 'observe'); delete_option('aimo_provider_base_urls');"
                "foreach (json_decode($args[0], true) as $p) { delete_option('connectors_ai_' . $p . '_api_key'); }" + CLEAR,
                json.dumps(list(PROVIDERS)),
            )
            for dest in added:
                dest.unlink(missing_ok=True)


def median(values: list[float]) -> float:
    return statistics.median(values)
