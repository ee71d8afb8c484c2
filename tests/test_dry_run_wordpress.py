"""--dry-run on every write, and honest messages when a write changes nothing (issue 16 item 5), against the real
WordPress test site with the real bridge.

A dry run may read (the site's status, the provider's key check) but writes nothing anywhere: every option the
bridge and WordPress keep for aimo (modes, keys, base URLs, model preferences, the change log) is compared before
and after, and so are aimo's local files (settings, secrets, sync state, audit log; the catalog cache is a cache).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.stores.secrets import MemoryBackend

from .bridgefix import _SNAPSHOT_PHP, TOUCHED_OPTIONS
from .clihelper import run_cli

pytestmark = pytest.mark.wordpress

MODEL = "groq:openai/gpt-oss-120b"


def site_options(site) -> dict:
    return json.loads(site.php(_SNAPSHOT_PHP, json.dumps(TOUCHED_OPTIONS)))


def local_files() -> dict:
    """aimo's own state: every file under the config, data and state dirs, and the in-memory secret store."""
    found = {}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        root = Path(os.environ[var])
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith(".lock"):
                found[str(path)] = path.read_bytes()
    found["secrets"] = json.dumps(dict(MemoryBackend._data), sort_keys=True).encode()
    return found


def plugin_files(site) -> dict:
    root = Path(site.wp.wp_path) / "wp-content" / "plugins" / "aimo-bridge"
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*")}


def dry(args: list[str], stdin: str = "") -> str:
    r = run_cli([*args, "--dry-run"], stdin=stdin)
    assert r.code == 0, (args, r.out + r.err)
    assert "Dry run: nothing was changed." in r.err or "nothing to do" in r.out, (args, r.out + r.err)
    return r.out


def test_dry_runs_write_nothing_anywhere_and_say_what_they_would_do(cli_site):
    site = cli_site
    groq = site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=groq).code == 0
    site_before, local_before, plugin_before = site_options(site), local_files(), plugin_files(site)

    # observe mode, the key only local
    assert "local: would switch mode observe → managed" in dry(["mode", "managed", "local"])
    out = dry(["connectors", "enable", "local"])
    assert "local: would switch mode observe → managed" in out and "groq" in out and "dry-run" in out
    assert "local: already in observe mode (keys untouched) (nothing to do)" in dry(["connectors", "stop", "local"])
    assert f"local: would set WordPress AI's text model to {MODEL} (now Automatic)" in dry(["models", "set", "text", MODEL, "local"])
    assert "local: WordPress AI's image model is already Automatic (nothing to do)" in dry(["models", "auto", "image", "local"])
    fake_groq = site.fake.base_url("groq").rstrip("/")
    out = dry(["bridge", "base-url", "groq", "https://gw.example/groq/v1", "local"])
    assert f"local: groq would use base URL https://gw.example/groq/v1 (now base URL {fake_groq})" in out
    assert f"groq would use the provider's own endpoint (now base URL {fake_groq})" in dry(["bridge", "base-url", "groq", "--clear", "local"])
    assert "already active (nothing to do)" in dry(["bridge", "activate", "local"])
    assert "Would install aimo bridge" in dry(["bridge", "install", "--wp-path", str(site.wp.wp_path)])
    new = site.fake.make_valid_key("groq")
    assert "Would store Groq API key" in dry(["keys", "set", "groq", "--stdin"], stdin=new)
    assert "Would remove Groq" in dry(["keys", "rm", "groq"])
    assert "Would remove site local" in dry(["site", "rm", "local"])
    out = dry(["site", "add", "other", site.url, "--user", site.wp.admin_user, "--stdin"], stdin=site.wp.admin_app_password)
    assert f"Would add site other: {site.url}" in out

    # managed, in sync: what a rotation and a clear would do
    site.set_options(aimo_connectors_mode="managed")
    assert run_cli(["sync", "push", "local"]).code == 0
    site_before, local_before = site_options(site), local_files()
    assert "local: already managed (nothing to do)" in dry(["mode", "managed", "local"])
    out = dry(["keys", "rotate", "groq", "local", "--stdin"], stdin=new)
    assert "Would store the new Groq key locally" in out and "would replace" in out and "dry-run" in out
    out = dry(["connectors", "clear", "groq", "local"])
    assert "would take the key" in out and "dry-run" in out

    assert site_options(site) == site_before
    assert local_files() == local_before
    assert plugin_files(site) == plugin_before
    assert site.option("connectors_ai_groq_api_key") == groq


