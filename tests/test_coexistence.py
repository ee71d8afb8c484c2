"""The bridge next to the real plugins admins run (../shared/peers): AI Engine 3.6.2, AI Puffer 2.4.71, the official
AI Provider for OpenAI 1.0.3, Fueled's AI Provider for Ollama 1.2.0 — driven as an admin drives them (banner AJAX with
the page's nonce, cookie login, their settings routes, admin page loads). Issue 13: keys are never lost to them, the
bridge knows who serves what, one manager at a time, validation that reaches the provider, Ollama per serving plugin.
"""

from __future__ import annotations

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from aimo_cli.core.secrets import fingerprint

pytestmark = pytest.mark.wordpress


def post_creds(bridge, body):
    return bridge.api("POST", "/aimo/v1/credentials", body)


def by_id(status: dict) -> dict:
    return {c["id"]: c for c in status["connectors"]}


def managers(status: dict) -> dict:
    return {m["name"]: m for m in status["managers"]}


# -- item 1/4: AI Engine's Enable and admin_init never wipe or roll back a key --------------------------------------


def test_ai_engine_enable_and_admin_page_loads_never_wipe_the_pushed_key(bridge, peers):
    bridge.managed()
    key = bridge.fake.make_valid_key("openai")
    assert post_creds(bridge, {"openai": key}).json()["results"]["openai"]["status"] == "stored"
    peers.activate("ai-engine")  # a fresh AI Engine: one OpenAI environment, no key
    peers.banner_click("ai-engine", "managed")  # the admin clicks Enable on its banner
    assert bridge.option("connectors_ai_openai_api_key") == key
    peers.browser().admin_page()  # every admin page load runs its initial_sync at admin_init
    assert bridge.option("connectors_ai_openai_api_key") == key
    refusals = [e for e in bridge.status()["change_log"] if e["action"] == "refused_clear"]
    assert refusals, "the attempt to empty the key is logged"
    last = refusals[-1]
    assert last["setting"] == "connectors_ai_openai_api_key" and last["fingerprint"] == fingerprint(key)
    assert last["writer"] == {"kind": "plugin", "plugin": "ai-engine/ai-engine.php", "name": "AI Engine", "version": "3.6.2"}
    assert last["user"] == "admin" and last["via"] == "admin" and last["by_aimo"] is False and last["time"].endswith("Z")


def test_any_plugin_emptying_a_key_is_refused_in_managed_mode_but_not_in_observe(bridge, peers):
    key = bridge.fake.make_valid_key("groq")
    bridge.managed()
    bridge.store_key("groq", key)
    # a plain update_option('') from PHP: refused, whoever writes it
    bridge.php("update_option('connectors_ai_groq_api_key', '');")
    assert bridge.option("connectors_ai_groq_api_key") == key
    # observe mode promises nothing of the kind: the write goes through
    bridge.set_options(aimo_connectors_mode="observe")
    bridge.php("update_option('connectors_ai_groq_api_key', '');")
    assert bridge.option("connectors_ai_groq_api_key") == ""


def test_ai_engine_copy_of_an_old_key_is_logged_with_its_writer(bridge, peers):
    """AI Engine managed copies a key into its environment; its settings screen writes it back (a plugin write)."""
    old = bridge.fake.make_valid_key("openai")
    peers.ai_engine_managed()
    peers.ai_engine_set_env_key("openai", old)  # the admin types a key in AI Engine's settings
    assert bridge.option("connectors_ai_openai_api_key") == old  # AI Engine mirrors it into the connector option
    entry = [e for e in bridge.status()["change_log"] if e["setting"] == "connectors_ai_openai_api_key"][-1]
    assert entry["fingerprint"] == fingerprint(old) and entry["writer"]["name"] == "AI Engine" and entry["via"] == "rest"


# -- items 2/3: who serves what; one manager at a time -----------------------------------------------------------------


