"""Managed mode through the AI Client: generation, sampling rules, preferences, approval, credentials gate,
Ollama and its cooldown, base URLs, live checks and the background warm-up."""

from __future__ import annotations

import json

import pytest

from aimo_cli.core.providers import PROVIDER_IDS

pytestmark = pytest.mark.wordpress

GENERATE = r"""
$b = wp_ai_client_prompt($args[0])->using_provider($args[1]);
$o = json_decode($args[2], true);
if (!empty($o['model'])) $b = $b->using_model_preference([$args[1], $o['model']]);
if (isset($o['temperature'])) $b = $b->using_temperature($o['temperature']);
if (isset($o['top_p'])) $b = $b->using_top_p($o['top_p']);
if (isset($o['system'])) $b = $b->using_system_instruction($o['system']);
if (isset($o['max_tokens'])) $b = $b->using_max_tokens($o['max_tokens']);
$r = $b->generate_text();
echo json_encode(is_wp_error($r) ? ['error' => $r->get_error_code() . ': ' . $r->get_error_message()] : ['text' => $r]);
"""


def generate(bridge, provider, prompt="Hello", **opts):
    return bridge.php_json(GENERATE, prompt, provider, json.dumps(opts))


def keyed(bridge, *providers):
    bridge.managed()
    for p in providers:
        bridge.store_key(p, bridge.fake.make_valid_key(p))


def test_groq_generation_flattens_content_and_keeps_sampling(bridge):
    keyed(bridge, "groq")
    out = generate(bridge, "groq", "Say hi", temperature=0.2, system="Be brief.", max_tokens=50)
    assert out.get("text", "").startswith("FAKE[provider=groq") and "temperature=0.2" in out["text"], out
    body = bridge.fake.requests_for("groq", "/v1/chat/completions")[-1].json
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1] == {"role": "user", "content": "Say hi"}
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50


def test_sampling_is_stripped_for_no_sampling_models(bridge):
    keyed(bridge, "anthropic")
    out = generate(bridge, "anthropic", "Hi", model="claude-opus-4-7", temperature=0.7, top_p=0.9)
    assert out.get("text", "").startswith("FAKE[provider=anthropic model=claude-opus-4-7 temperature=none]"), out
    body = bridge.fake.requests_for("anthropic", "/v1/chat/completions")[-1].json
    assert "temperature" not in body and "top_p" not in body
    # an older model keeps what it was given
    out = generate(bridge, "anthropic", "Hi", model="claude-sonnet-4-5", temperature=0.3)
    assert "temperature=0.3" in out.get("text", ""), out


def test_sampling_is_stripped_whichever_adapter_sends_the_request(bridge):
    """The rule sits on the HTTP layer too: an official plugin's request for a no-sampling model is fixed as well."""
    keyed(bridge, "anthropic")
    url = bridge.fake.base_url("anthropic") + "/chat/completions"
    bridge.php(
        "wp_safe_remote_post($args[0], ['headers' => ['Content-Type' => 'application/json', 'Authorization' => 'Bearer x'],"
        " 'body' => wp_json_encode(['model' => 'claude-mythos-5', 'temperature' => 1, 'top_k' => 5, 'messages' => []])]);",
        url,
    )
    body = bridge.fake.requests_for("anthropic", "/v1/chat/completions")[-1].json
    assert body == {"model": "claude-mythos-5", "messages": []}


def test_no_sampling_prefixes_filter(bridge):
    keyed(bridge, "groq")
    out = bridge.php_json(
        "add_filter('aimo_no_sampling_model_prefixes', fn($p) => array_merge($p, ['qwen/']));"
        "echo json_encode([aimo_bridge_is_no_sampling_model('qwen/qwen3-32b'), aimo_bridge_is_no_sampling_model('claude-opus-4-5'),"
        " aimo_bridge_is_no_sampling_model('claude-sonnet-5-5'), aimo_bridge_is_no_sampling_model('anthropic/claude-opus-5-5'),"
        " aimo_bridge_is_no_sampling_model('claude-opus-4-6')]);"
    )
    assert out == [True, False, True, True, False]


def test_openai_reasoning_models_get_max_completion_tokens(bridge):
    keyed(bridge, "openai")
    out = generate(bridge, "openai", "Hi", model="gpt-5.5", max_tokens=20)
    assert out.get("text", "").startswith("FAKE[provider=openai model=gpt-5.5"), out
    body = bridge.fake.requests_for("openai", "/v1/chat/completions")[-1].json
    assert body["max_completion_tokens"] == 20 and "max_tokens" not in body