def test_a_dry_run_refuses_what_the_write_would_refuse(cli_site):
    new = cli_site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=cli_site.fake.make_valid_key("groq")).code == 0
    r = run_cli(["keys", "rotate", "groq", "local", "--stdin", "--dry-run"], stdin=new)
    assert r.code == ExitCode.REFUSED and "observe mode" in r.out + r.err  # observe mode: a rotation writes no key


def test_a_base_url_dry_run_is_checked_by_the_site_as_the_write_would_be(cli_site):
    """The bridge checks a dry run (POST aimo/v1/base-urls/check) with the write's own permission and URL rules: keys in
    the clear to another host are refused by both, with the same exit code; nothing is stored by either."""
    site = cli_site
    before = site.option("aimo_provider_base_urls", {})
    insecure = ["bridge", "base-url", "groq", "http://gw.example/groq/v1", "local"]
    dry_run, write = run_cli([*insecure, "--dry-run"]), run_cli(insecure)
    assert write.code != 0 and "aimo_insecure_url" in write.err, write.out + write.err
    assert (dry_run.code, "aimo_insecure_url" in dry_run.err) == (write.code, True), dry_run.out + dry_run.err
    assert site.option("aimo_provider_base_urls", {}) == before
    # a bridge without the check route (an older one): the dry run says it could not be checked, and writes nothing
    older = Path(site.wp.wp_path) / "wp-content" / "mu-plugins" / "aimo-test-no-check-route.php"
    older.write_text('<?php add_filter( "rest_endpoints", function ( $e ) { unset( $e["/aimo/v1/base-urls/check"] ); return $e; } );\n')
    try:
        r = run_cli(["bridge", "base-url", "groq", "https://gw.example/groq/v1", "local", "--dry-run"])
    finally:
        older.unlink()
    assert r.code == 0 and "would use base URL https://gw.example/groq/v1" in r.out, r.out + r.err
    assert "too old to check this change" in r.err, r.err
    assert site.option("aimo_provider_base_urls", {}) == before


def test_writes_that_change_nothing_say_so(cli_site):
    site = cli_site
    r = run_cli(["mode", "observe", "local"])
    assert r.code == 0 and r.out.strip() == "local: already in observe mode", r.out
    assert "local: mode observe → managed" in run_cli(["mode", "managed", "local"]).out
    r = run_cli(["mode", "managed", "local"])
    assert r.code == 0 and r.out.strip() == "local: already managed" and "→" not in r.out
    r = run_cli(["connectors", "stop", "local"])
    assert "local: mode managed → observe (keys untouched)" in r.out
    assert run_cli(["connectors", "stop", "local"]).out.strip() == "local: already in observe mode (keys untouched)"

    url = "https://gw.example/groq/v1"
    assert f"local: groq now uses base URL {url}" in run_cli(["bridge", "base-url", "groq", url, "local"]).out
    log_before = site.option("aimo_connectors_change_log")
    r = run_cli(["bridge", "base-url", "groq", url + "/", "local"])
    assert r.code == 0 and r.out.strip() == f"local: groq already uses base URL {url}"
    assert site.option("aimo_connectors_change_log") == log_before

    groq = site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=groq).code == 0
    r = run_cli(["keys", "set", "groq", "--stdin"], stdin=groq)
    assert r.code == 0 and "is already stored" in r.out and "nothing changed" in r.out
    site.point_at_fake()
    site.set_options(aimo_connectors_mode="managed")
    assert run_cli(["sync", "push", "local"]).code == 0
    assert f"WordPress AI text model → {MODEL} (was Automatic)" in run_cli(["models", "set", "text", MODEL, "local"]).out
    r = run_cli(["models", "set", "text", MODEL, "local"])
    assert r.code == 0 and r.out.strip() == f"local: WordPress AI's text model is already {MODEL}"
    assert run_cli(["site", "use", "local"]).out.strip() == "local is already the default site."


def test_retry_only_where_it_can_help(cli_site):
    """Drift found by a read is no failure to retry; a site that cannot be reached is."""
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=cli_site.fake.make_valid_key("groq")).code == 0
    r = run_cli(["sync", "status", "local"])
    assert r.code == ExitCode.DRIFT, r.out + r.err
    assert "Retry:" not in r.err
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.write_text(cfg.read_text() + '\n[sites.down]\nurl = "http://127.0.0.1:9"\nuser = "admin"\n')
    MemoryBackend._data["site/down"] = "abcd efgh ijkl mnop qrst uvwx"
    r = run_cli(["sync", "status", "local", "down"])
    assert r.code == ExitCode.REMOTE
    assert r.err.strip().endswith("Retry: down")
