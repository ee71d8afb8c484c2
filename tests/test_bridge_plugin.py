"""The bridge plugin on the real WordPress: modes, registration, bad input (next to other plugins: test_coexistence.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from .bridgefix import BASENAME

pytestmark = pytest.mark.wordpress

PLUGIN = Path(__file__).resolve().parent.parent / "aimo_cli" / "bridge" / "aimo-bridge"
IDS = list(PROVIDER_IDS)  # the provider manifest, in its order
STATUS_KEYS = {
    "bridge_version", "wordpress_version", "php_version", "mode", "ai_supported", "environment_type", "https", "home", "site_id",
    "wpai_active", "connectors", "managers", "approval", "models", "no_sampling_prefixes", "change_log", "current_user",
}
CONNECTOR_KEYS = {
    "id", "name", "type", "registered_by", "manager", "provider_registered", "setting_name", "key_source", "fingerprint",
    "mask_tail", "connected", "connected_reason", "checked_at", "base_url", "base_url_source", "registrant", "served_by", "ollama_host", "page",
    "unreachable_since",
}


def test_php_lint_every_plugin_file(wp_site):
    files = sorted(PLUGIN.rglob("*.php")) + sorted((Path(__file__).parent / "wp").rglob("*.php")) + sorted((Path(__file__).parent / "wp").rglob("*.inc"))
    assert {"aimo-bridge.php", "common.php", "providers.php", "provider-classes.php", "adapters.php"} <= {f.name for f in files}
    for f in files:
        proc = subprocess.run([wp_site.php, "-l", str(f)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{f}: {proc.stdout}{proc.stderr}"


def test_activation_is_observe_and_status_has_the_contract_shape(bridge):
    status = bridge.status()
    assert set(status) == STATUS_KEYS
    assert status["bridge_version"] == "0.1.0" and status["mode"] == "observe"
    assert status["wordpress_version"] == bridge.wp.wp_version and status["environment_type"] == "local"
    assert status["ai_supported"] is True and status["https"] is False
    assert status["home"] == bridge.url and len(status["site_id"]) == 36 and bridge.status()["site_id"] == status["site_id"]  # kept
    assert [c["id"] for c in status["connectors"]][: len(IDS)] == IDS
    for c in status["connectors"]:
        assert set(c) == CONNECTOR_KEYS
        assert c["registered_by"] != "aimo" and c["connected"] is None and c["fingerprint"] == ""
    by_id = {c["id"]: c for c in status["connectors"]}
    assert by_id["openai"]["registered_by"] == "core" and by_id["groq"]["registered_by"] == "none"
    assert by_id["groq"]["setting_name"] == "connectors_ai_groq_api_key"
    assert status["approval"] == {"active": False, "approved": {}}
    assert status["models"] == {"text": "", "image": ""}
    assert "claude-opus-4-7" in status["no_sampling_prefixes"]
    # observe changes nothing: no settings for the bridge's providers in core's REST settings
    settings = bridge.api("GET", "/wp/v2/settings").json()
    assert "connectors_ai_groq_api_key" not in settings


def test_managed_registers_every_provider_as_via_aimo(bridge):
    bridge.managed()
    status = bridge.status()
    for c in status["connectors"][: len(IDS)]:
        assert c["registered_by"] == "aimo" and c["provider_registered"] is True, c
        assert c["name"].endswith(" via aimo")
    assert bridge.connector(status, "groq")["base_url"] == bridge.fake.base_url("groq")
    # core now exposes every setting, and the built-in three point at the bridge (no "Install" button)
    settings = bridge.api("GET", "/wp/v2/settings").json()
    assert all(f"connectors_ai_{p}_api_key" in settings for p in IDS)
    files = bridge.php_json("echo json_encode(array_map(fn($c) => $c['plugin']['file'] ?? null, wp_get_connectors()));")
    assert files["openai"] == files["anthropic"] == files["google"] == files["groq"] == BASENAME


def test_off_mode_registers_nothing_but_status_answers(bridge):
    bridge.point_at_fake()
    bridge.set_options(aimo_connectors_mode="off")
    status = bridge.status()
    assert status["mode"] == "off"
    assert all(c["registered_by"] != "aimo" for c in status["connectors"])
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"})
    assert r.status_code == 200 and r.json()["previous"] == "off"
    assert bridge.connector(bridge.status(), "groq")["registered_by"] == "aimo"


def test_mode_bad_input_and_permissions_change_nothing(bridge):
    for body in ({"mode": "bogus"}, {}, {"mode": 3}):
        r = bridge.api("POST", "/aimo/v1/mode", body)
        assert r.status_code == 400, (body, r.text)
    r = bridge.api("POST", "/aimo/v1/mode", raw='{"mode": "managed"')
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_json"
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"}, user="editor")
    assert r.status_code == 403 and r.json()["code"] == "rest_forbidden"
    assert bridge.api("GET", "/aimo/v1/status", user="editor").status_code == 403
    assert bridge.api("GET", "/aimo/v1/status", user="anonymous").status_code == 401
    assert bridge.api("GET", "/aimo/v1/credentials/groq", user="editor").status_code == 403
    assert bridge.option("aimo_connectors_mode") == "observe"


def test_stopping_never_touches_keys(bridge):
    key = bridge.fake.make_valid_key("groq")
    bridge.managed()
    bridge.store_key("groq", key)
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "observe"})
    assert r.status_code == 200 and r.json()["previous"] == "managed"
    assert bridge.option("connectors_ai_groq_api_key") == key
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "off"})
    assert r.status_code == 200 and bridge.option("connectors_ai_groq_api_key") == key
