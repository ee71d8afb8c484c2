"""Sync without the bridge: core's /wp/v2/settings path, where WordPress wipes a key it cannot validate.

These tests deactivate the bridge for their duration; an "official" OpenAI provider plugin (test-only, pointed at
the providers' fake) is what registers the connector setting, as the real "AI Provider for OpenAI" plugin would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode

from .clihelper import run_cli
from .secrets_registry import make_key

pytestmark = pytest.mark.wordpress
BASENAME = "aimo-bridge/aimo-bridge.php"


@pytest.fixture
def core_site(bridge, peers):
    peers.official_openai()
    bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('{BASENAME}');")
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(bridge.fake.settings_toml())
    r = run_cli(["site", "add", "core", bridge.url, "--user", bridge.wp.admin_user, "--stdin"], stdin=bridge.wp.admin_app_password)
    assert r.code == 0, r.err
    try:
        yield bridge
    finally:
        out = bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin('{BASENAME}'); echo is_wp_error($r) ? 'fail' : 'ok';")
        assert out.strip() == "ok"


def provider_result(r, pid: str) -> dict:
    """One provider's result in the JSON of a one-site sync command."""
    return {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}[pid]


def set_key(pid: str, *values: str) -> None:
    assert run_cli(["keys", "set", pid, "--stdin"], stdin="\n".join(values)).code == 0


def openai_option(site) -> str:
    return site.option("connectors_ai_openai_api_key", "")


def test_push_through_core_settings_and_read_back(core_site):
    key = core_site.fake.make_valid_key("openai")
    set_key("openai", key)
    set_key("groq", core_site.fake.make_valid_key("groq"))  # no groq connector without the bridge
    r = run_cli(["sync", "push", "core", "--json"])
    data = json.loads(r.out)["sites"][0]
    res = {p["provider"]: p for p in data["providers"]}
    assert not data["via_bridge"]
    assert res["openai"]["outcome"] == "stored" and openai_option(core_site) == key
    assert res["groq"]["status"] == "not registered"
    # WordPress validated the key itself with one live GET /models from the site
    calls = [q for q in core_site.fake.requests if q.provider == "openai" and q.path.endswith("/models")]
    assert any(q.headers.get("authorization", q.headers.get("Authorization", "")) == f"Bearer {key}" for q in calls)
    r = run_cli(["connectors", "list", "core"])
    assert "bridge is not active" in r.err and "a provider plugin" in r.out


def test_wordpress_wipes_a_rejected_key_and_aimo_puts_the_old_one_back(core_site):
    good = core_site.fake.make_valid_key("openai")
    set_key("openai", good)
    assert run_cli(["sync", "push", "core"]).code == 0
    bad = make_key("sk")  # unknown to the provider: WordPress's live check fails and it stores ''
    assert run_cli(["keys", "set", "openai", "--stdin", "--no-verify"], stdin=bad).code == 0  # keys set would refuse it
    r = run_cli(["sync", "push", "core", "--no-verify", "--json"])
    assert r.code == ExitCode.AUTH
    res = provider_result(r, "openai")
    assert res["outcome"] == "restored", res
    assert "emptied the connector" in res["reason"] and "put back" in res["reason"]
    assert openai_option(core_site) == good


def test_wipe_without_a_known_previous_key_is_reported(core_site):
    core_site.fake.down("openai")  # the provider is unreachable from the site: WordPress stores ''
    try:
        set_key("openai", core_site.fake.make_valid_key("openai"))
        r = run_cli(["sync", "push", "core", "--no-verify", "--json"])
    finally:
        core_site.fake.up("openai")
    assert r.code == ExitCode.AUTH
    res = provider_result(r, "openai")
    assert res["outcome"] == "wiped"
    assert openai_option(core_site) == ""


def test_pull_without_bridge_reports_what_to_run(core_site):
    remote = core_site.fake.make_valid_key("openai")
    core_site.store_key("openai", remote)
    r = run_cli(["sync", "pull", "core", "--json"])
    res = provider_result(r, "openai")
    assert res["action"] == "report" and "bridge" in res["reason"]
    assert r.code == ExitCode.DRIFT


def test_mode_without_bridge_says_how_to_install_it(core_site):
    r = run_cli(["mode", "managed", "core"])
    assert r.code == ExitCode.CONFIG and "aimo bridge activate core" in r.err
