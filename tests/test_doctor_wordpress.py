"""aimo doctor against the real WordPress test site: credentials, permissions, the bridge's states, competitors,
env-sourced keys, wiped keys, model preferences, Ollama, and the request budget. Every test leaves the site as it
found it (the `bridge` fixture restores every option it touches; files written here are put back)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode

from .bridgefix import BASENAME
from .clihelper import run_cli

pytestmark = pytest.mark.wordpress

WP_BUDGET = 6
WP_BUDGET_OFFLINE = 2


def write_config(wp, fake=None, *, user=None, password=None, name="local") -> None:
    import os

    from aimo_cli.stores.secrets import MemoryBackend

    path = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    site = [f'default_site = "{name}"', "", f"[sites.{name}]", f'url = "{wp.url}"', f'user = "{user or wp.admin_user}"', f'rest_root = "{wp.url}/wp-json/"', ""]
    path.write_text("\n".join(site) + "\n" + (fake.settings_toml() if fake else ""), encoding="utf-8")
    MemoryBackend._data[f"site/{name}"] = password or wp.admin_app_password


def doctor(*args: str):
    r = run_cli(["doctor", "--json", *args])
    assert r.out, r.err
    report = json.loads(r.out)
    assert report["exit_code"] == r.code
    return r.code, report, {c["id"]: c for c in report["checks"] if c["site"] is None}


def site_check(report, cid, site="local"):
    found = [c for c in report["checks"] if c["id"] == cid and c["site"] == site]
    assert found, f"no check {cid} for {site}: {[c['id'] for c in report['checks']]}"
    return found[0]


@pytest.fixture
def quiet_catalog(monkeypatch):
    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")


# -- credentials and permissions (no bridge needed) ------------------------------------------------------------------


def test_wrong_application_password_fails_with_a_new_password_hint(wp_site):
    write_config(wp_site, password="wrong wrong wrong wrong wrong wrong")
    code, report, _ = doctor()
    assert code == ExitCode.AUTH
    creds = site_check(report, "site.credentials")
    assert creds["status"] == "fail" and "HTTP 401" in creds["message"]
    assert "new application password" in creds["hint"] and "aimo site add local" in creds["hint"]
    assert site_check(report, "site.reachable")["status"] == "ok"
    assert report["requests"]["local"] <= WP_BUDGET


def test_non_admin_user_fails_manage_options(wp_site):
    write_config(wp_site, user=wp_site.editor_user, password=wp_site.editor_app_password)
    code, report, _ = doctor()
    assert code == ExitCode.AUTH
    assert site_check(report, "site.credentials")["status"] == "ok"
    admin = site_check(report, "site.manage_options")
    assert admin["status"] == "fail" and "editor" in admin["message"] and "Administrator" in admin["hint"]


def test_plain_text_and_quiet_and_junit(wp_site, tmp_path):
    write_config(wp_site, password="wrong wrong wrong wrong wrong wrong")
    r = run_cli(["doctor", "--offline"])
    assert r.code == ExitCode.AUTH
    assert "site local" in r.out and "FAIL  site.credentials" in r.out and "hint: Create a new application password" in r.out
    q = run_cli(["doctor", "--offline", "--quiet"])
    assert q.code == ExitCode.AUTH and q.out.strip().splitlines() == [q.out.strip()] and "site.credentials" in q.out
    junit = tmp_path / "report.xml"
    assert run_cli(["doctor", "--offline", "--junit", str(junit)]).code == ExitCode.AUTH
    from xml.etree import ElementTree as ET

    root = ET.parse(junit).getroot()
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["site.credentials"]


# -- with the bridge -------------------------------------------------------------------------------------------------


def managed_with_groq(bridge, monkeypatch):
    """Managed mode, groq's key on the site and locally (env): the healthy baseline."""
    fake = bridge.fake
    bridge.managed()
    key = fake.make_valid_key("groq")
    bridge.store_key("groq", key)
    monkeypatch.setenv("GROQ_API_KEY", key)
    write_config(bridge.wp, fake)
    return key