def test_perplexity_goes_through_the_agent_endpoint(bridge):
    keyed(bridge, "perplexity")
    out = generate(bridge, "perplexity", "What is new?", system="Cite sources.", max_tokens=64)
    assert out.get("text", "").startswith("FAKE[provider=perplexity model=sonar"), out
    body = bridge.fake.requests_for("perplexity", "/v1/agent")[-1].json
    assert body["instructions"] == "Cite sources." and body["max_output_tokens"] == 64
    assert body["input"] == [{"role": "user", "content": "What is new?"}]
    assert not bridge.fake.requests_for("perplexity", "/v1/chat/completions")


def test_unusual_finish_reasons_are_tolerated(bridge):
    keyed(bridge, "nvidia")
    bridge.php("aimo_bridge_warm_models();")  # fills the model list cache, so the next request goes straight to chat
    bridge.fake.fail_next("nvidia", 200, {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "eos"}]})
    out = generate(bridge, "nvidia", "Hi")
    assert out == {"text": "done"}


def test_ollama_url_is_the_credential_and_failure_cached_when_down(bridge):
    bridge.managed()
    bridge.store_key("ollama", bridge.fake.base_url("ollama"))
    out = generate(bridge, "ollama", "Hi local")
    assert out.get("text", "").startswith("FAKE[provider=ollama model=llama3.2:latest"), out
    models = bridge.fake.requests_for("ollama", "/v1/models")
    assert models and "authorization" not in models[-1].headers
    status = bridge.status(check=True)
    ollama = bridge.connector(status, "ollama")
    assert ollama["connected"] is True and ollama["base_url"] == bridge.fake.base_url("ollama")
    assert ollama["unreachable_since"] is None

    bridge.fake.down("ollama")
    bridge.php("delete_option('aimo_bridge_cache');")
    configured = bridge.php_json("echo json_encode(WordPress\\AiClient\\AiClient::defaultRegistry()->isProviderConfigured('ollama'));")
    assert configured is False
    assert bridge.connector(bridge.status(), "ollama")["unreachable_since"]
    bridge.fake.clear()
    bridge.fake.down("ollama").disarm()  # a trap, not a fault to exercise: the cached failure means no call at all (asserted below)
    configured = bridge.php_json("echo json_encode(WordPress\\AiClient\\AiClient::defaultRegistry()->isProviderConfigured('ollama'));")
    assert configured is False and bridge.fake.requests_for("ollama") == []  # the failure is cached: no call at all


def test_models_route_and_preference_filters(bridge):
    keyed(bridge, "groq")
    probe = "echo json_encode([apply_filters('wpai_preferred_text_models', [['openai', 'gpt-5.5']]), apply_filters('wpai_preferred_image_models', [])]);"
    assert bridge.php_json(probe) == [[["openai", "gpt-5.5"]], []]
    r = bridge.api("POST", "/aimo/v1/models", {"text": "xai:grok-4"})
    assert r.status_code == 400 and r.json()["code"] == "aimo_disconnected_provider" and r.json()["data"]["provider"] == "xai"
    r = bridge.api("POST", "/aimo/v1/models", {"text": "groq:qwen/qwen3-32b", "image": "nonsense"})
    assert r.status_code == 400 and r.json()["code"] == "aimo_invalid_model"
    assert bridge.option("aimo_connectors_models") is None  # nothing partially written
    r = bridge.api("POST", "/aimo/v1/models", {"text": "groq:qwen/qwen3-32b"})
    assert r.status_code == 200 and r.json() == {"text": "groq:qwen/qwen3-32b", "image": ""}
    assert bridge.php_json(probe) == [[["groq", "qwen/qwen3-32b"], ["openai", "gpt-5.5"]], []]
    assert bridge.status()["models"] == {"text": "groq:qwen/qwen3-32b", "image": ""}
    r = bridge.api("POST", "/aimo/v1/models", {"text": ""})
    assert r.status_code == 200 and r.json()["text"] == ""
    assert bridge.php_json(probe) == [[["openai", "gpt-5.5"]], []]
    assert bridge.api("POST", "/aimo/v1/models", {"text": "groq:x"}, user="editor").status_code == 403


def test_preferred_model_is_used_by_the_ai_client(bridge):
    keyed(bridge, "xai")
    bridge.set_options(aimo_connectors_models={"text": "xai:grok-code-fast-1", "image": ""})
    out = bridge.php_json(
        "$prefs = apply_filters('wpai_preferred_text_models', []);"
        "$r = wp_ai_client_prompt('Hi')->using_model_preference(...$prefs)->generate_text();"
        "echo json_encode(is_wp_error($r) ? $r->get_error_message() : $r);"
    )
    assert "model=grok-code-fast-1" in out


