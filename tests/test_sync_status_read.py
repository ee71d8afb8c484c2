"""`sync status` of a site, read from a canned bridge status (an injected transport, no WordPress): the three-way
comparison's rows, with the rollback evidence read from the change log only for the providers whose status calls for
it, the same for one site (status_site) as for a fleet's site (the local keys resolved once: LocalKeys)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from aimo_cli.context import AppContext, Dependencies
from aimo_cli.core.secrets import fingerprint
from aimo_cli.core.sync import BaseRecord
from aimo_cli.services import rollback, sync
from aimo_cli.stores.secrets import MemoryBackend
from aimo_cli.stores.settings import SiteConfig
from aimo_cli.stores.state import SyncState

from .fleetstub import STATUS
from .secrets_registry import make_key

URL = "http://127.0.0.1:9"
SITE = SiteConfig(name="blog", url=URL, user="admin", rest_root=URL + "/wp-json/")


def _connector(pid: str, key: str = "") -> dict:
    return {"id": pid, "provider_registered": True, "fingerprint": fingerprint(key) if key else "", "mask_tail": key[-4:], "key_source": "database" if key else "none"}


def _entry(pid: str, new: str, old: str, *, by_aimo: bool, writer: dict | None = None, time: str = "2026-11-29T10:00:00Z") -> dict:
    return {"time": time, "user": "admin", "setting": f"connectors_ai_{pid}_api_key", "action": "set", "fingerprint": fingerprint(new),
            "previous_fingerprint": fingerprint(old) if old else "", "via": "rest", "by_aimo": by_aimo, "writer": writer}


def _ctx(document: dict) -> AppContext:
    MemoryBackend._data["site/blog"] = "abcd efgh ijkl mnop qrst uvwx"
    return AppContext(deps=Dependencies(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=document))))


@pytest.fixture
def rolled_back():
    """openai: aimo replaced `old` with `new`, then AI Engine put `old` back (a rollback); groq: in sync; anthropic: the
    site holds a key aimo never saw; the others: empty on both sides."""
    old, new, groq, other = make_key("sk-old"), make_key("sk-new"), make_key("gsk_sync"), make_key("sk-ant-other")
    MemoryBackend._data["provider/openai"] = new
    MemoryBackend._data["provider/groq"] = groq
    document = {
        **STATUS,
        "connectors": [_connector("openai", old), _connector("groq", groq), _connector("anthropic", other)]
        + [c for c in STATUS["connectors"] if c["id"] not in ("openai", "groq", "anthropic")],
        "change_log": [
            _entry("openai", new, old, by_aimo=True),
            _entry("openai", old, new, by_aimo=False, writer={"kind": "plugin", "name": "AI Engine", "version": "3.6.2"}, time="2026-11-29T11:00:00Z"),
        ],
    }
    SyncState(AppContext().state_dir).record("blog", {"openai": BaseRecord.of(new), "groq": BaseRecord.of(groq)})
    return document


def _rows(result) -> dict:
    return {r.provider: (r.status, r.action, r.reason, r.outcome) for r in result.results}


def test_a_rolled_back_key_is_named_with_its_writer_for_one_site_and_a_fleets_site(rolled_back):
    ctx = _ctx(rolled_back)
    one = _rows(sync.status_site(ctx, SITE))
    fleet = _rows(sync.status_site(ctx, SITE, local=sync.LocalKeys(ctx)))
    assert one == fleet
    status, _, reason, outcome = one["openai"]
    assert "rollback" in reason and "AI Engine 3.6.2" in reason and "aimo sync push blog --prefer local" in reason and "newer" not in reason
    assert one["groq"][0] == "in sync" and "rollback" not in one["groq"][2]
    assert "rollback" not in one["anthropic"][2]


def test_the_change_log_is_read_for_rollbacks_only_when_a_status_calls_for_it(rolled_back, monkeypatch):
    calls = []
    real = rollback.find_rollbacks
    monkeypatch.setattr(sync, "rollbacks_of", lambda *a, **k: calls.append(1) or rollback.rollbacks_of(*a, **k))
    monkeypatch.setattr(rollback, "find_rollbacks", lambda *a, **k: real(*a, **k))
    ctx = _ctx(rolled_back)
    rows = _rows(sync.status_site(ctx, SITE, local=sync.LocalKeys(ctx)))
    assert "rollback" in rows["openai"][2] and calls == [1]  # once for the site, whatever the number of providers
    calls.clear()
    in_sync = {**rolled_back, "connectors": [_connector("groq", MemoryBackend._data["provider/groq"])], "change_log": rolled_back["change_log"]}
    rows = _rows(sync.status_site(_ctx(in_sync), SITE, local=sync.LocalKeys(ctx)))
    assert rows["groq"][0] == "in sync" and calls == []  # nothing on the site changed: no rollback to look for


# -- a fleet's site with a real bridge status: the change log is built only as far as a provider's status reads it ------

REAL = json.loads((Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "bridge-status.json").read_text())


def _real_status(remote: dict[str, str]) -> dict:
    """The captured status of a managed site (50 change-log entries), its connectors holding `remote` (id -> key)."""
    document = json.loads(json.dumps(REAL))
    for c in document["connectors"]:
        if c["id"] in remote:
            c.update(key_source="database", fingerprint=fingerprint(remote[c["id"]]), mask_tail=remote[c["id"]][-4:])
    return document


@pytest.fixture(params=["plain", "compiled"])
def built(request, monkeypatch):
    """The objects the bridge parse builds of the classes it reads late (change-log entries; a connector's registrant,
    served_by, page and Ollama host), counted each time one is built, whichever way the process parses."""
    from aimo_cli.wordpress import bridge as B

    late = (B.ChangeLogEntry, B.PluginRef, B.ServedBy, B.PageState, B.OllamaHost)
    count: list = []
    monkeypatch.setattr(B, "_SEEN", {})
    monkeypatch.setattr(B, "_SIZES", {})
    if request.param == "plain":  # every object through the plain parse
        monkeypatch.setattr(B, "_PARSERS", {})
        monkeypatch.setattr(B, "COMPILE_AFTER", 10**9)
        plain = B._slow_parse
        monkeypatch.setattr(B, "_slow_parse", lambda cls, raw: (count.append(cls) if cls in late else None) or plain(cls, raw))
    else:  # every class compiled at once

        def counted(cls):
            compiled = B._straight(cls)
            return lambda raw: count.append(cls) or compiled(raw)

        monkeypatch.setattr(B, "COMPILE_AFTER", 0)
        monkeypatch.setattr(B, "_PARSERS", {cls: counted(cls) for cls in late})
    return count


def _eagerly(monkeypatch) -> None:
    """Every status's change log read as soon as it is parsed: what aimo did before it was read late."""
    from aimo_cli.wordpress import bridge as B

    check = B.BridgeStatus.check_compatible
    monkeypatch.setattr(B.BridgeStatus, "check_compatible", lambda self, site="the site": (self.change_log, check(self, site))[1])


