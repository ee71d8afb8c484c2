"""Faults between aimo and a real WordPress site, injected by a proxy in front of it (tests/faultproxy.py).

Each fault is checked for the same four things: no key is lost locally (the secret store) or remotely (the connector
option, read with PHP), the error is clear, the exit code is the documented one (docs/design.md §7), and a rerun once the
fault is gone converges (exit 0, the key in place). docs/reliability.md lists every fault and the test proving it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.stores.secrets import MemoryBackend

from .clihelper import run_aimo, run_cli
from .faultproxy import FaultProxy

pytestmark = pytest.mark.wordpress

SITE = "wp"


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def write_config(bridge, *, url: str | None = None, rest_root: str | None = None) -> None:
    """One site entry `wp` (default), written by hand as an admin would; providers pointed at the fake."""
    lines = [f'default_site = "{SITE}"', "", bridge.fake.settings_toml(), f"[sites.{SITE}]", f'url = "{url or bridge.url}"', f'user = "{bridge.wp.admin_user}"']
    if rest_root:  # the fault proxy listens on another port: an explicit REST root, as `site add --rest-root` stores it
        lines += [f'rest_root = "{rest_root}"', "rest_root_explicit = true"]
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    MemoryBackend._data[f"site/{SITE}"] = bridge.wp.admin_app_password


@pytest.fixture
def faulty(bridge):
    """The bridge in managed mode, aimo's site entry going through a fault proxy that passes everything for now."""
    proxy = FaultProxy(bridge.url).start()
    write_config(bridge, rest_root=proxy.rest_root)
    bridge.managed()
    try:
        yield bridge, proxy
    finally:
        proxy.stop()


def set_key(pid: str, value: str) -> None:
    r = run_cli(["keys", "set", pid, "--stdin"], stdin=value + "\n")
    assert r.code == 0, r.err


def local_first(pid: str) -> str:
    return (MemoryBackend._data.get(f"provider/{pid}") or "").split("\n")[0]


def option(site, pid: str) -> str:
    return site.option(f"connectors_ai_{pid}_api_key", "")


def pushed(site, proxy, pid: str = "groq") -> tuple[str, str]:
    """A key A pushed and in sync, then a new local key B not pushed yet: the starting point of most faults."""
    a = site.fake.make_valid_key(pid)
    set_key(pid, a)
    r = run_cli(["sync", "push"])
    assert r.code == 0, r.out + r.err
    assert option(site, pid) == a
    b = site.fake.make_valid_key(pid)
    set_key(pid, b)
    proxy.reset()
    return a, b


def converges(site, proxy, pid: str, key: str) -> None:
    """With the fault gone, a rerun exits 0, the site holds the key, and a status check agrees."""
    proxy.reset()
    r = run_cli(["sync", "push"])
    assert r.code == 0, r.out + r.err
    assert option(site, pid) == key
    assert local_first(pid) == key
    r = run_cli(["sync", "status"])
    assert r.code == 0, r.out + r.err


# -- WordPress stops, or the answer is lost -------------------------------------------------------------------------