def test_ai_engine_managed_next_to_aimo_managed_is_seen_and_never_renamed(bridge, peers):
    bridge.managed()
    key = bridge.fake.make_valid_key("groq")
    assert post_creds(bridge, {"groq": key}).json()["results"]["groq"]["status"] == "stored"
    peers.ai_engine_managed()
    status = bridge.status()
    m = managers(status)["AI Engine"]
    assert (m["active"], m["mode"], m["managing"], m["version"], m["file"]) == (True, "managed", True, "3.6.2", "ai-engine/ai-engine.php")
    assert m["connectors"] == ["openai"]
    assert set(m["serves"]) == {"openai", "anthropic", "google", "openrouter", "perplexity", "ollama"}
    c = by_id(status)
    assert c["openai"]["name"] == "OpenAI" and c["openai"]["manager"] == "AI Engine" and c["openai"]["registered_by"] == "manager"
    assert c["openai"]["registrant"]["label"] == "AI Engine 3.6.2"
    for pid in ("openai", "anthropic", "google", "openrouter", "perplexity", "ollama"):
        assert c[pid]["served_by"]["label"] == "AI Engine 3.6.2 (gateway)", pid
        assert c[pid]["base_url"] is None  # the gateway ignores the bridge's base-URL overrides
    # no card says "via aimo" unless the bridge's own class serves it
    for row in status["connectors"]:
        if row["name"].endswith(" via aimo"):
            assert row["served_by"]["kind"] == "aimo", row
    # every write path through the bridge refuses while AI Engine manages
    r = post_creds(bridge, {"groq": bridge.fake.make_valid_key("groq")})
    assert r.status_code == 409 and r.json()["code"] == "aimo_conflict" and r.json()["data"]["manager"] == "AI Engine"
    assert "aimo connectors takeover" in r.json()["message"]
    r = bridge.api("POST", "/aimo/v1/models", {"text": "groq:llama-3.3-70b-versatile"})
    assert r.status_code == 409
    assert bridge.option("connectors_ai_groq_api_key") == key


def test_ai_engine_conflict_until_taken_over_then_all_ten_are_aimo_s(bridge, peers):
    bridge.point_at_fake()
    peers.ai_engine_managed()
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"})
    assert r.status_code == 409
    assert r.json()["code"] == "aimo_conflict" and r.json()["data"] == {"status": 409, "manager": "AI Engine"}
    assert bridge.option("aimo_connectors_mode") == "observe"
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed", "take_over": True})
    assert r.status_code == 200, r.text
    assert r.json()["demoted"] == ["AI Engine"]
    assert bridge.option("mwai_wpai_connectors_mode") == "observe"
    status = bridge.status()
    assert managers(status)["AI Engine"]["managing"] is False
    for row in [r for r in status["connectors"] if r["id"] in PROVIDER_IDS]:
        assert row["name"].endswith(" via aimo") and row["served_by"]["kind"] == "aimo", row


def test_demotion_can_be_switched_off_by_filter(bridge, peers):
    peers.ai_engine_managed()
    out = bridge.php(
        "add_filter('aimo_demote_competitors', '__return_false');"
        "$q = new WP_REST_Request('POST', '/aimo/v1/mode'); $q->set_body_params(['mode' => 'managed', 'take_over' => true]);"
        "echo json_encode(rest_do_request($q)->get_data());"
    )
    assert '"demoted":[]' in out
    assert bridge.option("mwai_wpai_connectors_mode") == "managed"


def test_deactivated_ai_engine_is_installed_inactive_and_never_a_manager(bridge, peers):
    peers.ai_engine_managed()
    peers.deactivate("ai-engine")
    assert bridge.option("mwai_wpai_connectors_mode") == "managed"  # its option stays behind
    m = managers(bridge.status())["AI Engine"]
    assert (m["active"], m["managing"], m["state"]) == (False, False, "installed, inactive")
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"})
    assert r.status_code == 200 and r.json()["demoted"] == []
    peers.remove("ai-engine")
    assert "AI Engine" not in managers(bridge.status())