def test_a_fleet_site_in_sync_builds_no_change_log_entry(built, monkeypatch):
    from aimo_cli.wordpress import bridge as B

    keys = {pid: make_key(f"sk-{pid}") for pid in ("openai", "anthropic", "groq")}
    for pid, key in keys.items():
        MemoryBackend._data[f"provider/{pid}"] = key
    SyncState(AppContext().state_dir).record("blog", {pid: BaseRecord.of(key) for pid, key in keys.items()})
    assert len(REAL["change_log"]) == 50 and sum(1 for e in REAL["change_log"] if e["setting"] == "connectors_ai_groq_api_key") > 1

    def rows(remote: dict[str, str]) -> dict:
        ctx = _ctx(_real_status(remote))
        return _rows(sync.status_site(ctx, SITE, local=sync.LocalKeys(ctx)))

    in_sync = rows(keys)
    assert {in_sync[pid][0] for pid in keys} == {"in sync"} and built == []  # not one entry built, nor a connector's parts
    no_groq = rows({pid: key for pid, key in keys.items() if pid != "groq"})
    assert no_groq["groq"][0] == "remote empty" and "(on the site: " in no_groq["groq"][2]
    assert built == [B.ChangeLogEntry]  # the one entry read: the newest of the one provider whose status reads it
    built.clear()
    other = rows({**keys, "openai": make_key("sk-other")})
    assert other["openai"][0] == "remote changed" and built == [B.ChangeLogEntry] * 50  # rollbacks: the whole log, as before
    built.clear()
    assert B.parse_status(REAL).connector("openai").served_by.label and len(built) == 1  # (the count sees a connector's parts)
    _eagerly(monkeypatch)  # the same rows when every log is read at once
    assert (rows(keys), rows({pid: key for pid, key in keys.items() if pid != "groq"}), rows({**keys, "openai": make_key("sk-other")})) == (in_sync, no_groq, other)