def test_wordpress_stops_between_read_and_write(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.down_after(1)  # the status read is answered; then nothing listens
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE, r.out + r.err
    assert "cannot reach" in r.out and "Connection refused" in r.out
    assert "Retry: wp" in r.err
    assert [s.method for s in proxy.seen] == ["GET"]  # the write never reached the site
    assert option(site, "groq") == a and local_first("groq") == b
    converges(site, proxy, "groq", b)


def test_write_lands_but_the_answer_is_lost(faulty):
    """The write reached WordPress, the answer did not reach aimo: the rerun sees both sides equal and records it
    as the new base (before the fix in services/sync.py the next local change was then misreported as a conflict)."""
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.drop_after_forward(method="POST")
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE
    assert "POST /aimo/v1/credentials failed" in r.out and "disconnected" in r.out
    assert option(site, "groq") == b  # it did happen
    converges(site, proxy, "groq", b)
    c = site.fake.make_valid_key("groq")
    set_key("groq", c)
    r = run_cli(["sync", "push", "--json"])
    assert r.code == 0, r.out
    res = {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}["groq"]
    assert res["status"] == "local changed" and res["outcome"] == "stored"
    assert option(site, "groq") == c


def test_connection_dropped_before_the_read_is_retried(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.drop(method="GET")
    r = run_cli(["sync", "push"])
    assert r.code == 0, r.out + r.err
    assert len(proxy.requests("GET", "/aimo/v1/status")) == 2
    assert option(site, "groq") == b


# -- 5xx and 429 ---------------------------------------------------------------------------------------------------


def test_transient_5xx_on_the_read_is_retried_and_succeeds(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.respond(503, {"code": "maintenance", "message": "Briefly unavailable for scheduled maintenance."}, method="GET", times=2)
    r = run_cli(["sync", "push"])
    assert r.code == 0, r.out + r.err
    assert [s.status for s in proxy.requests("GET")] == [503, 503, 200]
    assert option(site, "groq") == b


def test_persistent_5xx_exit_5_bounded_and_nothing_changes(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.respond(503, {"code": "maintenance", "message": "Briefly unavailable"}, times=100)
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE
    assert "HTTP 503 maintenance" in r.out and "failed on its side" in r.err
    assert len(proxy.seen) == 3  # one read and two retries; never a write
    assert option(site, "groq") == a and local_first("groq") == b
    converges(site, proxy, "groq", b)


def test_5xx_on_the_write_is_not_retried_blindly(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.respond(500, {"code": "internal_server_error", "message": "There has been a critical error on this website."}, method="POST", times=100)
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE
    assert "HTTP 500 internal_server_error" in r.out
    assert len(proxy.requests("POST")) == 1
    assert option(site, "groq") == a
    converges(site, proxy, "groq", b)


def test_429_retry_after_is_honoured(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.respond(429, {"code": "too_many_requests", "message": "Slow down"}, headers={"Retry-After": "1"}, method="GET")
    r = run_cli(["sync", "push"])
    assert r.code == 0, r.out + r.err
    first, second = proxy.requests("GET")[:2]
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.9  # it waited as asked (a lower bound only: no upper timing assertion)
    assert option(site, "groq") == b


def test_429_retry_after_is_capped_and_retries_are_bounded(faulty):
    from aimo_cli.context import Clock, Dependencies
    from aimo_cli.wordpress.client import MAX_RETRY_AFTER

    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.respond(429, {"code": "too_many_requests", "message": "Slow down"}, headers={"Retry-After": "86400"}, times=100)
    waits: list[float] = []
    r = run_cli(["sync", "push"], deps=Dependencies(clock=Clock(sleep=waits.append)))  # record the waits instead of sleeping 2 × 30 s
    assert r.code == ExitCode.REMOTE
    assert "HTTP 429" in r.out and "rate-limiting" in r.err
    assert waits == [MAX_RETRY_AFTER, MAX_RETRY_AFTER] and MAX_RETRY_AFTER <= 30
    assert len(proxy.seen) == 3
    assert option(site, "groq") == a
    converges(site, proxy, "groq", b)


# -- not JSON, too slow, no such host ---------------------------------------------------------------------------------


def test_firewall_html_page_with_200_instead_of_json(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.firewall_page(times=100)
    for args, code in ((["sync", "status"], 5), (["sync", "push"], 5), (["mode"], 5), (["doctor"], 5)):  # doctor: site.reachable fails, exit class remote
        r = run_cli(args)
        assert r.code == code, (args, r.out, r.err)
        assert "HTML instead of JSON" in r.text, (args, r.text)
        assert "firewall" in r.text
    assert not proxy.requests("POST")
    assert option(site, "groq") == a
    converges(site, proxy, "groq", b)


def test_firewall_page_on_the_write_only(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.firewall_page(method="POST")
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE and "HTML instead of JSON" in r.out
    assert option(site, "groq") == a
    converges(site, proxy, "groq", b)


def test_slower_than_the_timeout(faulty, monkeypatch):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.delay(2.5, method="GET", times=100)
    r = run_cli(["--timeout", "0.5", "sync", "push"])
    assert r.code == ExitCode.REMOTE
    assert "did not answer GET /aimo/v1/status in time" in r.out
    assert len(proxy.requests("GET")) == 3 and not proxy.requests("POST")
    monkeypatch.setenv("AIMO_HTTP_TIMEOUT", "0.5")  # the same through the environment
    r = run_cli(["sync", "status"])
    assert r.code == ExitCode.REMOTE and "in time" in r.out
    proxy.wait_idle()
    assert option(site, "groq") == a
    converges(site, proxy, "groq", b)


def test_write_slower_than_the_timeout_still_lands_and_the_rerun_agrees(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.delay(2.0, method="POST")
    r = run_cli(["--timeout", "1", "sync", "push"])
    assert r.code == ExitCode.REMOTE
    assert "did not answer POST /aimo/v1/credentials in time" in r.out
    assert len(proxy.requests("POST")) == 1  # a write is never retried blindly
    proxy.wait_idle()  # WordPress finishes the write after aimo gave up
    assert option(site, "groq") == b
    converges(site, proxy, "groq", b)


def test_bad_timeout_values_are_usage_errors(monkeypatch):
    assert run_cli(["--timeout", "0", "sync", "status"]).code == ExitCode.USAGE
    assert run_cli(["--timeout", "abc", "sync", "status"]).code == ExitCode.USAGE
    monkeypatch.setenv("AIMO_HTTP_TIMEOUT", "soon")
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text('[sites.wp]\nurl = "http://127.0.0.1:9"\nuser = "admin"\n')
    MemoryBackend._data["site/wp"] = "abcd efgh ijkl mnop"
    r = run_cli(["sync", "status"])
    assert r.code == ExitCode.USAGE and "AIMO_HTTP_TIMEOUT" in r.out + r.err


def test_a_name_that_does_not_resolve(bridge):
    write_config(bridge, url="https://nonexistent.invalid")
    key = bridge.fake.make_valid_key("groq")
    set_key("groq", key)
    for args in (["sync", "push"], ["sync", "status"], ["sync", "pull"]):
        r = run_cli(args)
        assert r.code == ExitCode.REMOTE, (args, r.text)
        assert "nonexistent.invalid: the host name does not resolve" in r.text
    r = run_cli(["site", "add", "nx", "https://nonexistent.invalid", "--user", "admin", "--stdin"], stdin="abcd efgh ijkl mnop\n")
    assert r.code == ExitCode.REMOTE and "does not resolve" in r.err
    assert "nx" not in config_path().read_text()
    assert local_first("groq") == key


# -- the provider rejects the key while WordPress validates it ------------------------------------------------------
# (the bad-key cases exist: test_sync_wordpress.py::test_key_rejected_by_the_site_keeps_the_old_one (bridge) and
# test_sync_core_wordpress.py::test_wordpress_wipes_a_rejected_key_and_aimo_puts_the_old_one_back (core); this adds
# the provider being unreachable *from the site* during the bridge's check, then coming back.)


def test_provider_unreachable_from_the_site_during_validation(faulty):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    site.fake.down("groq")
    try:
        r = run_cli(["sync", "push", "--no-verify", "--json"])
    finally:
        site.fake.up("groq")
    assert r.code == ExitCode.REMOTE  # the site could not reach the provider: a remote problem, not a refused key
    res = {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}["groq"]
    assert res["outcome"] == "unreachable" and "kept its" in res["reason"] and "could not reach Groq" in res["reason"]
    assert option(site, "groq") == a and local_first("groq") == b
    converges(site, proxy, "groq", b)


# -- another manager switches mode during a run --------------------------------------------------------------------


def ai_engine_takes_over(peers):
    """The real AI Engine (active, observe) and an admin who clicks Enable on its banner when the callback runs."""
    peers.activate("ai-engine")
    return lambda: peers.banner_click("ai-engine", "managed")


def test_another_manager_switches_to_managed_between_read_and_write(faulty, peers):
    site, proxy = faulty
    a, b = pushed(site, proxy)
    proxy.before(2, ai_engine_takes_over(peers))  # after aimo's status read, before its write
    r = run_cli(["sync", "push"])
    # aimo could not have known, but the bridge does: it writes nothing while another manager runs the Connectors
    assert r.code == ExitCode.REFUSED, r.out + r.err
    assert "AI Engine manages the Connectors" in r.out and "aimo connectors takeover wp" in r.out and "Retry:" not in r.err
    assert option(site, "groq") == a
    proxy.reset()
    # every later run sees two managers and says so; a push refuses (exit 6) until the admin decides
    r = run_cli(["sync", "status"])
    assert r.code == ExitCode.DRIFT, r.text
    assert "AI Engine also manages the Connectors" in r.err and "aimo connectors takeover wp" in r.err
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REFUSED, r.text
    assert "AI Engine manages the Connectors" in r.out + r.err and "aimo connectors takeover wp" in r.out + r.err and "Retry:" not in r.err
    data = json.loads(run_cli(["sync", "status", "--json"]).out)
    assert data["sites"][0]["competitor"] == "AI Engine"
    assert site.option("mwai_wpai_connectors_mode") == "managed"  # never demoted without the admin's say-so
    r = run_cli(["connectors", "takeover"])
    assert r.code == 0, r.out + r.err
    assert site.option("mwai_wpai_connectors_mode") == "observe"
    converges(site, proxy, "groq", b)


def test_another_manager_switches_to_managed_before_aimo_enables(faulty, peers):
    site, proxy = faulty
    site.set_options(aimo_connectors_mode="observe")
    key = site.fake.make_valid_key("groq")
    set_key("groq", key)
    proxy.before(1, ai_engine_takes_over(peers))
    r = run_cli(["connectors", "enable"])
    assert r.code == ExitCode.REFUSED
    assert "AI Engine manages the Connectors" in r.err and "takeover" in r.err
    assert site.option("aimo_connectors_mode") == "observe" and option(site, "groq") == ""
    assert site.option("mwai_wpai_connectors_mode") == "managed"
    r = run_cli(["connectors", "enable", "--take-over"])
    assert r.code == 0, r.out + r.err
    assert option(site, "groq") == key and site.option("mwai_wpai_connectors_mode") == "observe"
    assert run_cli(["sync", "status"]).code == 0


# -- two aimo processes at once ----------------------------------------------------------------------------------------


def test_concurrent_processes_push_set_keys_and_add_sites(bridge, isolated):
    """Real processes with the file secret backend and shared XDG dirs: sync push ×2, keys set ×6 and site add ×4 at
    once. The settings file stays valid TOML, no update is lost, every key is intact, and a rerun converges."""
    env = {"AIMO_KEYRING": "file", "AIMO_BACKGROUND_REFRESH": "0"}
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("# my fleet\n" + bridge.fake.settings_toml())
    bridge.managed()
    pw = bridge.wp.admin_app_password
    r = run_aimo(["site", "add", "main", bridge.url, "--user", bridge.wp.admin_user, "--stdin"], stdin=pw, env=env)
    assert r.code == 0, r.err
    groq = bridge.fake.make_valid_key("groq")
    assert run_aimo(["keys", "set", "groq", "--stdin"], stdin=groq, env=env).code == 0
    others = {p: bridge.fake.make_valid_key(p) for p in ("openai", "anthropic", "xai", "nvidia", "perplexity", "openrouter")}
    jobs: list[tuple[list[str], str]] = [(["sync", "push", "main"], ""), (["sync", "push", "main"], "")]
    jobs += [(["keys", "set", p, "--stdin"], k) for p, k in others.items()]
    jobs += [(["site", "add", f"extra{i}", bridge.url, "--user", bridge.wp.admin_user, "--stdin"], pw) for i in range(4)]
    results: dict[int, object] = {}

    def go(i: int, args: list[str], stdin: str) -> None:
        results[i] = run_aimo(args, stdin=stdin, env=env, timeout=300)

    threads = [threading.Thread(target=go, args=(i, a, s)) for i, (a, s) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (args, _) in enumerate(jobs):
        assert results[i].code == 0, (args, results[i].out, results[i].err)
    import tomllib

    doc = tomllib.loads(config_path().read_text())
    assert config_path().read_text().startswith("# my fleet")
    assert set(doc["sites"]) == {"main", "extra0", "extra1", "extra2", "extra3"} and doc["default_site"] == "main"
    secrets_file = Path(os.environ["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    stored = json.loads(secrets_file.read_text())
    assert stored["provider/groq"] == groq
    assert all(stored[f"provider/{p}"] == k for p, k in others.items())
    assert all(stored[f"site/{n}"] == pw for n in ("main", "extra0", "extra1", "extra2", "extra3"))
    assert bridge.option("connectors_ai_groq_api_key") == groq
    r = run_aimo(["sync", "push", "main"], env=env)
    assert r.code == 0, r.out + r.err
    assert all(bridge.option(f"connectors_ai_{p}_api_key") == k for p, k in others.items())
    assert run_aimo(["sync", "status", "--all"], env=env).code == 0
