"""The seed's sync scenarios against the real WordPress site with the real bridge and the providers' fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from aimo_cli.core.secrets import BULLET
from aimo_cli.errors import ExitCode

from .clihelper import run_cli
from .secrets_registry import make_key

pytestmark = pytest.mark.wordpress


@pytest.fixture
def site(cli_site):
    return cli_site


def provider_result(r, pid: str) -> dict:
    """One provider's result in the JSON of a one-site sync command."""
    return {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}[pid]


def set_key(pid: str, *values: str) -> None:
    r = run_cli(["keys", "set", pid, "--stdin"], stdin="\n".join(values) + "\n")
    assert r.code == 0, r.err


def synced_groq_key(site) -> str:
    """Managed mode, a valid Groq key stored locally and pushed: the starting point of most scenarios."""
    site.managed()
    key = site.fake.make_valid_key("groq")
    set_key("groq", key)
    assert run_cli(["sync", "push", "local"]).code == 0
    return key


def option(site, pid: str) -> str:
    return site.option(f"connectors_ai_{pid}_api_key", "")


def no_masked_value_reached_a_provider(site) -> None:
    for req in site.fake.requests:
        assert BULLET not in json.dumps(req.headers, ensure_ascii=False), f"a masked value was sent: {req.provider} {req.path}"


def test_enable_registers_every_provider_and_pushes(site):
    groq = site.fake.make_valid_key("groq")
    set_key("groq", groq)
    r = run_cli(["connectors", "enable", "local"])
    assert r.code == 0, r.out + r.err
    assert "observe → managed" in r.out
    assert option(site, "groq") == groq
    view = json.loads(run_cli(["connectors", "list", "local", "--json"]).out)
    rows = {c["provider"]: c for c in view["connectors"]}
    assert view["mode"] == "managed" and set(rows) == set(PROVIDER_IDS)
    assert all(c["registered_by"] == "aimo" for c in rows.values()), rows
    assert rows["groq"]["state"] == "in sync" and rows["groq"]["wordpress"] == "Connected"
    assert rows["xai"]["wordpress"] == "Set up" and rows["xai"]["state"] == "both empty"
    no_masked_value_reached_a_provider(site)


def test_push_costs_one_read_and_one_write(site):
    site.managed()
    set_key("groq", site.fake.make_valid_key("groq"))
    set_key("xai", site.fake.make_valid_key("xai"))
    r = run_cli(["sync", "push", "local", "--json"])
    assert r.code == 0, r.err
    data = json.loads(r.out)["sites"][0]
    assert data["requests"] == 2 and data["via_bridge"]
    outcomes = {p["provider"]: p["outcome"] for p in data["providers"]}
    assert outcomes["groq"] == outcomes["xai"] == "stored"
    again = json.loads(run_cli(["sync", "push", "local", "--json"]).out)["sites"][0]
    assert again["requests"] == 1  # in sync: one read, no write
    assert run_cli(["sync", "status", "local"]).code == 0


def test_pool_syncs_first_line_only(site):
    site.managed()
    k1, k2 = site.fake.make_valid_key("groq"), site.fake.make_valid_key("groq")
    set_key("groq", k1, k2)
    assert run_cli(["sync", "push", "local"]).code == 0
    assert option(site, "groq") == k1
    r = run_cli(["keys", "list", "--json"])
    assert {x["provider"]: x for x in json.loads(r.out)["keys"]}["groq"]["pool_size"] == 2


def test_ollama_url_lands_in_the_connector_option(site):
    site.managed()
    url = site.fake.base_url("ollama")
    set_key("ollama", url, "http://127.0.0.1:1/unused")
    r = run_cli(["sync", "push", "local", "--provider", "ollama"])
    assert r.code == 0, r.out + r.err
    assert option(site, "ollama") == url


def test_empty_never_wipes_in_either_direction(site):
    site.managed()
    remote_only = site.fake.make_valid_key("xai")
    site.store_key("xai", remote_only)
    r = run_cli(["sync", "push", "local", "--json"])  # no local xai key
    assert r.code == 0
    assert option(site, "xai") == remote_only
    local_only = site.fake.make_valid_key("groq")
    set_key("groq", local_only)
    site.store_key("groq", "")
    r = run_cli(["sync", "pull", "local", "--json"])  # the site has no groq key
    assert r.code == 0, r.err  # nothing to pull: the site has no groq key, and an empty remote never wipes a local one
    r = run_cli(["keys", "list", "--json"])
    assert {x["provider"]: x for x in json.loads(r.out)["keys"]}["groq"]["last4"] == local_only[-4:]
    no_masked_value_reached_a_provider(site)


def test_key_rejected_by_the_site_keeps_the_old_one(site):
    good = synced_groq_key(site)
    bad = make_key("gsk")  # the fake does not know it: the provider rejects it
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=bad).code == 0  # keys set would refuse it
    r = run_cli(["sync", "push", "local", "--no-verify", "--json"])
    assert r.code == ExitCode.AUTH
    res = provider_result(r, "groq")
    assert res["outcome"] == "rejected" and "kept its previous one" in res["reason"]
    assert option(site, "groq") == good


def test_bad_key_is_stopped_before_it_leaves_aimo(site):
    site.managed()
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=make_key("gsk")).code == 0  # keys set would refuse it
    site.fake.clear()
    r = run_cli(["sync", "push", "local", "--json"])
    assert r.code == ExitCode.AUTH
    res = provider_result(r, "groq")
    assert res["outcome"] == "rejected" and "before sending" in res["reason"]
    assert option(site, "groq") == ""


