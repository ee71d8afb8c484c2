"""Every doctor check as a pure function of what was observed (fake status documents, no I/O)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from aimo_cli.core import checks as C
from aimo_cli.core.exits import ExitStatus
from aimo_cli.core.sampling import DEFAULT_NO_SAMPLING_PREFIXES
from aimo_cli.core.secrets import BULLET, fingerprint
from aimo_cli.core.sync import BaseRecord, RemoteKey
from aimo_cli.wordpress.bridge import parse_approval, parse_manager
from aimo_cli.wordpress.bridge import parse_connector

REPO = Path(__file__).resolve().parent.parent
KEY = "gsk_test_key_0123456789abcd"
OTHER = "gsk_test_key_zyxwvutsrqpo"


def conn(pid="groq", **kw):
    base = {
        "id": pid,
        "name": f"{pid.title()} via aimo",
        "type": "ai_provider",
        "registered_by": "aimo",
        "manager": None,
        "provider_registered": True,
        "setting_name": f"connectors_ai_{pid}_api_key",
        "key_source": "database",
        "fingerprint": fingerprint(KEY),
        "mask_tail": KEY[-4:],
        "connected": True,
        "connected_reason": "",
        "checked_at": "2026-11-24T10:00:00Z",
        "base_url": None,
    }
    base.update(kw)
    return parse_connector(base)  # the checks read the bridge's typed contract, never its raw JSON


# -- model and outcome -------------------------------------------------------------------------------------------------


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        C.Check("x", "maybe", "m")


@pytest.mark.parametrize(
    "statuses, strict, code",
    [
        ([C.OK, C.SKIP], False, 0),
        ([C.OK, C.WARN], False, 0),
        ([C.OK, C.WARN], True, 7),
        ([C.FAIL], False, 7),
    ],
)
def test_exit_code_from_statuses(statuses, strict, code):
    assert C.exit_code([C.check(f"c{i}", s, "m") for i, s in enumerate(statuses)], strict) == code


def test_exit_code_priorities_settings_then_auth_then_failure():
    fail = C.check("site.bridge", C.FAIL, "m")
    auth = C.check("site.credentials", C.FAIL, "m", exit_class=ExitStatus.AUTH)  # as its registration declares
    admin = C.check("site.manage_options", C.FAIL, "m", exit_class=ExitStatus.AUTH)
    settings = C.check("local.settings", C.FAIL, "m", exit_class=ExitStatus.CONFIG)
    assert C.exit_code([fail, auth]) == 4
    assert C.exit_code([fail, admin]) == 4
    assert C.exit_code([fail, auth, settings]) == 3
    assert C.exit_code([C.check("site.credentials", C.OK, "m"), fail]) == 7


def test_junit_is_valid_xml_with_failure_skipped_and_strict_warnings():
    items = [
        C.check("local.settings", C.OK, "fine"),
        C.check("local.secret_backend", C.WARN, "fell back <&>", "do \"this\""),
        C.check("site.bridge", C.FAIL, "missing \x01 ctrl", "aimo bridge activate blog", group="site blog", site="blog"),
        C.check("local.groq.credential", C.SKIP, "no key"),
    ]
    for strict, failures in ((False, 1), (True, 2)):
        root = ET.fromstring(C.to_junit(items, strict=strict))
        assert root.tag == "testsuites"
        assert root.get("tests") == "4" and root.get("failures") == str(failures) and root.get("skipped") == "1"
        cases = root.findall(".//testcase")
        assert sorted(c.get("name") for c in cases) == sorted(i.id for i in items)
        by = {c.get("name"): c for c in cases}
        assert by["site.bridge"].find("failure") is not None
        assert "aimo bridge activate blog" in by["site.bridge"].find("failure").text
        assert by["local.groq.credential"].find("skipped") is not None
        assert (by["local.secret_backend"].find("failure") is not None) is strict
        assert {s.get("name") for s in root.findall("testsuite")} == {"local", "site blog"}


# -- local -------------------------------------------------------------------------------------------------------------


def test_settings_check():
    assert C.settings_check("/x/aimo.toml", None).status == C.OK
    assert C.settings_check("/x/aimo.toml", None, exists=False).status == C.OK
    bad = C.settings_check("/x/aimo.toml", "/x/aimo.toml:3:1: not valid TOML", "Fix that line")
    assert bad.status == C.FAIL and bad.hint == "Fix that line" and bad.exit_status() is ExitStatus.DRIFT  # its exit class comes from its registration


@pytest.mark.parametrize(
    "backend, forced, status",
    [("keyring", "", C.OK), ("file", "file", C.OK), ("file", "", C.WARN), ("file", "auto", C.WARN), ("memory", "memory", C.WARN)],
)
def test_backend_check(backend, forced, status):
    c = C.backend_check(backend, forced)
    assert c.status == status
    if backend == "file" and status == C.WARN:
        assert "fell back" in c.message and "AIMO_KEYRING=file" in c.hint


def test_credential_and_verify_checks():
    assert C.credential_check("groq", "Groq", False, "", "", "GROQ_API_KEY").status == C.SKIP
    ok = C.credential_check("groq", "Groq", True, "env", "••••abcd", "GROQ_API_KEY")
    assert ok.status == C.OK and "GROQ_API_KEY" in ok.message
    assert C.verify_check("groq", "Groq", None, offline=True, present=True).status == C.SKIP
    assert C.verify_check("groq", "Groq", (True, ""), offline=False, present=True).status == C.OK
    bad = C.verify_check("groq", "Groq", (False, "401 invalid key"), offline=False, present=True)
    assert bad.status == C.FAIL and "aimo keys set groq" in bad.hint
    assert C.verify_check("groq", "Groq", (None, "timeout"), offline=False, present=True).status == C.WARN


def test_duplicates_check():
    assert C.duplicates_check([]).status == C.OK
    dup = C.duplicates_check([("openai", "google")], {"openai": "OpenAI", "google": "Google"})
    assert dup.status == C.FAIL and "OpenAI = Google" in dup.message and "wrong provider" in dup.message


def test_ollama_local_check():
    assert C.ollama_local_check("", False, offline=False).status == C.SKIP
    assert C.ollama_local_check("http://localhost:11434", True, offline=True).status == C.SKIP
    assert C.ollama_local_check("http://localhost:11434", True, offline=False, version="0.5.1").status == C.OK
    down = C.ollama_local_check("http://localhost:11434", True, offline=False, error="connection refused")
    assert down.status == C.FAIL and "ollama serve" in down.hint and down.group == "features"


def test_catalog_cache_check():
    assert C.catalog_cache_check({}).status == C.SKIP
    assert C.catalog_cache_check({"groq": "fresh"}).status == C.OK
    assert C.catalog_cache_check({"groq": "missing"}).status == C.OK  # a fresh install is not a problem
    stale = C.catalog_cache_check({"groq": "stale", "openai": "missing", "xai": "fresh"})
    assert stale.status == C.WARN and "groq" in stale.message and "openai" in stale.message and stale.hint == "Refresh it: aimo models refresh"


# -- site --------------------------------------------------------------------------------------------------------------


def test_https_check():
    assert C.https_check("b", "https://blog.example", False).status == C.OK
    assert C.https_check("b", "http://127.0.0.1:8881", True, "local").status == C.OK
    assert C.https_check("b", "http://127.0.0.1:8881", True, "production").status == C.WARN
    assert C.https_check("b", "http://blog.example", False).status == C.FAIL


def test_credentials_and_manage_options():
    c = C.credentials_check("blog", "admin", "https://b.example", status=401)
    assert c.status == C.FAIL and "application password" in c.hint and "aimo site add blog" in c.hint
    assert C.credentials_check("blog", "admin", "https://b.example", missing=True).status == C.FAIL
    assert C.credentials_check("blog", "admin", "https://b.example", status=200, slug="admin").status == C.OK
    assert C.manage_options_check("blog", {"capabilities": {"manage_options": True}}).status == C.OK
    editor = C.manage_options_check("blog", {"slug": "ed", "roles": ["editor"], "capabilities": {"edit_posts": True}})
    assert editor.status == C.FAIL and "editor" in editor.message and "manage_options" in editor.message


@pytest.mark.parametrize("version, status", [("7.1.4", C.OK), ("7.0", C.OK), ("6.8.2", C.FAIL), (None, C.WARN), ("7.2-beta1", C.OK)])
def test_wordpress_version(version, status):
    assert C.wordpress_version_check("b", version).status == status


def test_ai_support():
    assert C.ai_support_check("b", True).status == C.OK
    off = C.ai_support_check("b", False)
    assert off.status == C.FAIL and "WP_AI_SUPPORT" in off.hint
    assert C.ai_support_check("b", None).status == C.SKIP


def test_bridge_check_variants():
    assert C.bridge_check("b", active=True).status == C.OK
    inactive = C.bridge_check("b", active=False, plugin={"plugin": "aimo-bridge/aimo-bridge", "status": "inactive", "version": "0.1.0"}, searched=True)
    assert inactive.status == C.FAIL and inactive.hint == "Activate it: aimo bridge activate b"
    absent = C.bridge_check("b", active=False, searched=True)
    assert absent.status == C.WARN and "not installed" in absent.message and "aimo bridge zip" in absent.hint
    offline = C.bridge_check("b", active=False, searched=False, offline=True)
    assert offline.status == C.WARN and "--offline" in offline.message
    assert C.bridge_check("b", active=False, error="HTTP 500").status == C.FAIL


def test_find_bridge_plugin():
    plugins = [
        {"plugin": "akismet/akismet", "name": "Akismet", "status": "inactive"},
        {"plugin": "aimo-bridge/aimo-bridge", "name": "aimo bridge", "status": "inactive", "version": "0.1.0"},
    ]
    assert C.find_bridge_plugin(plugins)["plugin"] == "aimo-bridge/aimo-bridge"
    assert C.find_bridge_plugin([plugins[0]]) is None
    assert C.find_bridge_plugin({"code": "x"}) is None


def test_bridge_version_check_same_major_minor():
    assert C.bridge_version_check("b", "0.1.0", "0.1").status == C.OK
    assert C.bridge_version_check("b", "0.1.7", "0.1").status == C.OK
    old = C.bridge_version_check("b", "0.0.9", "0.1")
    assert old.status == C.FAIL and "aimo bridge install" in old.hint
    new = C.bridge_version_check("b", "0.2.0", "0.1")
    assert new.status == C.FAIL and "Upgrade aimo" in new.hint
    assert C.bridge_version_check("b", None).status == C.WARN


def test_bridge_compat_matches_the_shipped_plugin():
    text = (REPO / "aimo_cli" / "bridge" / "aimo-bridge" / "aimo-bridge.php").read_text()
    shipped = re.search(r"define\(\s*'AIMO_BRIDGE_VERSION',\s*'([^']+)'", text).group(1)
    assert C.bridge_version_check("b", shipped).status == C.OK, f"BRIDGE_COMPAT {C.BRIDGE_COMPAT} vs shipped bridge {shipped}"


def test_mode_check():
    assert C.mode_check("blog", "managed").status == C.OK
    for mode in ("observe", "off", None):
        c = C.mode_check("blog", mode)
        assert c.status == C.WARN and c.hint == "aimo connectors enable blog"


def test_managers_check():
    assert C.managers_check("blog", []).status == C.OK
    assert C.managers_check("blog", [parse_manager({"name": "AI Engine", "mode": "observe", "active": True, "source": "plugin"})]).status == C.OK
    rival = C.managers_check("blog", [parse_manager({"name": "AI Engine", "slug": "ai-engine", "mode": "managed", "active": True, "source": "plugin"})])
    assert rival.status == C.FAIL and "AI Engine" in rival.message and rival.hint.startswith("aimo connectors takeover blog")
    inactive = C.managers_check("blog", [parse_manager({"name": "AI Engine", "mode": "managed", "active": False, "source": "plugin"})])
    assert inactive.status == C.OK  # a leftover mode option of an inactive plugin manages nothing


# -- connectors --------------------------------------------------------------------------------------------------------


def test_registered_check():
    assert C.registered_check("b", "groq", "Groq", conn(), "managed").status == C.OK
    other = C.registered_check("b", "xai", "xAI", conn("xai", registered_by="manager", manager="AI Puffer"), "managed")
    assert other.status == C.OK and "AI Puffer" in other.message
    assert C.registered_check("b", "groq", "Groq", conn(provider_registered=False), "observe").status == C.WARN
    missing = C.registered_check("b", "groq", "Groq", conn(provider_registered=False), "managed")
    assert missing.status == C.FAIL and "aimo connectors enable b" in missing.hint


def test_key_source_check():
    assert C.key_source_check("b", "groq", "Groq", "database", "GROQ_API_KEY") is None
    assert C.key_source_check("b", "groq", "Groq", "none", "GROQ_API_KEY") is None
    for source in ("env", "constant"):
        c = C.key_source_check("b", "groq", "Groq", source, "GROQ_API_KEY")
        assert c.status == C.WARN and "push" in c.message and "GROQ_API_KEY" in c.message


def rk(value="", *, source="database", registered=True):
    return RemoteKey("groq", registered, (BULLET * 4 + value[-4:]) if value else "", fingerprint(value) or None, source)


@pytest.mark.parametrize(
    "local, remote, base, status, hint",
    [
        (KEY, rk(KEY), None, C.OK, None),
        ("", rk(""), None, C.SKIP, None),
        (KEY, rk(""), None, C.WARN, "aimo sync push b"),
        (KEY, rk(OTHER), None, C.WARN, "aimo sync push b --prefer local --yes (replace the site's key) or aimo sync pull b --prefer remote (adopt it)"),
        (KEY, rk(OTHER), BaseRecord.of(OTHER), C.WARN, "aimo sync push b"),  # local changed
        (OTHER, rk(KEY), BaseRecord.of(OTHER), C.WARN, "aimo sync pull b"),  # remote changed
        ("", rk(KEY), None, C.WARN, "aimo sync pull b"),
        (KEY, rk(OTHER), BaseRecord.of("third-key-000000000"), C.WARN, "aimo sync push b --prefer local, or aimo sync pull b --prefer remote"),
        (KEY, rk("", source="env"), None, C.SKIP, None),
        (KEY, rk("", registered=False), None, C.SKIP, None),
    ],
)
def test_sync_check_uses_the_planner(local, remote, base, status, hint):
    c = C.sync_check("b", "groq", "Groq", local, remote, base)
    assert c.status == status
    assert c.hint == hint


def test_connected_check():
    assert C.connected_check("b", "groq", "Groq", conn()).status == C.OK
    assert C.connected_check("b", "groq", "Groq", conn(connected=None)).status == C.SKIP
    assert C.connected_check("b", "groq", "Groq", conn(provider_registered=False, connected=False)).status == C.SKIP
    down = C.connected_check("b", "groq", "Groq", conn(connected=False, connected_reason="Unauthorized (401)"))
    assert down.status == C.FAIL and "Unauthorized (401)" in down.message and "aimo keys verify groq" in down.hint


def test_approval_check():
    assert C.approval_check("b", "groq", "Groq", parse_approval({"active": False, "approved": {}})) is None
    assert C.approval_check("b", "groq", "Groq", None) is None
    ok = C.approval_check("b", "groq", "Groq", parse_approval({"active": True, "approved": {"ai/ai.php": ["groq"], "aimo-bridge/aimo-bridge.php": ["groq"]}}))
    assert ok.status == C.OK
    blocked = C.approval_check("b", "groq", "Groq", parse_approval({"active": True, "approved": {"aimo-bridge/aimo-bridge.php": ["groq"]}}))
    assert blocked.status == C.FAIL and "ai/ai.php" in blocked.message and "aimo connectors enable b" in blocked.hint


# -- features ----------------------------------------------------------------------------------------------------------


def test_wpai_check():
    assert C.wpai_check("b", True).status == C.OK
    off = C.wpai_check("b", False)
    assert off.status == C.WARN and "ai/ai.php" in off.message
    assert C.wpai_check("b", None).status == C.SKIP


def test_model_check():
    conns = {"groq": conn(), "openai": conn("openai", connected=False, connected_reason="Unauthorized (401)"), "xai": conn("xai", connected=None, key_source="none")}
    assert C.model_check("b", "text", "", conns, None).status == C.OK  # Automatic
    assert C.model_check("b", "text", "groq:llama-x", conns, ["llama-x"], "cache").status == C.OK
    gone = C.model_check("b", "text", "groq:retired-model", conns, ["llama-x"], "live")
    assert gone.status == C.FAIL and "unsupported_model" in gone.message
    curated = C.model_check("b", "text", "groq:new-model", conns, ["llama-x"], "curated")
    assert curated.status == C.WARN
    disc = C.model_check("b", "text", "openai:gpt-5", conns, ["gpt-5"], "live")
    assert disc.status == C.FAIL and "not connected" in disc.message and "Unauthorized (401)" in disc.message
    assert C.model_check("b", "image", "xai:grok-image", conns, ["grok-image"], "live").status == C.FAIL  # no key on the site
    assert C.model_check("b", "text", "anthropic:claude", conns, ["claude"], "live").status == C.FAIL  # not registered
    assert C.model_check("b", "text", "groq:llama-x", conns, None).status == C.SKIP
    assert C.model_check("b", "text", "nocolon", conns, None).status == C.FAIL


def test_prefix_covered_understands_the_bridge_wildcard():
    bridge_defaults = ["claude-opus-4-7", "claude-opus-4-8", "claude-opus-4-9", "claude-*-5", "claude-5", "claude-fable", "claude-mythos", "fable", "mythos"]
    assert all(C.prefix_covered(p, bridge_defaults) for p in DEFAULT_NO_SAMPLING_PREFIXES)
    assert not C.prefix_covered("claude-opus-4-5", ["claude-*-5"])
    assert C.prefix_covered("claude-opus-4-7", ["claude-opus-4"])


def test_no_sampling_check():
    assert C.no_sampling_check("b", None, DEFAULT_NO_SAMPLING_PREFIXES).status == C.SKIP
    assert C.no_sampling_check("b", list(DEFAULT_NO_SAMPLING_PREFIXES), DEFAULT_NO_SAMPLING_PREFIXES).status == C.OK
    partial = C.no_sampling_check("b", ["claude-opus-4-7"], DEFAULT_NO_SAMPLING_PREFIXES)
    assert partial.status == C.WARN and "claude-sonnet-5" in partial.message


def test_ollama_site_check():
    assert C.ollama_site_check("b", None, False) is None
    assert C.ollama_site_check("b", conn("ollama"), True).status == C.OK
    assert C.ollama_site_check("b", conn("ollama", connected=None), True).status == C.SKIP
    down = C.ollama_site_check("b", conn("ollama", connected=False, connected_reason="cooling down: unreachable"), True)
    assert down.status == C.FAIL and "cooling down" in down.message
    assert C.ollama_site_check("b", conn("ollama", provider_registered=False), True).status == C.SKIP
