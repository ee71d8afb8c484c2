"""`aimo connectors takeover` from the real AI Engine (../shared/peers), with faults between aimo and the site: a take-over
never leaves a half state. The mode switch (aimo managed, AI Engine demoted to observe) is one request the bridge
applies whole; the keys follow in one push. Whatever breaks between or within them, afterwards:
- no key is lost, on the site (connector options, AI Engine's own environments) or locally;
- both sides agree on who manages (aimo managed and AI Engine demoted, or neither changed);
- `aimo sync status` names every provider's state explicitly (nothing unknown, a failure is a row with its reason);
- rerunning the take-over once the fault is gone converges: exit 0, the keys in place, status in sync.
"""

from __future__ import annotations

import json

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.stores.secrets import MemoryBackend

from .clihelper import run_cli
from .faultproxy import FaultProxy
from .test_faults_wordpress import SITE, option, set_key, write_config

pytestmark = pytest.mark.wordpress

KEYED = ("openai", "groq")


@pytest.fixture
def contested(bridge, peers):
    """AI Engine managed (the admin clicked Enable on its banner) and holding its own OpenAI key; aimo observing, with
    local keys for openai (the same key AI Engine holds) and groq (not on the site yet), its site entry going through a
    fault proxy that passes everything for now."""
    proxy = FaultProxy(bridge.url).start()
    write_config(bridge, rest_root=proxy.rest_root)
    bridge.point_at_fake()
    peers.ai_engine_managed()
    keys = {pid: bridge.fake.make_valid_key(pid) for pid in KEYED}
    peers.ai_engine_set_env_key("openai", keys["openai"])  # the admin typed the same OpenAI key into AI Engine
    for pid, key in keys.items():
        set_key(pid, key)
    proxy.reset()
    try:
        yield bridge, peers, proxy, keys
    finally:
        proxy.stop()


def site_state(site, peers) -> dict:
    """Who manages, and every key the site holds (the connector options and AI Engine's environments)."""
    envs = {env.get("type"): env.get("apikey", "") for env in peers.ai_engine_options().get("ai_envs", [])}
    return {
        "aimo": site.option("aimo_connectors_mode", "observe"),
        "ai_engine": site.option("mwai_wpai_connectors_mode", ""),
        "options": {pid: option(site, pid) for pid in KEYED},
        "ai_engine_envs": envs,
    }


def status_rows(proxy) -> dict:
    proxy.reset()
    r = run_cli(["sync", "status", SITE, "--json"])
    doc = json.loads(r.out)
    return {p["provider"]: p for p in doc["sites"][0]["providers"]}




def assert_nothing_lost(site, peers, keys: dict) -> None:
    """Every key the site held is still there, or is aimo's own key for that provider: AI Engine's environment keeps
    its copy, the OpenAI connector its key, and Groq is empty or aimo's key (never anything else)."""
    state = site_state(site, peers)
    assert state["ai_engine_envs"]["openai"] == keys["openai"], state
    assert state["options"]["openai"] == keys["openai"], state
    assert state["options"]["groq"] in ("", keys["groq"]), state
    assert {pid: (MemoryBackend._data.get(f"provider/{pid}") or "").split("\n")[0] for pid in KEYED} == keys


def one_manager(site, peers) -> str:
    """Who manages: "aimo" (aimo managed, AI Engine demoted) or "ai-engine" (nothing switched); never both, never none."""
    state = site_state(site, peers)
    pair = (state["aimo"], state["ai_engine"])
    assert pair in (("managed", "observe"), ("observe", "managed")), f"a half state: aimo {pair[0]}, AI Engine {pair[1]}"
    return "aimo" if pair[0] == "managed" else "ai-engine"


def converges(site, peers, proxy, keys: dict) -> None:
    """With the fault gone, the same command again: exit 0, aimo the one manager, every key in place, status in sync."""
    proxy.reset()
    r = run_cli(["connectors", "takeover", SITE])
    assert r.code == 0, r.out + r.err
    assert one_manager(site, peers) == "aimo"
    assert site_state(site, peers)["options"] == keys
    rows = status_rows(proxy)
    assert {pid: rows[pid]["status"] for pid in KEYED} == {"openai": "in sync", "groq": "in sync"}
    assert_nothing_lost(site, peers, keys)


# (how the fault is armed, exit code, who manages afterwards, what the message says, groq's row in sync status)
FAULTS = {
    "the-switch-is-refused": (
        lambda proxy: proxy.respond(503, {"code": "down", "message": "down"}, method="POST", path="/aimo/v1/mode"),
        ExitCode.REMOTE, "ai-engine", "POST /aimo/v1/mode failed (HTTP 503", ("not registered", "report"),
    ),
    "the-switch-lands-its-answer-is-lost": (
        lambda proxy: proxy.drop_after_forward(method="POST", path="/aimo/v1/mode"),
        ExitCode.REMOTE, "aimo", "a write may have been applied anyway", ("remote empty", "push"),
    ),
    "the-site-stops-after-the-switch": (
        lambda proxy: proxy.down_after(1),
        ExitCode.REMOTE, "aimo", "the switch went through (mode observe → managed, AI Engine demoted to observe), but the push did not", ("remote empty", "push"),
    ),
    "the-push-lands-its-answer-is-lost": (
        lambda proxy: proxy.drop_after_forward(method="POST", path="/aimo/v1/credentials"),
        ExitCode.REMOTE, "aimo", "the switch went through (mode observe → managed, AI Engine demoted to observe), but the push did not", ("in sync", "none"),
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_take_over_broken_anywhere_leaves_one_manager_loses_no_key_and_converges(contested, fault):
    site, peers, proxy, keys = contested
    arm, code, manager, said, groq_row = FAULTS[fault]
    arm(proxy)
    r = run_cli(["connectors", "takeover", SITE])
    assert r.code == code, r.out + r.err
    assert said in r.out + r.err, r.out + r.err
    proxy.up()
    assert one_manager(site, peers) == manager
    assert_nothing_lost(site, peers, keys)
    rows = status_rows(proxy)
    assert rows["openai"]["status"] == "in sync" and (rows["groq"]["status"], rows["groq"]["action"]) == groq_row, rows
    assert all(row["status"] and row["reason"] for row in rows.values())  # every provider named with its state
    converges(site, peers, proxy, keys)


def test_ai_engine_taking_back_control_mid_take_over_stops_the_push_and_says_so(contested):
    """The admin clicks Enable on AI Engine's banner between aimo's switch and its push: two managers. aimo writes
    nothing through another manager (exit 6), says who, and a second take-over settles it."""
    site, peers, proxy, keys = contested
    proxy.before(2, lambda: peers.banner_click("ai-engine", "managed"))
    r = run_cli(["connectors", "takeover", SITE])
    assert r.code == ExitCode.REFUSED, r.out + r.err
    assert "AI Engine manages the Connectors: aimo writes nothing through another manager" in r.out, r.out
    assert "AI Engine also manages the Connectors (both in managed mode)" in r.err and "aimo connectors takeover wp" in r.err, r.err
    assert site_state(site, peers)["options"]["groq"] == ""  # nothing written while both manage
    assert_nothing_lost(site, peers, keys)
    converges(site, peers, proxy, keys)