def test_change_in_wp_admin_is_drift_and_pulled(site):
    synced_groq_key(site)
    c = site.fake.make_valid_key("groq")
    resp = site.api("POST", "/wp/v2/settings", {"connectors_ai_groq_api_key": c})  # what the Connectors page does
    assert resp.status_code == 200 and resp.json()["connectors_ai_groq_api_key"].endswith(c[-4:])
    r = run_cli(["sync", "status", "local", "--json"])
    assert r.code == ExitCode.DRIFT
    assert provider_result(r, "groq")["status"] == "remote changed"
    assert run_cli(["sync", "push", "local"]).code == ExitCode.DRIFT  # push does not silently overwrite the site's change
    assert option(site, "groq") == c
    r = run_cli(["sync", "pull", "local"])
    assert r.code == 0, r.out + r.err
    assert run_cli(["sync", "status", "local"]).code == 0
    from aimo_cli.stores.secrets import MemoryBackend

    assert MemoryBackend._data["provider/groq"].split("\n")[0] == c


def test_two_sided_change_is_a_conflict(site):
    synced_groq_key(site)
    c = site.fake.make_valid_key("groq")
    site.api("POST", "/wp/v2/settings", {"connectors_ai_groq_api_key": c})
    b = site.fake.make_valid_key("groq")
    set_key("groq", b)
    r = run_cli(["sync", "push", "local", "--json"])
    assert r.code == ExitCode.DRIFT
    assert provider_result(r, "groq")["outcome"] == "conflict"
    assert run_cli(["sync", "pull", "local"]).code == ExitCode.DRIFT
    assert option(site, "groq") == c
    assert run_cli(["sync", "push", "local", "--prefer", "local"]).code == 0
    assert option(site, "groq") == b


def test_dry_run_writes_nothing(site):
    site.managed()
    set_key("groq", site.fake.make_valid_key("groq"))
    r = run_cli(["sync", "push", "local", "--dry-run", "--json"])
    assert r.code == 0
    assert provider_result(r, "groq")["outcome"] == "dry-run"
    assert option(site, "groq") == ""


@pytest.fixture
def groq_constant(site):
    extra = Path(site.wp.state_dir) / "wp-config-extra.php"
    before = extra.read_text() if extra.exists() else None
    value = site.fake.make_valid_key("groq")
    extra.write_text((before or "<?php\n") + f"\ndefine('GROQ_API_KEY', '{value}');\n")
    try:
        yield value
    finally:
        if before is None:
            extra.unlink()
        else:
            extra.write_text(before)


def test_env_or_constant_sourced_connector_is_refused(site, groq_constant):
    site.managed()
    local = site.fake.make_valid_key("groq")
    set_key("groq", local)
    r = run_cli(["sync", "push", "local", "--json"])
    assert r.code == ExitCode.REFUSED
    res = provider_result(r, "groq")
    assert res["outcome"] == "refused" and "constant" in res["reason"]
    assert option(site, "groq") == ""
    r = run_cli(["sync", "push", "local", "--force"])
    assert r.code == 0, r.out + r.err
    assert option(site, "groq") == local


def test_competitor_conflict_take_over_and_take_back(site, peers):
    site.point_at_fake()
    peers.ai_engine_managed()
    r = run_cli(["connectors", "enable", "local"])
    assert r.code == ExitCode.REFUSED
    assert "AI Engine" in r.err and "takeover" in r.err
    r = run_cli(["connectors", "takeover", "local"])
    assert r.code == 0, r.out + r.err
    assert site.option("mwai_wpai_connectors_mode") == "observe"
    assert json.loads(run_cli(["mode", "local", "--json"]).out)["mode"] == "managed"
    # the competitor grabs the page back behind our back: aimo sees it and takes back control on request
    peers.banner_click("ai-engine", "managed")
    r = run_cli(["mode", "local"])
    assert "AI Engine" in r.out
    r = run_cli(["mode", "managed", "local", "--take-over"])
    assert r.code == 0, r.err
    assert site.option("mwai_wpai_connectors_mode") == "observe"
    r = run_cli(["connectors", "stop", "local"])
    assert r.code == 0 and "keys untouched" in r.out


def test_model_preference_reaches_wordpress_ai_first_and_automatic_clears(site):
    synced_groq_key(site)
    model = site.fake.models["groq"][0][0]  # (id, kind, context window)
    r = run_cli(["models", "set", "text", f"groq:{model}", "local"])
    assert r.code == 0, r.out + r.err
    probe = "echo json_encode(apply_filters('wpai_preferred_text_models', [['openai', 'gpt-5']]));"
    prefs = json.loads(site.php(probe))
    assert prefs[0] == ["groq", model] and ["openai", "gpt-5"] in prefs
    r = run_cli(["models", "auto", "text", "local"])
    assert r.code == 0, r.err
    assert json.loads(site.php(probe)) == [["openai", "gpt-5"]]


def test_model_preference_for_disconnected_provider_is_refused(site):
    site.managed()
    r = run_cli(["models", "set", "text", "xai:grok-4", "local"])
    assert r.code == ExitCode.AUTH and "not connected" in r.err


def test_rotate_replaces_the_key_on_sites_holding_the_old_one(site):
    synced_groq_key(site)
    new = site.fake.make_valid_key("groq")
    r = run_cli(["keys", "rotate", "groq", "local", "--stdin"], stdin=new)
    assert r.code == 0, r.out + r.err
    assert option(site, "groq") == new
    # a new key the provider rejects is stopped before anything changes
    r = run_cli(["keys", "rotate", "groq", "local", "--stdin"], stdin=make_key("gsk"))
    assert r.code == ExitCode.AUTH and option(site, "groq") == new
