"""The bridge contract: one JSON Schema (aimo_cli/bridge/aimo-bridge/contract/status.schema.json) that the real
bridge's answers and aimo's typed parser (aimo_cli/wordpress/bridge.py) are both checked against."""

from __future__ import annotations

import ast
import json
from dataclasses import fields
from pathlib import Path

import pytest

from aimo_cli.core.exits import ExitCode
from aimo_cli.wordpress import bridge as B

from .schemacheck import errors

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "aimo_cli" / "bridge" / "aimo-bridge" / "contract" / "status.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())

# schema $defs → the dataclass that parses it
TYPED = {
    "status": B.BridgeStatus,
    "connector": B.Connector,
    "manager": B.Manager,
    "approval": B.Approval,
    "models": B.ModelPrefs,
    "change_log_entry": B.ChangeLogEntry,
    "mode_change": B.ModeChange,
    "credential_result": B.CredentialResult,
    "clear_result": B.ClearResult,
    "plugin_ref": B.PluginRef,
    "served_by": B.ServedBy,
    "page_state": B.PageState,
    "ollama_host": B.OllamaHost,
    "writer": B.Writer,
    "current_user": B.CurrentUser,
}


def _contract_fields(cls) -> set[str]:
    return {B.json_name(f) for f in fields(cls) if "conv" in f.metadata}


def _def(name: str) -> dict:
    return {**SCHEMA["$defs"][name], "$defs": SCHEMA["$defs"]}


def _valid(value, name: str) -> None:
    problems = errors(value, SCHEMA["$defs"][name], SCHEMA)
    assert not problems, f"the bridge's answer breaks the contract ({name}):\n" + "\n".join(problems)


# -- the schema and the parser agree ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TYPED))
def test_schema_and_parser_name_the_same_fields(name):
    """Drift test: a field added to one side only (the schema or the dataclass) fails here."""
    assert set(SCHEMA["$defs"][name]["properties"]) == _contract_fields(TYPED[name])


def test_every_schema_object_is_parsed_or_is_a_wrapper():
    assert set(SCHEMA["$defs"]) - set(TYPED) == {"credentials_answer", "clear_answer"}  # {results: {id: credential_result | clear_result}}
    assert SCHEMA["$ref"] == "#/$defs/status"


def test_schema_stays_open_to_extension():
    """No object forbids unknown properties: a newer bridge may add fields an older aimo ignores."""
    text = SCHEMA_PATH.read_text()
    assert '"additionalProperties": false' not in text
    assert "To ADD A FIELD" in SCHEMA["description"]


def _sample_status() -> dict:
    conn = {
        "id": "groq", "name": "Groq via aimo", "type": "ai_provider", "registered_by": "aimo", "manager": None, "provider_registered": True,
        "setting_name": "connectors_ai_groq_api_key", "key_source": "database", "fingerprint": "abc123", "mask_tail": "wxyz",
        "connected": True, "connected_reason": "", "checked_at": "2026-11-24T10:00:00Z", "unreachable_since": None, "base_url": None, "base_url_source": "default",
        "registrant": {"kind": "aimo", "file": "aimo-bridge/aimo-bridge.php", "name": "aimo bridge", "version": "0.1.0", "label": "aimo bridge 0.1.0"},
        "served_by": {"class": "Aimo_Bridge_Provider_Groq", "kind": "aimo", "plugin": "aimo-bridge/aimo-bridge.php", "name": "aimo bridge",
                      "version": "0.1.0", "gateway": False, "label": "aimo bridge 0.1.0"},
        "page": {"visible": True, "connected": True, "name": "Groq via aimo"}, "ollama_host": None,
    }
    return {
        "bridge_version": B.BRIDGE_COMPAT + ".7", "wordpress_version": "7.1.4", "php_version": "8.2.29", "mode": "managed", "ai_supported": True,
        "environment_type": "local", "https": False, "home": "http://127.0.0.1:8891", "site_id": "0b7c1e2a-4f5d-4c3b-9a8e-1d2c3b4a5f6e",
        "wpai_active": False, "connectors": [conn],
        "managers": [{"name": "AI Engine", "slug": "ai-engine", "file": "ai-engine/ai-engine.php", "version": "3.6.2", "mode": "managed", "active": True,
                      "managing": True, "state": "managed", "source": "plugin", "connectors": [], "serves": ["openai"]}],
        "approval": {"active": True, "approved": {"ai/ai.php": ["groq"]}}, "models": {"text": "groq:llama", "image": ""},
        "no_sampling_prefixes": ["claude-opus-4-1"], "change_log": [
            {"time": "2026-11-24T10:00:00Z", "user": "admin", "setting": "connectors_ai_groq_api_key", "action": "set", "fingerprint": "abc123",
             "previous_fingerprint": "", "refused_fingerprint": "", "via": "rest", "by_aimo": True, "app_password": "aimo",
             "writer": {"kind": "aimo", "plugin": "aimo-bridge/aimo-bridge.php", "name": "aimo bridge", "version": "0.1.0"}}
        ],
        "current_user": {"id": 1, "slug": "admin", "roles": ["administrator"], "manage_options": True},
    }