def test_ai_puffer_managed_is_named_and_replaced_only_on_take_over(bridge, peers):
    bridge.point_at_fake()
    peers.puffer_managed()
    bridge.set_options(aimo_connectors_mode="managed")  # two managers: aimo was switched behind the bridge's back
    status = bridge.status()
    c = by_id(status)
    puffer_ids = "openai google anthropic openrouter xai ollama".split()  # the ones AI Puffer 2.4.71 re-registers
    for pid in puffer_ids:
        assert c[pid]["name"].endswith(" via AI Puffer") and c[pid]["manager"] == "AI Puffer", c[pid]
        assert c[pid]["registrant"]["label"] == "AI Puffer 2.4.71" and c[pid]["served_by"]["label"] == "AI Puffer 2.4.71 (gateway)"
    m = managers(status)["AI Puffer"]
    assert m["managing"] is True and m["version"] == "2.4.71" and set(puffer_ids) <= set(m["connectors"])
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"})
    assert r.status_code == 409 and r.json()["data"]["manager"] == "AI Puffer"
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed", "take_over": True})
    assert r.status_code == 200 and r.json()["demoted"] == ["AI Puffer"]
    assert bridge.option("aipkit_wp_ai_client_gateway_mode") == "observe"
    for row in [r for r in bridge.status()["connectors"] if r["id"] in PROVIDER_IDS]:
        assert row["name"].endswith(" via aimo") and row["served_by"]["kind"] == "aimo", row


def test_official_openai_plugin_keeps_precedence_even_after_a_take_over(bridge, peers):
    peers.official_openai()
    bridge.managed()
    c = by_id(bridge.status())
    openai = c["openai"]
    assert openai["registered_by"] == "plugin" and not openai["name"].endswith("via aimo")
    assert openai["registrant"]["label"] == "AI Provider for OpenAI 1.0.3"
    assert openai["served_by"]["plugin"] == "ai-provider-for-openai/plugin.php" and openai["base_url"] is None
    assert c["groq"]["registered_by"] == "aimo"
    peers.ai_engine_managed()
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed", "take_over": True})
    assert r.status_code == 200 and r.json()["demoted"] == ["AI Engine"]
    openai = by_id(bridge.status())["openai"]
    assert not openai["name"].endswith("via aimo") and openai["served_by"]["plugin"] == "ai-provider-for-openai/plugin.php"


# -- item 5: validation that reaches the provider ------------------------------------------------------------------


def test_a_key_for_a_provider_another_plugin_serves_is_checked_with_a_direct_call(bridge, peers):
    peers.official_openai()
    bridge.managed()
    bridge.fake.clear()
    r = post_creds(bridge, {"openai": "sk-obviously-invalid-000000"})
    res = r.json()["results"]["openai"]
    assert res["status"] == "rejected" and "401" in res["reason"], res
    assert bridge.option("connectors_ai_openai_api_key", "") == ""
    good = bridge.fake.make_valid_key("openai")
    res = post_creds(bridge, {"openai": good}).json()["results"]["openai"]
    assert res["status"] == "stored" and "verified with a direct call" in res["reason"] and "AI Provider for OpenAI 1.0.3" in res["reason"]
    calls = bridge.fake.requests_for("openai", "/v1/models")
    assert calls and calls[-1].headers["authorization"] == f"Bearer {good}"


def test_connected_equals_the_connectors_page(bridge, peers):
    peers.official_openai()
    bridge.managed()
    good = bridge.fake.make_valid_key("groq")
    assert post_creds(bridge, {"groq": good}).json()["results"]["groq"]["status"] == "stored"
    page = peers.page_connectors()
    for row in bridge.status()["connectors"]:
        shown = page.get(row["id"])
        assert row["page"]["visible"] is (shown is not None), row["id"]
        if shown is not None:
            assert row["page"]["connected"] is bool(shown["authentication"].get("isConnected")), row["id"]
    assert by_id(bridge.status())["groq"]["page"]["connected"] is True


# -- item 6: Ollama per serving plugin -----------------------------------------------------------------------------


