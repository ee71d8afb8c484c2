"""The bridge's security rules (#14 items 3, 5, 6), each proven against the real site with the real bridge:

- a base-URL override needs https unless it points at this machine, and a server-owned key (environment variable or
  wp-config constant) never goes to an overridden host unless wp-config.php allows it;
- the Ollama allowance of WordPress's SSRF guard is the bridge's own: an editor's oEmbed-proxy request to the Ollama
  host fails while the bridge still reaches Ollama;
- raw-key reads over plain http only from loopback (a site calling itself "local" is not enough);
- the change log marks aimo's writes by the route they came through, never by a claimed User-Agent;
- uninstall removes the Connector Approval entries the bridge added, and only those.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from aimo_cli.core.secrets import fingerprint
from aimo_cli.wordpress import bridge as wpbridge

from .bridgefix import REPO
from .fakeprovider import FakeProviders

pytestmark = pytest.mark.wordpress

GENERATE = r"""
$r = wp_ai_client_prompt('Hello')->using_provider($args[0])->generate_text();
echo json_encode(is_wp_error($r) ? ['error' => $r->get_error_code() . ': ' . $r->get_error_message()] : ['text' => $r]);
"""


def generate(bridge, provider: str) -> dict:
    return bridge.php_json(GENERATE, provider)


@pytest.fixture
def extra_config(bridge):
    """The site's wp-config-extra.php for one test (constants as a server owner would define them), put back after."""
    path = Path(bridge.wp.state_dir) / "wp-config-extra.php"
    before = path.read_text() if path.exists() else None
    lines: list[str] = []

    def define(name: str, value) -> None:
        lines.append(f"defined('{name}') || define('{name}', {json.dumps(value)});")
        path.write_text((before or "<?php\n") + "\n" + "\n".join(lines) + "\n")

    yield define
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(before)


# -- base-URL overrides ----------------------------------------------------------------------------------------------


def test_base_url_override_needs_https_unless_it_is_this_machine(bridge):
    for url in ("http://gw.example/groq/v1", "http://10.1.2.3:11434", "http://127.example.com/v1"):
        r = bridge.api("POST", "/aimo/v1/base-urls", {"groq": url})
        assert r.status_code == 400 and r.json()["code"] == "aimo_insecure_url", (url, r.text)
        assert "https" in r.json()["message"]
    assert not bridge.option("aimo_provider_base_urls", {})
    fine = {
        "groq": "https://gw.example/groq/v1",
        "xai": "http://127.0.0.1:9/xai/v1",
        "nvidia": "http://localhost:11434/v1",
        "openai": "http://[::1]:8080/v1",
        "ollama": "http://127.0.0.2:11434",
    }
    r = bridge.api("POST", "/aimo/v1/base-urls", fine)
    assert r.status_code == 200 and r.json() == fine


def _check_xai(bridge) -> dict:
    return bridge.connector(bridge.status(check=True), "xai")


def test_a_constant_key_never_goes_to_an_overridden_base_url(bridge, extra_config):
    key = bridge.fake.make_valid_key("xai")
    extra_config("XAI_API_KEY", key)
    bridge.managed()  # every provider's base URL overridden to the loopback fake, as `aimo bridge base-url` does
    xai = _check_xai(bridge)
    assert [r for r in bridge.fake.requests_for("xai") if key in json.dumps(r.headers)] == []
    assert xai["key_source"] == "constant" and xai["connected"] is False and xai["base_url_source"] == "option"
    assert "AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS" in xai["connected_reason"] and "XAI_API_KEY" in xai["connected_reason"]
    assert key not in json.dumps(bridge.status())
    # generation refuses too (not only the model list)
    assert "error" in generate(bridge, "xai")
    assert [r for r in bridge.fake.requests_for("xai") if key in json.dumps(r.headers)] == []
    # the server owner allows it in wp-config.php: then it goes
    extra_config("AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS", True)
    xai = _check_xai(bridge)
    assert xai["connected"] is True, xai["connected_reason"]
    assert any(r.auth_key == key for r in bridge.fake.requests_for("xai", "/v1/models"))


