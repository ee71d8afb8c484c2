"""POST/GET /aimo/v1/credentials, the change log, and the typed Python client (aimo_cli.wordpress.bridge)."""

from __future__ import annotations

import json

import pytest

from aimo_cli.core.secrets import fingerprint, wp_mask
from aimo_cli.errors import SafetyError
from aimo_cli.wordpress import bridge as wpbridge

pytestmark = pytest.mark.wordpress


def post_creds(bridge, body, **kw):
    return bridge.api("POST", "/aimo/v1/credentials", body, **kw)


def test_safe_write_stores_rejects_and_reports_unchanged(bridge):
    bridge.managed()
    good = bridge.fake.make_valid_key("groq")
    r = post_creds(bridge, {"groq": good})
    assert r.status_code == 200, r.text
    assert r.json() == {"results": {"groq": {"status": "stored", "reason": "", "fingerprint": fingerprint(good)}}}
    assert bridge.option("connectors_ai_groq_api_key") == good
    # validated live, with the new key, through the provider's /models
    models_calls = bridge.fake.requests_for("groq", "/v1/models")
    assert models_calls and models_calls[-1].headers["authorization"] == f"Bearer {good}"

    for bad, why in (("gsk-test-not-a-valid-key", "Invalid API Key"), ("", "empty"), (wp_mask(good), "masked")):
        r = post_creds(bridge, {"groq": bad})
        result = r.json()["results"]["groq"]
        assert result["status"] == "rejected" and why in result["reason"], result
        assert result["fingerprint"] == fingerprint(good)  # still the stored key's
        assert bridge.option("connectors_ai_groq_api_key") == good

    r = post_creds(bridge, {"groq": good})
    assert r.json()["results"]["groq"] == {"status": "unchanged", "reason": "", "fingerprint": fingerprint(good)}
    status = bridge.status()
    groq = bridge.connector(status, "groq")
    assert groq["fingerprint"] == fingerprint(good) and groq["mask_tail"] == good[-4:] and groq["key_source"] == "database"


def test_ollama_url_is_validated_as_the_new_url(bridge):
    bridge.managed()
    results = bridge.api("POST", "/aimo/v1/credentials", {"ollama": "http://127.0.0.1:9/nothing-here"}).json()["results"]
    assert results["ollama"]["status"] == "unreachable" and results["ollama"]["cause"] == "unreachable"  # nothing listens: not a refusal
    r = post_creds(bridge, {"ollama": bridge.fake.base_url("ollama")})
    assert r.json()["results"]["ollama"]["status"] == "stored", r.text
    assert bridge.option("connectors_ai_ollama_api_key") == bridge.fake.base_url("ollama")
    assert bridge.fake.requests_for("ollama", "/v1/models")


def test_provider_down_is_unreachable_not_a_refusal_and_keeps_the_old_key(bridge):
    bridge.managed()
    good = bridge.fake.make_valid_key("nvidia")
    newer = bridge.fake.make_valid_key("nvidia")
    assert post_creds(bridge, {"nvidia": good}).json()["results"]["nvidia"]["status"] == "stored"
    bridge.fake.down("nvidia")
    result = post_creds(bridge, {"nvidia": newer}).json()["results"]["nvidia"]
    assert result["status"] == "unreachable" and result["cause"] == "unreachable" and "could not reach the provider" in result["reason"]
    assert bridge.option("connectors_ai_nvidia_api_key") == good


def test_key_checks_for_providers_with_public_model_lists(bridge):
    bridge.managed()
    results = post_creds(bridge, {"openrouter": "sk-or-test-wrong-key-1", "huggingface": "hf-test-wrong-key-12"}).json()["results"]
    assert results["openrouter"]["status"] == "rejected" and "User not found" in results["openrouter"]["reason"]
    assert results["huggingface"]["status"] == "rejected" and "Invalid credentials" in results["huggingface"]["reason"]
    assert bridge.fake.requests_for("openrouter", "/v1/key") and bridge.fake.requests_for("huggingface", "/api/whoami-v2")
    keys = {p: bridge.fake.make_valid_key(p) for p in ("openrouter", "huggingface")}
    results = post_creds(bridge, keys).json()["results"]
    assert {p: r["status"] for p, r in results.items()} == {"openrouter": "stored", "huggingface": "stored"}


def test_model_cache_is_invalidated_between_keys_in_one_process(bridge):
    """The AI Client caches the model list per provider class: a bad key must not ride on a good key's cache."""
    bridge.managed()
    good = bridge.fake.make_valid_key("xai")
    out = bridge.php_json(
        "$a = aimo_bridge_store_credential('xai', $args[0]); $b = aimo_bridge_store_credential('xai', 'xai-test-bad-key-0000');"
        "echo json_encode([$a['status'], $b['status'], get_option('connectors_ai_xai_api_key') === $args[0]]);",
        good,
    )
    assert out == ["stored", "rejected", True]


def test_rejection_reason_never_contains_the_key(bridge):
    bridge.managed()
    bad = "sk-test-oai-wrong-0123456789abcdef"
    reason = post_creds(bridge, {"openai": bad}).json()["results"]["openai"]["reason"]
    assert "Incorrect API key" in reason and bad not in reason


def test_malformed_bodies_are_400_and_nothing_is_written(bridge):
    bridge.managed()
    good = bridge.fake.make_valid_key("groq")
    for body in ({"groq": good, "nope": "x"}, {"groq": good, "xai": 5}, [good], {}):
        r = post_creds(bridge, body)
        assert r.status_code == 400, (body, r.text)
    assert post_creds(bridge, None, raw='{"groq": ').status_code == 400
    assert bridge.option("connectors_ai_groq_api_key", "") == ""
    assert post_creds(bridge, {"groq": good}, user="editor").status_code == 403
    assert bridge.option("connectors_ai_groq_api_key", "") == ""