def test_ollama_url_goes_to_the_ollama_plugin_host_never_into_its_bearer_key(bridge, peers):
    peers.activate("ollama")
    bridge.managed()
    url = bridge.fake.base_url("ollama")
    res = post_creds(bridge, {"ollama": url}).json()["results"]["ollama"]
    assert res["status"] == "stored" and "AI Provider for Ollama 1.2.0" in res["reason"], res
    assert bridge.option("ai_provider_for_ollama_settings") == {"host": url}
    assert bridge.option("connectors_ai_ollama_api_key", None) in (None, "")
    ollama = by_id(bridge.status())["ollama"]
    assert ollama["served_by"]["plugin"] == "ai-provider-for-ollama/plugin.php"
    assert ollama["ollama_host"]["source"] == "setting" and ollama["ollama_host"]["host"] == url
    res = post_creds(bridge, {"ollama": "ollama-cloud-key-not-a-url"}).json()["results"]["ollama"]
    assert res["status"] == "rejected" and "not a server URL" in res["reason"]


# -- item 4: a key put back by another plugin is a rollback, never "newer" -----------------------------------------


def test_ai_engine_putting_back_a_replaced_key_is_a_rollback_that_pull_refuses(cli_site, peers):
    import json

    from aimo_cli.errors import ExitCode

    from .clihelper import run_cli

    site = cli_site
    site.managed()
    old = site.fake.make_valid_key("openai")
    assert run_cli(["keys", "set", "openai", "--stdin"], stdin=old + "\n").code == 0
    assert run_cli(["sync", "push", "local"]).code == 0
    # the admin enables AI Engine and types the same key into its OpenAI environment (its settings screen)
    peers.ai_engine_managed()
    peers.ai_engine_set_env_key("openai", old)
    # aimo takes over (AI Engine demoted to observe, its environment keeps its copy), then the key is rotated
    assert run_cli(["connectors", "takeover", "local"]).code == 0
    new = site.fake.make_valid_key("openai")
    assert run_cli(["keys", "set", "openai", "--stdin"], stdin=new + "\n").code == 0
    r = run_cli(["sync", "push", "local"])
    assert r.code == 0, r.out + r.err
    assert site.option("connectors_ai_openai_api_key") == new
    # one more click on AI Engine's Enable tries to put its old copy back: in managed mode the bridge refuses
    peers.banner_click("ai-engine", "managed")
    assert site.option("connectors_ai_openai_api_key") == new
    refused = [e for e in site.status()["change_log"] if e["action"] == "refused_rollback"][-1]
    assert refused["refused_fingerprint"] == fingerprint(old) and refused["writer"]["name"] == "AI Engine"
    # with aimo in observe mode (report only) the same click rolls the key back; aimo calls it what it is
    assert run_cli(["connectors", "takeover", "local"]).code == 0
    assert run_cli(["mode", "observe", "local"]).code == 0
    peers.banner_click("ai-engine", "managed")
    assert site.option("connectors_ai_openai_api_key") == old
    r = run_cli(["sync", "status", "local", "--json"])
    row = {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}["openai"]
    assert "rollback" in row["reason"] and "AI Engine 3.6.2" in row["reason"] and "newer" not in row["reason"]
    r = run_cli(["sync", "pull", "local", "--dry-run", "--provider", "openai"])
    assert r.code == ExitCode.REFUSED, r.out + r.err
    assert "rollback" in r.out and "AI Engine" in r.out and "newer" not in r.out
    r = run_cli(["sync", "pull", "local", "--provider", "openai"])
    assert r.code == ExitCode.REFUSED
    assert run_cli(["keys", "get", "openai"]).out.startswith("••••" + new[-4:])  # aimo kept its key
    r = run_cli(["sync", "pull", "local", "--provider", "openai", "--prefer", "remote"])
    assert "pulled" in r.out, r.out + r.err  # the admin's explicit choice
    assert r.code == 0, r.out + r.err


# -- the WordPress AI plugin end to end ----------------------------------------------------------------------------