def test_healthy_managed_site_within_budget(bridge, monkeypatch, quiet_catalog):
    managed_with_groq(bridge, monkeypatch)
    code, report, _ = doctor()
    bad = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, bad
    for cid in ("site.bridge", "site.bridge_version", "site.mode", "site.managers", "site.ai_support", "site.wordpress_version"):
        assert site_check(report, cid)["status"] == "ok", site_check(report, cid)
    for cid in ("connector.groq.registered", "connector.groq.sync", "connector.groq.connected"):
        assert site_check(report, cid)["status"] == "ok", site_check(report, cid)
    assert site_check(report, "features.no_sampling")["status"] == "ok"
    local_verify = [c for c in report["checks"] if c["id"] == "local.groq.verified"][0]
    assert local_verify["status"] == "ok"
    # the bridge's status names the user (current_user): no users/me, online or offline
    assert report["requests"]["local"] == 1
    assert site_check(report, "site.credentials")["message"] == f"logged in as {bridge.wp.admin_user}"
    assert site_check(report, "site.manage_options")["status"] == "ok"
    online = report["requests"]["local"]
    code, report, _ = doctor("--offline")
    assert report["requests"]["local"] == 1
    assert [c for c in report["checks"] if c["id"] == "local.groq.verified"][0]["status"] == "skip"
    print(f"requests: online {online}, offline {report['requests']['local']}")


def test_bridge_deactivated_is_told_from_not_installed(bridge, monkeypatch, quiet_catalog):
    write_config(bridge.wp, bridge.fake)
    bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('{BASENAME}');")
    try:
        code, report, _ = doctor()
        check = site_check(report, "site.bridge")
        assert check["status"] == "fail" and "installed" in check["message"] and "not active" in check["message"]
        assert check["hint"] == "Activate it: aimo bridge activate local"
        assert code == ExitCode.DRIFT
        assert report["requests"]["local"] <= WP_BUDGET
        without_bridge = report["requests"]["local"]
        code, report, _ = doctor("--offline")
        assert report["requests"]["local"] <= WP_BUDGET_OFFLINE
        assert site_check(report, "site.bridge")["status"] == "warn"
        print(f"requests without the bridge: online {without_bridge}, offline {report['requests']['local']}")
    finally:
        out = bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin('{BASENAME}'); echo is_wp_error($r) ? $r->get_error_message() : 'ok';")
        assert out.strip() == "ok", out


def test_mode_off_warns_and_strict_fails(bridge, monkeypatch, quiet_catalog):
    write_config(bridge.wp, bridge.fake)
    bridge.set_options(aimo_connectors_mode="off")
    code, report, _ = doctor("--offline")
    mode = site_check(report, "site.mode")
    assert mode["status"] == "warn" and mode["hint"] == "aimo connectors enable local" and "off" in mode["message"]
    assert code == 0
    code, report, _ = doctor("--offline", "--strict")
    assert code == ExitCode.DRIFT


def test_competitor_in_managed_mode_fails_with_takeover_hint(bridge, peers, monkeypatch, quiet_catalog):
    write_config(bridge.wp, bridge.fake)
    peers.ai_engine_managed()
    code, report, _ = doctor("--offline")
    managers = site_check(report, "site.managers")
    assert managers["status"] == "fail" and "AI Engine" in managers["message"]
    assert managers["hint"].startswith("aimo connectors takeover local")
    assert code == ExitCode.DRIFT


@pytest.fixture
def extra_config(bridge):
    """Write the site's wp-config-extra.php for one test and put the previous one back."""
    path = Path(bridge.wp.state_dir) / "wp-config-extra.php"
    before = path.read_text() if path.exists() else None
    yield path
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(before)