def test_the_sample_is_valid_and_parses_without_loss():
    raw = _sample_status()
    _valid(raw, "status")
    status = B.parse_status(raw)
    assert status.as_dict() == raw
    assert status.extra == {} and status.connectors[0].extra == {}


def test_unknown_fields_are_kept_and_given_back():
    raw = _sample_status()
    raw["unreachable_since"] = {"ollama": "2026-11-24T09:00:00Z"}
    raw["connectors"][0]["served_since"] = "2026-11-24T09:00:00Z"
    status = B.parse_status(raw)
    assert status.extra == {"unreachable_since": {"ollama": "2026-11-24T09:00:00Z"}}
    assert status.connector("groq").extra == {"served_since": "2026-11-24T09:00:00Z"}
    assert status.as_dict() == raw
    assert not errors(raw, SCHEMA)  # the schema accepts them too


def test_wrong_types_get_defaults_and_bad_entries_are_skipped():
    raw = _sample_status()
    raw.update(https="yes", managers="none", mode=3, approval=[], no_sampling_prefixes="x")
    raw["connectors"] = ["junk", {"id": "groq", "connected": "maybe", "provider_registered": 1}, None]
    status = B.parse_status(raw)
    assert (status.https, status.managers, status.mode, status.approval, status.no_sampling_prefixes) == (False, (), "3", B.Approval(), None)
    assert [c.id for c in status.connectors] == ["groq"]
    assert (status.connector("groq").connected, status.connector("groq").provider_registered) == (None, True)
    assert B.parse_status({}) == B.BridgeStatus()
    with pytest.raises(B.RemoteError):
        B.parse_status(["not", "an", "object"])


def test_active_competitor_is_a_property_of_the_status():
    raw = _sample_status()
    assert B.parse_status(raw).active_competitor.name == "AI Engine"
    raw["managers"][0].update(active=False, managing=False, state="installed, inactive")
    assert B.parse_status(raw).active_competitor is None
    raw["managers"][0].update(active=True, mode="observe", managing=False, state="observe")
    assert B.parse_status(raw).active_competitor is None
    # the bridge's `managing` decides; an older bridge without it: active and in managed mode
    raw["managers"][0].update(mode="managed", managing=False)
    assert B.parse_status(raw).active_competitor is None
    del raw["managers"][0]["managing"]
    assert B.parse_status(raw).active_competitor.name == "AI Engine"


@pytest.mark.parametrize("version, ok", [(B.BRIDGE_COMPAT + ".0", True), (B.BRIDGE_COMPAT + ".99", True), ("", None), ("9.0.0", False), ("0.0.1", False)])
def test_version_check(version, ok):
    status = B.parse_status({**_sample_status(), "bridge_version": version})
    assert status.compatible is ok
    if ok is False:
        with pytest.raises(B.BridgeIncompatible) as exc:
            status.check_compatible("blog")
        assert exc.value.code == ExitCode.CONFIG and version in exc.value.message and "blog" in exc.value.message
        assert ("Upgrade aimo" in exc.value.hint) == version.startswith("9")
    else:
        assert status.check_compatible("blog") is status


def test_the_checker_sees_a_broken_answer():
    raw = _sample_status()
    del raw["mode"]
    raw["connectors"][0]["connected"] = "yes"
    raw["change_log"][0]["action"] = "renamed"
    found = errors(raw, SCHEMA)
    assert any("missing required 'mode'" in e for e in found)
    assert any("connectors[0].connected" in e for e in found)
    assert any("change_log[0].action" in e for e in found)


# -- nothing outside the bridge client reads raw bridge JSON ---------------------------------------------------------------

# Keys that only the bridge's answers use: reading one with .get("…") or ["…"] outside wordpress/bridge.py means
# someone parses bridge JSON by hand again.
_BRIDGE_ONLY_KEYS = {
    "bridge_version", "ai_supported", "wpai_active", "change_log", "managers", "approval", "approved",
    "provider_registered", "registered_by", "key_source", "mask_tail", "connected_reason", "connectors", "demoted", "replaced",
}


def _raw_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            key = node.args[0]
        elif isinstance(node, ast.Subscript):
            key = node.slice
        if isinstance(key, ast.Constant) and key.value in _BRIDGE_ONLY_KEYS:
            found.append((node.lineno, key.value))
    return found