def test_wordpress_ai_excerpt_runs_through_the_bridge_with_the_model_aimo_chose(cli_site, peers):
    from .clihelper import run_cli

    site = cli_site
    peers.activate("wpai")
    site.set_options(
        wpai_features_enabled="1", **{"wpai_feature_excerpt-generation_enabled": "1", "wpai_feature_connector-approval_enabled": "1"}
    )
    key = site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=key + "\n").code == 0
    r = run_cli(["connectors", "enable", "local"])
    assert r.code == 0, r.out + r.err
    r = run_cli(["models", "set", "text", "groq:qwen/qwen3-32b", "local"])
    assert r.code == 0, r.out + r.err
    status = site.status()
    assert status["wpai_active"] is True and status["approval"]["active"] is True
    assert "groq" in status["approval"]["approved"]["ai/ai.php"]  # Connector Approval: pre-approved by the bridge
    site.fake.clear()
    content = "WordPress 7 added Settings → Connectors, one place where AI provider credentials live. " * 4
    r = site.api("POST", "/wp-abilities/v1/abilities/ai/excerpt-generation/run", {"input": {"content": content}})
    assert r.status_code == 200, r.text[:2000]
    assert isinstance(r.json(), (str, dict)) and r.json()
    calls = site.fake.requests_for("groq", "/v1/chat/completions")
    assert calls, "the excerpt request never reached the provider"
    assert calls[-1].json["model"] == "qwen/qwen3-32b" and calls[-1].auth_key == key


def test_with_the_ollama_plugin_aimo_syncs_its_host_and_never_pulls_its_cloud_key(cli_site, peers):
    import json

    from .clihelper import run_cli

    site = cli_site
    peers.activate("ollama")
    site.managed()
    cloud = "ollama-cloud-api-key-0000000000000000"
    site.store_key("ollama", cloud)  # the admin's Ollama Cloud key, typed on the Connectors page
    url = site.fake.base_url("ollama")
    assert run_cli(["keys", "set", "ollama", "--stdin"], stdin=url + "\n").code == 0
    r = run_cli(["sync", "push", "local", "--provider", "ollama"])
    assert r.code == 0, r.out + r.err
    assert site.option("ai_provider_for_ollama_settings") == {"host": url}
    assert site.option("connectors_ai_ollama_api_key") == cloud  # never replaced by a URL sent as a Bearer token
    r = run_cli(["sync", "status", "local", "--json"])
    row = {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}["ollama"]
    assert row["status"] == "in sync", row
    r = run_cli(["sync", "pull", "local", "--provider", "ollama", "--prefer", "remote"])
    assert r.code == 0, r.out + r.err
    assert run_cli(["keys", "get", "ollama", "--reveal"]).out.strip() == url  # the URL pool holds URLs only
    r = run_cli(["doctor", "--site", "local", "--offline", "--json"])
    checks = {c["id"]: c for c in json.loads(r.out)["checks"]}
    assert "AI Provider for Ollama 1.2.0 serves Ollama" in checks["features.ollama.site"]["message"]
    assert "Settings → Ollama" in checks["features.ollama.site"]["message"]


def test_bridge_status_text_names_the_plugins_that_register_and_serve(cli_site, peers):
    """`aimo bridge status` (plain text) says which plugin registered each connector and whose class serves it, by
    name and version, with the real official OpenAI plugin and the real AI Engine managing."""
    from .clihelper import run_cli

    peers.official_openai()
    cli_site.managed()
    r = run_cli(["bridge", "status", "local"])
    assert r.code == 0, r.text
    rows = {line.split()[0]: line for line in r.out.splitlines()[2:] if line.strip()}
    assert "plugin: AI Provider for OpenAI 1.0.3" in rows["openai"] and rows["openai"].count("AI Provider for OpenAI 1.0.3") == 2, rows["openai"]
    assert " aimo " in rows["groq"] and "AI Provider for OpenAI" not in rows["groq"], rows["groq"]
    peers.ai_engine_managed()
    r = run_cli(["bridge", "status", "local"])
    rows = {line.split()[0]: line for line in r.out.splitlines()[2:] if line.strip()}
    assert "AI Engine 3.6.2 (gateway)" in rows["anthropic"], rows["anthropic"]
    assert "Other connector manager: AI Engine (managed, active)" in r.err