def test_an_environment_key_never_goes_to_an_overridden_base_url(bridge):
    key = bridge.fake.make_valid_key("groq")
    bridge.managed()
    proc = subprocess.run(
        [str(REPO / "scripts" / "wp-php"), "-e", f"GROQ_API_KEY={key}", "echo json_encode(aimo_bridge_check_provider('groq'));"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "AIMO_WP_DIR": str(bridge.wp.state_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["connected"] is False and "environment variable GROQ_API_KEY" in result["reason"]
    assert key not in proc.stdout and bridge.fake.requests_for("groq") == []


def test_a_server_owned_base_url_or_a_stored_key_still_works(bridge, extra_config):
    # AIMO_{ID}_BASE_URL in wp-config.php is the server owner's own choice: the constant key may go there
    key = bridge.fake.make_valid_key("xai")
    extra_config("XAI_API_KEY", key)
    extra_config("AIMO_XAI_BASE_URL", bridge.fake.base_url("xai"))
    bridge.set_options(aimo_connectors_mode="managed")
    assert _check_xai(bridge)["connected"] is True
    # a key stored in the database (sent by aimo itself) goes to an override as before
    bridge.managed()
    stored = bridge.fake.make_valid_key("groq")
    assert bridge.api("POST", "/aimo/v1/credentials", {"groq": stored}).json()["results"]["groq"]["status"] == "stored"
    assert bridge.connector(bridge.status(check=True), "groq")["connected"] is True


# -- the Ollama allowance --------------------------------------------------------------------------------------------


@pytest.fixture
def ollama_elsewhere(bridge, extra_config):
    """An Ollama on 127.0.0.2 (a host WordPress's SSRF guard refuses; the test mu-plugin only opens 127.0.0.1), reachable
    through WordPress's HTTP API as on a production site (no WP_HTTP_BLOCK_EXTERNAL block for it)."""
    extra_config("WP_ACCESSIBLE_HOSTS", "127.0.0.2")
    fake = FakeProviders(port=0, host="127.0.0.2").start()
    try:
        yield fake
    finally:
        fake.stop()


def _oembed_as_editor(bridge, url: str) -> httpx.Response:
    return bridge.api("GET", "/oembed/1.0/proxy", user="editor", params={"url": url})


def test_oembed_proxy_cannot_reach_the_ollama_host_but_the_bridge_can(bridge, ollama_elsewhere):
    ollama = ollama_elsewhere
    bridge.managed()
    bridge.store_key("ollama", ollama.base_url("ollama"))
    r = _oembed_as_editor(bridge, f"{ollama.url}/ollama/api/tags?probe=1")
    assert r.status_code == 404 and r.json()["code"] == "oembed_invalid_url", r.text  # WordPress could not fetch it
    assert ollama.requests == [], "the editor's oEmbed request reached the Ollama host"
    # the bridge itself still reaches its Ollama (model list and a generation)
    status = bridge.status(check=True)
    assert bridge.connector(status, "ollama")["connected"] is True
    assert ollama.requests_for("ollama", "/v1/models")
    out = generate(bridge, "ollama")
    assert out.get("text", "").startswith("FAKE[provider=ollama"), out
    # and after the bridge's requests the allowance is gone again
    ollama.clear()
    r = _oembed_as_editor(bridge, f"{ollama.url}/ollama/api/tags?probe=2")
    assert r.status_code == 404 and ollama.requests == [], r.text
    allowed = bridge.php_json(
        "echo json_encode([wp_http_validate_url($args[0]), apply_filters('http_request_host_is_external', false, '127.0.0.2', $args[0])]);",
        f"{ollama.url}/ollama/v1/models",
    )
    assert allowed == [False, False]


# -- raw-key reads ---------------------------------------------------------------------------------------------------

_READ_AS = r"""
$_SERVER['REMOTE_ADDR'] = $args[0];
if ($args[1] === 'https') { $_SERVER['HTTPS'] = 'on'; } else { unset($_SERVER['HTTPS']); }
$r = rest_do_request(new WP_REST_Request('GET', '/aimo/v1/credentials/groq'));
echo json_encode(['status' => $r->get_status(), 'code' => $r->get_data()['code'] ?? null, 'env' => wp_get_environment_type(),
    'has_key' => ($r->get_data()['key'] ?? '') !== '']);
"""


@pytest.mark.reveals_secret
def test_raw_key_reads_over_http_only_from_loopback(bridge):
    bridge.managed()
    bridge.store_key("groq", bridge.fake.make_valid_key("groq"))
    # TEST-NET addresses: values of REMOTE_ADDR only, no traffic goes anywhere
    for remote in ("192.0.2.10", "2001:db8::7"):
        out = bridge.php_json(_READ_AS, remote, "http")
        assert out == {"status": 403, "code": "aimo_insecure_transport", "env": "local", "has_key": False}, (remote, out)
    for remote, scheme in (("127.0.0.1", "http"), ("::1", "http"), ("127.0.0.5", "http"), ("192.0.2.10", "https")):
        out = bridge.php_json(_READ_AS, remote, scheme)
        assert out["status"] == 200 and out["has_key"] is True, (remote, scheme, out)


# -- the change log ---------------------------------------------------------------------------------------------------


def test_change_log_does_not_believe_a_claimed_aimo_user_agent(bridge):
    bridge.managed()
    outside = bridge.fake.make_valid_key("groq")
    ours = bridge.fake.make_valid_key("groq")
    r = httpx.post(
        f"{bridge.url}/wp-json/wp/v2/settings",
        json={"connectors_ai_groq_api_key": outside},
        auth=(bridge.wp.admin_user, bridge.wp.admin_app_password),
        headers={"User-Agent": "aimo/0.1.0"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    with bridge.client() as client:
        assert wpbridge.put_credentials(client, {"groq": ours})["groq"].status == "stored"
    log = [e for e in bridge.status()["change_log"] if e["setting"] == "connectors_ai_groq_api_key"][-2:]
    assert [(e["fingerprint"], e["by_aimo"], e["app_password"]) for e in log] == [
        (fingerprint(outside), False, "aimo tests"),
        (fingerprint(ours), True, "aimo tests"),
    ]


# -- uninstall ---------------------------------------------------------------------------------------------------------

UNINSTALL = "define('WP_UNINSTALL_PLUGIN', 'aimo-bridge/aimo-bridge.php'); include WP_PLUGIN_DIR . '/aimo-bridge/uninstall.php'; echo 'done';"


def test_uninstall_removes_the_approvals_the_bridge_added_and_only_those(bridge):
    before = {"other/other.php": {"groq": True}, "ai/ai.php": {"groq": True, "custom": True}}
    bridge.set_options(wpai_connector_approvals=before)
    bridge.managed()
    bridge.status()  # a request in managed mode: the bridge adds its approvals at init
    approvals = bridge.option("wpai_connector_approvals")
    assert set(approvals) == {"other/other.php", "ai/ai.php", "aimo-bridge/aimo-bridge.php"} and approvals["ai/ai.php"]["xai"] is True
    assert bridge.php(UNINSTALL) == "done"
    assert bridge.option("wpai_connector_approvals") == before
    assert bridge.option("aimo_connectors_added_approvals") is None


# -- aimo shows every overridden base URL ---------------------------------------------------------------------------


def test_bridge_status_and_doctor_warn_about_every_overridden_base_url(bridge):
    from aimo_cli.errors import ExitCode

    from .clihelper import run_cli

    r = run_cli(["site", "add", "local", bridge.url, "--user", bridge.wp.admin_user, "--stdin"], stdin=bridge.wp.admin_app_password + "\n")
    assert r.code == 0, r.err
    assert bridge.api("POST", "/aimo/v1/base-urls", {"groq": "https://gw.example/groq/v1", "xai": bridge.fake.base_url("xai")}).status_code == 200
    r = run_cli(["bridge", "status", "local"])
    assert r.code == 0, r.err
    warned = [line for line in r.err.splitlines() if "not the provider's own endpoint" in line]
    assert len(warned) == 2 and "gw.example" in warned[0] and f"127.0.0.1:{bridge.fake.port}" in warned[1], r.err
    r = run_cli(["doctor", "--site", "local", "--offline", "--json"])
    assert r.code == ExitCode.OK, r.err  # the fixture's state: observe mode, no key here or there (warnings only)
    checks = {c["id"]: c for c in json.loads(r.out)["checks"] if c["id"].endswith(".base_url")}
    assert set(checks) == {"connector.groq.base_url", "connector.xai.base_url"}
    assert all(c["status"] == "warn" for c in checks.values()) and "gw.example" in checks["connector.groq.base_url"]["message"]
    # back to the defaults: no warning
    assert bridge.api("POST", "/aimo/v1/base-urls", {"groq": None, "xai": None}).status_code == 200
    assert "not the provider's own endpoint" not in run_cli(["bridge", "status", "local"]).err
