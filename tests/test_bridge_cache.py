"""The bridge's model-list cache on the real site (issue 17 items 1-3): failures cached briefly and reported as
"unreachable since …", refreshed by WP-Cron and never inside a page request, cold lists fetched in one parallel
batch, and one autoloaded option instead of a transient per provider."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest

pytestmark = pytest.mark.wordpress

CONFIGURED = "echo json_encode(WordPress\\AiClient\\AiClient::defaultRegistry()->isProviderConfigured($args[0]));"
ENTRY = "echo json_encode(aimo_bridge_cache()['models'][$args[0]] ?? null);"


@pytest.fixture(autouse=True)
def release_wp_cron(bridge):
    yield
    bridge.php("delete_transient('doing_cron');")


def keyed(bridge, *providers):
    hold_wp_cron(bridge)  # the hourly warm-up must not call the providers while a test counts calls
    bridge.managed()
    for p in providers:
        bridge.store_key(p, bridge.fake.make_valid_key(p))


def admin_get(bridge, path: str) -> httpx.Response:
    """A real wp-admin page request, logged in as the admin (the tests' one-time login mu-plugin)."""
    token = secrets.token_hex(24)
    bridge.set_options(aimo_test_login_token=token)
    with httpx.Client(follow_redirects=True, timeout=120.0) as client:
        r = client.get(f"{bridge.url}{path}", params={"aimo_test_login": token})
    assert r.status_code == 200 and "wp-login.php" not in str(r.url), r.url
    return r


def page_data(html: str) -> dict:
    start = html.index('id="wp-script-module-data-options-connectors-wp-admin"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def expire(bridge, pid: str) -> None:
    """Move a cached entry past its time (as if the minutes had passed)."""
    bridge.php(
        "$c = get_option('aimo_bridge_cache'); $c['models'][$args[0]]['until'] = time() - 1; update_option('aimo_bridge_cache', $c);",
        pid,
    )


def hold_wp_cron(bridge) -> None:
    """Take WP-Cron's lock (as a cron run in progress would), so no request spawns it behind the test's back."""
    bridge.php("set_transient('doing_cron', sprintf('%.22F', microtime(true) + 540));")  # WordPress honours up to 10 min ahead


def run_wp_cron(bridge) -> None:
    bridge.php("delete_transient('doing_cron');")
    r = httpx.get(f"{bridge.url}/wp-cron.php", timeout=60.0)
    assert r.status_code == 200


def test_a_failed_list_is_cached_and_the_card_and_status_say_unreachable(bridge):
    keyed(bridge, "groq", "xai")
    bridge.fake.down("groq")
    html = admin_get(bridge, "/wp-admin/options-connectors.php").text
    assert bridge.fake.requests_for("groq", "/v1/models")  # the cold page tried it once
    data = page_data(html)
    assert data["connectors"]["groq"]["authentication"]["isConnected"] is False
    assert data["connectors"]["groq"]["description"].startswith("Unreachable since ")
    assert data["connectors"]["xai"]["authentication"]["isConnected"] is True
    entry = bridge.php_json(ENTRY, "groq")
    assert entry["ok"] is False and entry["unreachable"] is True and entry["until"] - entry["at"] == 300

    # every later page answers from the cache: no call to the provider, still unreachable
    bridge.fake.clear()
    bridge.fake.down("groq")
    data = page_data(admin_get(bridge, "/wp-admin/options-connectors.php").text)
    assert bridge.fake.requests == []
    assert data["connectors"]["groq"]["authentication"]["isConnected"] is False
    status = bridge.status()
    groq = bridge.connector(status, "groq")
    assert groq["unreachable_since"] and groq["unreachable_since"].endswith("Z") and groq["connected"] is False
    assert bridge.connector(status, "xai")["unreachable_since"] is None
    # check=1 goes through the same cache; check=fresh asks again
    status = bridge.api("GET", "/aimo/v1/status", params={"check": 1}).json()
    assert bridge.fake.requests == [] and bridge.connector(status, "groq")["unreachable_since"] == groq["unreachable_since"]
    status = bridge.api("GET", "/aimo/v1/status", params={"check": "fresh"}).json()
    assert bridge.fake.requests_for("groq", "/v1/models") and bridge.fake.requests_for("xai", "/v1/models")
    # still down: "since" is the first failure's time, not the retry's
    assert bridge.connector(status, "groq")["unreachable_since"] == groq["unreachable_since"]


def test_a_rejected_key_is_cached_but_not_called_unreachable(bridge):
    bridge.managed()
    bridge.store_key("xai", "xai-test-revoked-key-000")
    assert bridge.php_json(CONFIGURED, "xai") is False
    bridge.fake.clear()
    assert bridge.php_json(CONFIGURED, "xai") is False and bridge.fake.requests == []
    entry = bridge.php_json(ENTRY, "xai")
    assert entry["ok"] is False and entry["unreachable"] is False and "Incorrect API key" in entry["error"]
    assert bridge.connector(bridge.status(), "xai")["unreachable_since"] is None


def test_failure_ttl_is_configurable_with_a_filter(bridge):
    keyed(bridge, "groq")
    bridge.fake.down("groq")
    entry = bridge.php_json("add_filter('aimo_failure_cache_ttl', fn() => 60); " + CONFIGURED.replace("echo", "$ok =") + " echo json_encode(aimo_bridge_cache()['models']['groq']);", "groq")
    assert entry["until"] - entry["at"] == 60
    assert bridge.php("echo aimo_bridge_failure_ttl();") == "300"  # the default: five minutes


def test_an_expired_failure_is_refreshed_by_wp_cron_not_by_the_page(bridge):
    keyed(bridge, "groq")
    bridge.fake.down("groq")
    assert bridge.php_json(CONFIGURED, "groq") is False
    bridge.fake.up("groq")
    expire(bridge, "groq")
    bridge.php("wp_clear_scheduled_hook('aimo_bridge_refresh_models');")
    hold_wp_cron(bridge)
    bridge.fake.clear()
    # the page does not call the provider (which is up again): it serves the failure and schedules the refresh
    data = page_data(admin_get(bridge, "/wp-admin/options-connectors.php").text)
    assert data["connectors"]["groq"]["authentication"]["isConnected"] is False
    assert bridge.fake.requests_for("groq") == []
    assert bridge.php_json("echo json_encode((bool) wp_next_scheduled('aimo_bridge_refresh_models'));") is True
    # WP-Cron runs it: a real wp-cron.php request, as the site's own loopback spawn makes
    run_wp_cron(bridge)
    deadline = time.monotonic() + 30
    while bridge.php_json(ENTRY, "groq")["ok"] is not True and time.monotonic() < deadline:
        time.sleep(0.5)
    assert bridge.php_json(ENTRY, "groq")["ok"] is True
    assert bridge.fake.requests_for("groq", "/v1/models")
    bridge.fake.clear()
    data = page_data(admin_get(bridge, "/wp-admin/options-connectors.php").text)
    assert data["connectors"]["groq"]["authentication"]["isConnected"] is True and bridge.fake.requests == []
    assert not data["connectors"]["groq"]["description"].startswith("Unreachable")


def test_an_expired_list_is_served_while_wp_cron_refreshes_it(bridge):
    keyed(bridge, "groq")
    assert bridge.php_json(CONFIGURED, "groq") is True
    expire(bridge, "groq")
    hold_wp_cron(bridge)
    bridge.fake.clear()
    assert bridge.php_json(CONFIGURED, "groq") is True and bridge.fake.requests == []
    assert bridge.php_json("echo json_encode((bool) wp_next_scheduled('aimo_bridge_refresh_models'));") is True
    assert bridge.php_json("echo json_encode(aimo_bridge_refresh_due());") == {"groq": {"connected": True, "reason": ""}}
    assert bridge.fake.requests_for("groq", "/v1/models")


def test_cold_lists_are_fetched_in_one_parallel_batch(bridge, monkeypatch):
    providers = ("groq", "xai", "nvidia", "openrouter")
    keyed(bridge, *providers)
    arrivals: list[tuple[float, str, str]] = []
    real = bridge.fake._record

    def record(rec):
        arrivals.append((time.monotonic(), rec.provider, rec.path))
        real(rec)

    monkeypatch.setattr(bridge.fake, "_record", record)
    delay = 2.5
    for p in providers:
        bridge.fake.delay(p, delay)
    data = page_data(admin_get(bridge, "/wp-admin/options-connectors.php").text)
    assert all(data["connectors"][p]["authentication"]["isConnected"] is True for p in providers)
    paths = sorted((p, path) for _, p, path in arrivals)
    assert paths == sorted([(p, "/v1/models") for p in providers] + [("openrouter", "/v1/key")])
    # one after another, each would arrive after the previous one's delay; together they all arrive at once
    times = [t for t, _, _ in arrivals]
    assert max(times) - min(times) < delay / 2, arrivals
    # and they are cached: the next page calls nobody
    bridge.fake.clear()
    arrivals.clear()
    page_data(admin_get(bridge, "/wp-admin/options-connectors.php").text)
    assert arrivals == []


def test_check_1_fetches_cold_providers_together_and_reports_them(bridge, monkeypatch):
    providers = ("groq", "xai", "huggingface")
    keyed(bridge, *providers)
    arrivals: list[float] = []
    real = bridge.fake._record
    monkeypatch.setattr(bridge.fake, "_record", lambda rec: (arrivals.append(time.monotonic()), real(rec)))
    for p in providers:
        bridge.fake.delay(p, 2.0)
    status = bridge.status(check=True)
    assert all(bridge.connector(status, p)["connected"] is True for p in providers)
    assert len(arrivals) == 4 and max(arrivals) - min(arrivals) < 1.0  # 3 lists + Hugging Face's whoami, at once
    arrivals.clear()
    bridge.status(check=True)
    assert arrivals == []  # within their time, check=1 answers from the cache


def test_the_cache_is_one_autoloaded_option(bridge):
    keyed(bridge, "groq", "xai", "ollama")
    bridge.store_key("ollama", bridge.fake.base_url("ollama"))
    bridge.status(check=True)
    rows = bridge.php_json(
        "global $wpdb; echo json_encode($wpdb->get_results(\"SELECT option_name, autoload FROM {$wpdb->options} "
        "WHERE option_name LIKE '%transient%aimo\\_bridge%' OR option_name = 'aimo_bridge_cache'\", ARRAY_A));"
    )
    assert rows == [{"option_name": "aimo_bridge_cache", "autoload": "on"}]
    cache = bridge.php_json("echo json_encode(array_keys(get_option('aimo_bridge_cache')['models']));")
    assert sorted(cache) == ["groq", "ollama", "xai"]
    # no key leaks into it
    raw = bridge.php("echo maybe_serialize(get_option('aimo_bridge_cache'));")
    for p in ("groq", "xai"):
        assert bridge.fake.make_valid_key(p) not in raw


def test_a_warm_connectors_page_makes_no_query_of_the_bridge_and_no_call(bridge):
    keyed(bridge, "groq", "xai", "nvidia", "openai")
    admin_get(bridge, "/wp-admin/options-connectors.php")  # warms
    bridge.fake.clear()
    probe = (
        "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
        "global $wpdb; $before = $wpdb->num_queries;"
        "$data = apply_filters('script_module_data_options-connectors-wp-admin', array());"
        "echo json_encode(['queries' => $wpdb->num_queries - $before, 'n' => count($data['connectors'] ?? [])]);"
    )
    out = bridge.php_json(probe)
    assert out["n"] >= 10
    assert bridge.fake.requests == []
    # the options the page reads are autoloaded: its queries are core's own, the same with the bridge's cache warm
    # as with every provider unconfigured
    assert out["queries"] <= 2, out


def test_a_parallel_batch_waits_through_the_bridges_transport_and_answers_as_requests_own(bridge):
    """Requests' request_multiple() spins on curl_multi_exec() while it waits (a CPU core for the slowest
    provider's time); the bridge sends its batches through a transport that waits instead. Same answers, same
    failures: the one batch sent both ways."""
    keyed(bridge, "groq")
    batch = {
        "ok": [bridge.fake.base_url("groq") + "/models", bridge.fake.make_valid_key("groq")],
        "rejected": [bridge.fake.base_url("groq") + "/models", "gsk_" + "x" * 40],
        "refused": ["http://127.0.0.1:9/v1/models", ""],  # the discard port: nothing listens there
    }
    got = bridge.php_json(
        r"""
        $batch = array();
        foreach ( json_decode( $args[0], true ) as $name => [ $url, $key ] ) {
            $batch[ $name ] = array( 'url' => $url, 'headers' => $key ? array( 'Authorization' => 'Bearer ' . $key ) : array(), 'type' => 'GET', 'options' => array( 'timeout' => 5, 'connect_timeout' => 5 ) );
        }
        $summary = static function ( $responses ) {
            $out = array();
            foreach ( $responses as $name => $r ) {
                $out[ $name ] = $r instanceof WpOrg\Requests\Response ? array( $r->status_code, json_decode( $r->body, true ) !== null ) : get_class( $r );
            }
            ksort( $out );
            return $out;
        };
        $options = aimo_bridge_parallel_options();
        echo json_encode( array( 'options' => $options, 'bridge' => $summary( WpOrg\Requests\Requests::request_multiple( $batch, $options ) ), 'requests' => $summary( WpOrg\Requests\Requests::request_multiple( $batch ) ) ) );
        """,
        json.dumps(batch),
    )
    assert got["options"] == {"transport": "Aimo_Bridge_Multi_Transport"}
    assert got["bridge"] == got["requests"] == {"ok": [200, True], "refused": "WpOrg\\Requests\\Exception\\Transport\\Curl", "rejected": [401, True]}