def test_no_module_outside_the_bridge_client_reads_raw_bridge_json():
    offenders = []
    for path in sorted((REPO / "aimo_cli").rglob("*.py")):
        if path.relative_to(REPO).as_posix() == "aimo_cli/wordpress/bridge.py":
            continue
        for line, key in _raw_reads(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {key!r}")
    assert not offenders, "read the bridge through wordpress/bridge.py's typed objects:\n" + "\n".join(offenders)


def test_the_raw_read_scan_sees_a_planted_violation():
    planted = 'def f(status):\n    return status.get("managers") or status["connectors"]\n'
    assert sorted(_raw_reads(ast.parse(planted))) == [(2, "connectors"), (2, "managers")]


# -- real answers of the test site ---------------------------------------------------------------------------------------

wordpress = pytest.mark.wordpress


def _checked(raw: dict):
    """The raw answer valid against the schema, and parsed without loss."""
    _valid(raw, "status")
    status = B.parse_status(raw)
    parsed = status.as_dict()
    # change log entries written by an older bridge lack newer fields (app_password): the parser fills defaults
    for got, sent in zip(parsed.pop("change_log"), raw["change_log"]):
        assert sent.items() <= got.items(), "the parser lost or changed a field of a change log entry"
    assert parsed == {k: v for k, v in raw.items() if k != "change_log"}, "the parser lost or changed a field of the real answer"
    assert status.extra == {} and all(c.extra == {} for c in status.connectors), "a field the bridge sends is missing from the dataclasses"
    assert all(m.extra == {} for m in status.managers) and all(e.extra == {} for e in status.change_log)
    assert status.compatible is True
    return status


@wordpress
def test_real_status_answers_match_the_contract(bridge, peers):
    """Every part of the status populated, then each raw answer checked against the schema and parsed without loss:
    aimo managing (a key, a live check, the real WordPress AI's Connector Approval, a change log, registrant, serving
    class, the page's state), then the real AI Engine switched to managed by its banner (a competitor: aimo's
    connectors step aside)."""
    bridge.managed()
    key = bridge.fake.make_valid_key("groq")
    with bridge.client() as client:
        assert B.put_credentials(client, {"groq": key})["groq"].status == "stored"
    peers.activate("wpai")
    bridge.set_options(wpai_features_enabled="1", **{"wpai_feature_connector-approval_enabled": "1"})
    for check in (False, True):
        status = _checked(bridge.status(check=check))
    groq = status.connector("groq")
    assert groq.connected is True and groq.checked_at
    assert groq.registrant is not None and groq.registrant.kind == "aimo" and groq.served_by is not None and groq.served_by.kind == "aimo"
    assert groq.page is not None and groq.page.visible and groq.page.connected
    assert status.approval.active and "groq" in status.approval.approved.get("ai/ai.php", ())
    assert status.change_log and status.change_log[-1].by_aimo is True and status.change_log[-1].writer is not None
    assert status.active_competitor is None
    # the doctor's login check: what users/me?context=edit says of the same user
    with bridge.client() as client:
        real = client.get("/wp/v2/users/me", {"context": "edit"})
    assert status.current_user is not None and status.current_user.slug == bridge.wp.admin_user
    assert status.current_user.as_me() == {"id": real["id"], "slug": real["slug"], "roles": real["roles"], "capabilities": {"manage_options": True}}
    assert real["capabilities"]["manage_options"] is True

    peers.ai_engine_managed()
    status = _checked(bridge.status(check=True))
    engine = status.active_competitor
    assert engine is not None and engine.name == "AI Engine" and engine.is_managing
    assert engine.version == "3.6.2" and engine.file == "ai-engine/ai-engine.php" and engine.state == "managed"


@wordpress
def test_real_write_answers_match_the_contract(bridge):
    bridge.point_at_fake()
    r = bridge.api("POST", "/aimo/v1/mode", {"mode": "managed"})
    assert r.status_code == 200, r.text
    _valid(r.json(), "mode_change")
    assert B._parse(B.ModeChange, r.json()).as_dict() == r.json()
    good, bad = bridge.fake.make_valid_key("groq"), "gsk_not_a_valid_key_0000000000"
    r = bridge.api("POST", "/aimo/v1/credentials", {"groq": good, "openai": bad})
    assert r.status_code == 200, r.text
    _valid(r.json(), "credentials_answer")
    assert {pid: res["status"] for pid, res in r.json()["results"].items()} == {"groq": "stored", "openai": "rejected"}
    for res in r.json()["results"].values():  # every field the bridge sends has a home in CredentialResult
        parsed = B._parse(B.CredentialResult, res)
        assert parsed.extra == {} and {k: v for k, v in parsed.as_dict().items() if k in res} == res
    with bridge.client() as client:
        again = B.put_credentials(client, {"groq": good})
        assert again["groq"].status == "unchanged" and again["groq"].extra == {} and again["groq"].fingerprint
        cleared = B.clear_credentials(client, ["groq", "openai"])
        assert {pid: c.status for pid, c in cleared.items()} == {"groq": "cleared", "openai": "absent"}
        assert cleared["groq"].previous_fingerprint == again["groq"].fingerprint and cleared["groq"].extra == {}
    r = bridge.api("POST", "/aimo/v1/credentials/clear", {"providers": ["groq"]})
    assert r.status_code == 200, r.text
    _valid(r.json(), "clear_answer")
    assert B._parse(B.ClearResult, r.json()["results"]["groq"]).as_dict() == r.json()["results"]["groq"]
    with bridge.client() as client:
        prefs = B.set_models(client, image="")
    _valid(prefs.as_dict(), "models")
    r = bridge.api("POST", "/aimo/v1/models", {"text": ""})
    _valid(r.json(), "models")
