"""uninstall.php removes the bridge's own state; keys stay unless aimo_uninstall_remove_keys asks otherwise."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.wordpress

UNINSTALL = "define('WP_UNINSTALL_PLUGIN', 'aimo-bridge/aimo-bridge.php'); include WP_PLUGIN_DIR . '/aimo-bridge/uninstall.php'; echo 'done';"
STATE = (
    "global $wpdb; echo json_encode(["
    "'options' => $wpdb->get_col(\"SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE 'aimo\\_%' OR option_name LIKE '\\_transient%aimo\\_bridge%'\"),"
    "'cron' => (bool) wp_next_scheduled('aimo_bridge_warm_models'),"
    "'groq' => get_option('connectors_ai_groq_api_key', null), 'xai' => get_option('connectors_ai_xai_api_key', null)]);"
)


def _populate(bridge):
    bridge.managed()
    groq = bridge.fake.make_valid_key("groq")
    assert bridge.api("POST", "/aimo/v1/credentials", {"groq": groq}).json()["results"]["groq"]["status"] == "stored"
    bridge.store_key("xai", "xai-test-set-elsewhere-0001")  # not created by the bridge
    bridge.set_options(aimo_connectors_models={"text": "groq:qwen/qwen3-32b", "image": ""})
    bridge.status(check=True)  # the model-list cache + cron
    state = bridge.php_json(STATE)
    assert state["cron"] and "aimo_connectors_mode" in state["options"] and "aimo_bridge_cache" in state["options"]
    return groq


def test_uninstall_removes_own_state_and_keeps_keys(bridge):
    groq = _populate(bridge)
    assert bridge.php(UNINSTALL) == "done"
    state = bridge.php_json(STATE)
    assert state == {"options": [], "cron": False, "groq": groq, "xai": "xai-test-set-elsewhere-0001"}


def test_uninstall_can_remove_the_keys_it_created(bridge):
    _populate(bridge)
    bridge.set_options(aimo_uninstall_remove_keys="1")
    assert bridge.php(UNINSTALL) == "done"
    state = bridge.php_json(STATE)
    assert state == {"options": [], "cron": False, "groq": None, "xai": "xai-test-set-elsewhere-0001"}