def test_key_from_a_php_constant_warns_that_a_push_is_useless(bridge, monkeypatch, extra_config, quiet_catalog):
    key = managed_with_groq(bridge, monkeypatch)
    # the site's base URL points at the fake: the server owner allows its constant key to go there (#14 item 3)
    extra_config.write_text(f"<?php\ndefined('GROQ_API_KEY') || define('GROQ_API_KEY', '{key}');\ndefine('AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS', true);\n")
    code, report, _ = doctor()
    source = site_check(report, "connector.groq.key_source")
    assert source["status"] == "warn" and "constant" in source["message"] and "push" in source["message"]
    assert site_check(report, "connector.groq.sync")["status"] == "skip"
    assert code == 0
    assert run_cli(["doctor", "--strict", "--offline"]).code == ExitCode.DRIFT


def test_wiped_key_fails_connected_and_hints_push(bridge, monkeypatch, quiet_catalog):
    managed_with_groq(bridge, monkeypatch)
    # what WordPress does when a key check fails on save (in managed mode the bridge refuses an empty write, so the
    # wipe happens while it is off guard, in observe mode)
    bridge.set_options(aimo_connectors_mode="observe")
    bridge.store_key("groq", "")
    bridge.set_options(aimo_connectors_mode="managed")
    code, report, _ = doctor()
    sync = site_check(report, "connector.groq.sync")
    assert sync["status"] == "warn" and "wiped" in sync["message"] and sync["hint"] == "aimo sync push local"
    connected = site_check(report, "connector.groq.connected")
    assert connected["status"] == "fail" and "no key" in connected["message"]
    assert code == ExitCode.DRIFT


def test_preference_on_a_disconnected_provider(bridge, monkeypatch, quiet_catalog):
    managed_with_groq(bridge, monkeypatch)
    bridge.set_options(aimo_connectors_models={"text": "openai:gpt-5-mini", "image": ""})
    code, report, _ = doctor()
    model = site_check(report, "features.model.text")
    assert model["status"] == "fail" and "openai" in model["message"] and "unsupported_model" in model["message"]
    assert site_check(report, "features.model.image")["status"] == "ok"
    assert code == ExitCode.DRIFT


def test_preference_on_a_connected_provider_exists_in_the_catalog(bridge, monkeypatch, quiet_catalog):
    from aimo_cli.context import AppContext
    from aimo_cli.services.models import Catalog

    managed_with_groq(bridge, monkeypatch)
    cat = Catalog(AppContext(), revalidate=lambda ids: None)
    try:
        listing = cat.listings(["groq"])[0]
    finally:
        cat.close()
    model = listing.entries[0].id
    bridge.set_options(aimo_connectors_models={"text": f"groq:{model}", "image": ""})
    code, report, _ = doctor()
    assert site_check(report, "features.model.text")["status"] == "ok", site_check(report, "features.model.text")
    bridge.set_options(aimo_connectors_models={"text": "groq:no-such-model-xyz", "image": ""})
    code, report, _ = doctor()
    missing = site_check(report, "features.model.text")
    assert missing["status"] == "fail" and "no-such-model-xyz" in missing["message"]
    assert code == ExitCode.DRIFT


def test_ollama_down_from_aimo_and_from_the_site(bridge, monkeypatch, quiet_catalog):
    managed_with_groq(bridge, monkeypatch)
    url = bridge.fake.base_url("ollama")
    bridge.store_key("ollama", url)
    monkeypatch.setenv("OLLAMA_HOST", url)
    code, report, _ = doctor()
    assert [c for c in report["checks"] if c["id"] == "features.ollama.aimo"][0]["status"] == "ok"
    assert site_check(report, "features.ollama.site")["status"] == "ok"
    bridge.fake.down("ollama")
    try:
        code, report, _ = doctor()
    finally:
        bridge.fake.up("ollama")
    here = [c for c in report["checks"] if c["id"] == "features.ollama.aimo"][0]
    assert here["status"] == "fail" and "ollama serve" in here["hint"]
    there = site_check(report, "features.ollama.site")
    assert there["status"] == "fail" and "WordPress server" in there["hint"]
    assert code == ExitCode.DRIFT