def test_observe_mode_cannot_validate_so_rejects(bridge):
    bridge.point_at_fake()
    result = post_creds(bridge, {"groq": bridge.fake.make_valid_key("groq")}).json()["results"]["groq"]
    assert result["status"] == "rejected" and "managed" in result["reason"]


@pytest.mark.reveals_secret
def test_get_credential_returns_the_raw_key_only_when_allowed(bridge):
    bridge.managed()
    good = bridge.fake.make_valid_key("groq")
    bridge.store_key("groq", good)
    r = bridge.api("GET", "/aimo/v1/credentials/groq")
    assert r.status_code == 200 and r.json() == {"id": "groq", "key": good, "key_source": "database"}
    assert bridge.api("GET", "/aimo/v1/credentials/nope").status_code == 404
    out = bridge.php_json(
        "add_filter('aimo_allow_credential_read', '__return_false');"
        "$r = rest_do_request(new WP_REST_Request('GET', '/aimo/v1/credentials/groq'));"
        "echo json_encode(['status' => $r->get_status(), 'data' => $r->get_data()]);"
    )
    assert out["status"] == 403 and out["data"]["code"] == "aimo_insecure_transport" and good not in json.dumps(out)


def test_change_log_marks_outside_edits_and_aimo_writes(bridge):
    bridge.managed()
    outside = bridge.fake.make_valid_key("groq")
    ours = bridge.fake.make_valid_key("groq")
    # an edit through core's settings route from another client (not aimo)
    r = bridge.api("POST", "/wp/v2/settings", {"connectors_ai_groq_api_key": outside})
    assert r.status_code == 200 and r.json()["connectors_ai_groq_api_key"] == wp_mask(outside)
    with bridge.client() as client:
        assert wpbridge.put_credentials(client, {"groq": ours})["groq"].status == "stored"
    log = [e for e in bridge.status()["change_log"] if e["setting"] == "connectors_ai_groq_api_key"]
    assert [(e["fingerprint"], e["by_aimo"], e["user"], e["via"]) for e in log[-2:]] == [
        (fingerprint(outside), False, "admin", "rest"),
        (fingerprint(ours), True, "admin", "rest"),
    ]
    assert log[-1]["previous_fingerprint"] == fingerprint(outside)
    text = json.dumps(log)
    assert outside not in text and ours not in text
    # in managed mode a plain delete_option() from PHP (not aimo's removal path) is logged and undone at once
    bridge.php("delete_option('connectors_ai_groq_api_key');")
    deleted, refused = bridge.status()["change_log"][-2:]
    assert (deleted["setting"], deleted["action"], deleted["fingerprint"], deleted["previous_fingerprint"], deleted["by_aimo"]) == (
        "connectors_ai_groq_api_key", "deleted", "", fingerprint(ours), False
    )
    assert (refused["action"], refused["fingerprint"], refused["writer"]["kind"]) == ("refused_delete", fingerprint(ours), "core")
    assert bridge.option("connectors_ai_groq_api_key") == ours


def test_change_log_is_capped(bridge):
    bridge.managed()
    n = bridge.php_json(
        "for ($i = 0; $i < 60; $i++) { update_option('connectors_ai_nvidia_api_key', 'nvapi-test-cap-' . $i); }"
        "echo json_encode(count(get_option('aimo_connectors_change_log')));"
    )
    assert n == 50


@pytest.mark.reveals_secret
def test_typed_client_round_trip(bridge, peers):
    key = bridge.fake.make_valid_key("perplexity")
    with bridge.client() as client:
        stored = wpbridge.set_base_urls(client, {p: bridge.fake.base_url(p) for p in ("perplexity", "groq")})
        assert stored == {"groq": bridge.fake.base_url("groq"), "perplexity": bridge.fake.base_url("perplexity")}
        assert wpbridge.set_mode(client, "managed") == wpbridge.ModeChange(mode="managed", previous="observe", demoted=(), replaced=())
        assert wpbridge.put_credentials(client, {"perplexity": key})["perplexity"].status == "stored"
        assert wpbridge.get_credential(client, "perplexity") == key
        assert wpbridge.set_models(client, text="perplexity:sonar") == wpbridge.ModelPrefs(text="perplexity:sonar", image="")
        report = wpbridge.status(client, check=True)
        assert report.connector("perplexity").connected is True
        assert report.connector("groq").connected is False
        with pytest.raises(SafetyError):
            wpbridge.put_credentials(client, {"perplexity": wp_mask(key)})
        with pytest.raises(SafetyError):
            wpbridge.put_credentials(client, {"perplexity": ""})
        assert wpbridge.set_base_urls(client, {"groq": None}) == {"perplexity": bridge.fake.base_url("perplexity")}
        bridge.set_options(aimo_connectors_mode="observe")
        peers.ai_engine_managed()
        with pytest.raises(wpbridge.BridgeConflict) as exc:
            wpbridge.set_mode(client, "managed")
        assert exc.value.manager == "AI Engine"


def test_typed_client_says_when_the_bridge_is_missing(bridge):
    bridge.php("require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('aimo-bridge/aimo-bridge.php');")
    try:
        with bridge.client() as client:
            with pytest.raises(wpbridge.BridgeMissing):
                wpbridge.status(client)
    finally:
        bridge.php("require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('aimo-bridge/aimo-bridge.php');")