def test_image_generation_through_openai_compatible_adapter(bridge):
    keyed(bridge, "openai")
    out = bridge.php_json(
        "$r = wp_ai_client_prompt('A red dot')->using_provider('openai')->generate_image();"
        "echo json_encode(is_wp_error($r) ? ['error' => $r->get_error_message()] : ['mime' => $r->getMimeType()]);"
    )
    assert out == {"mime": "image/png"}, out
    assert bridge.fake.requests_for("openai", "/v1/images/generations")[-1].json["model"] == "gpt-image-1"


def test_approval_and_credentials_gate(bridge):
    bridge.managed()
    gate = "echo json_encode(apply_filters('wpai_has_ai_credentials', false, []));"
    assert bridge.php_json(gate) is False
    bridge.set_options(wpai_features_enabled="1", **{"wpai_feature_connector-approval_enabled": "1"}, wpai_connector_approvals={"other/other.php": {"groq": True}})
    bridge.store_key("groq", bridge.fake.make_valid_key("groq"))
    assert bridge.php_json(gate) is True
    approval = bridge.status()["approval"]
    assert approval["active"] is True
    ids = list(PROVIDER_IDS)
    assert approval["approved"] == {"other/other.php": ["groq"], "ai/ai.php": ids, "aimo-bridge/aimo-bridge.php": ids}
    out = bridge.php_json("add_filter('aimo_approved_callers', fn($c) => array_merge($c, ['extra/extra.php'])); aimo_bridge_sync_approvals(); echo json_encode(array_keys(get_option('wpai_connector_approvals')));")
    assert "extra/extra.php" in out


def test_status_check_runs_one_live_models_call_per_keyed_provider(bridge):
    keyed(bridge, "groq", "nvidia")
    bridge.store_key("xai", "xai-test-revoked-key-000")
    bridge.fake.clear()
    status = bridge.status(check=True)
    by_id = {c["id"]: c for c in status["connectors"]}
    assert by_id["groq"]["connected"] is True and by_id["nvidia"]["connected"] is True
    assert by_id["xai"]["connected"] is False and "Incorrect API key" in by_id["xai"]["connected_reason"]
    assert by_id["openai"]["connected"] is False and by_id["openai"]["connected_reason"] == "no key is set"
    assert by_id["groq"]["checked_at"].endswith("Z")
    assert len(bridge.fake.requests_for("groq", "/v1/models")) == 1 and len(bridge.fake.requests_for("nvidia", "/v1/models")) == 1
    # without check=1 the state comes from the last check, with no calls
    bridge.fake.clear()
    again = {c["id"]: c["connected"] for c in bridge.status()["connectors"]}
    assert again["groq"] is True and again["xai"] is False
    assert bridge.fake.requests_for("groq") == []


def test_model_lists_are_cached_and_warmed_by_cron(bridge):
    keyed(bridge, "groq")
    bridge.status()  # an init in managed mode schedules the warm-up
    assert bridge.php_json("echo json_encode((bool) wp_next_scheduled('aimo_bridge_warm_models'));") is True
    warmed = bridge.php_json("echo json_encode(aimo_bridge_warm_models());")
    assert warmed == {"groq": {"connected": True, "reason": ""}}
    bridge.fake.clear()
    configured = bridge.php_json("echo json_encode(WordPress\\AiClient\\AiClient::defaultRegistry()->isProviderConfigured('groq'));")
    assert configured is True and bridge.fake.requests_for("groq") == []  # served from the transient


def test_base_urls_route(bridge):
    r = bridge.api("POST", "/aimo/v1/base-urls", {"groq": "https://gw.example/groq/v1/", "xai": "https://x.example/v1"})
    assert r.status_code == 200 and r.json() == {"groq": "https://gw.example/groq/v1", "xai": "https://x.example/v1"}
    for body in ({"groq": "ftp://nope"}, {"nope": "https://a.example"}, {"xai": None, "groq": "not a url"}, ["x"]):
        r = bridge.api("POST", "/aimo/v1/base-urls", body)
        assert r.status_code == 400, (body, r.text)
    assert bridge.option("aimo_provider_base_urls") == {"groq": "https://gw.example/groq/v1", "xai": "https://x.example/v1"}
    r = bridge.api("POST", "/aimo/v1/base-urls", {"xai": None})
    assert r.json() == {"groq": "https://gw.example/groq/v1"}
    groq = bridge.connector(bridge.status(), "groq")
    assert (groq["base_url"], groq["base_url_source"]) == ("https://gw.example/groq/v1", "option")
    # a constant beats the stored override
    out = bridge.php("define('AIMO_GROQ_BASE_URL', 'https://const.example/v1'); echo aimo_bridge_base_url('groq');")
    assert out == "https://const.example/v1"
