"""The fleet benchmark's realistic stub (benchmarks/fleet.py --status real): every stub site answers its own copy of a
real bridge's status document (benchmarks/data/bridge-status.json, captured from the test site). The document must stay
what the bridge's contract says a status is, or the benchmark would measure a parse of something no site sends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from aimo_cli.core.providers import PROVIDER_IDS
from aimo_cli.core.secrets import fingerprint
from aimo_cli.wordpress import bridge as B

from .fleetstub import STATUS, StubSites
from .schemacheck import errors

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "aimo_cli" / "bridge" / "aimo-bridge" / "contract" / "status.schema.json").read_text())
sys.path.insert(0, str(REPO / "benchmarks"))
import fleet as bench  # noqa: E402


def test_the_captured_document_is_a_valid_status_of_a_managed_site():
    raw = json.loads(bench.DOCUMENT.read_text())
    assert not errors(raw, SCHEMA["$defs"]["status"], SCHEMA)
    status = B.parse_status(raw)
    assert status.mode == "managed" and status.bridge_version and len(status.connectors) >= len(PROVIDER_IDS)
    assert len(raw["change_log"]) >= 20, "a site aimo has been managing has a change log"
    assert not any(c["fingerprint"] or c["mask_tail"] for c in raw["connectors"]), "keys are the benchmark's to fill"


def test_each_site_gets_its_own_valid_document_mostly_in_sync_with_the_local_keys():
    keys = {p: f"bench-{p}-key-0123456789" for p in bench.keyed()}
    document = bench.real_documents(keys)
    docs = [document(i) for i in range(200)]
    for doc in docs[:20]:
        assert not errors(doc, SCHEMA["$defs"]["status"], SCHEMA)
    states = {"in sync": 0, "other": 0, "none": 0}
    for doc in docs:
        for c in doc["connectors"]:
            if c["id"] not in keys:
                continue
            if not c["fingerprint"]:
                states["none"] += 1
            elif c["fingerprint"] == fingerprint(keys[c["id"]]):
                states["in sync"] += 1
            else:
                states["other"] += 1
    total = sum(states.values())
    assert states["in sync"] > 0.8 * total and states["other"] > 0 and states["none"] > 0, states
    assert len({json.dumps(d) for d in docs}) == len(docs), "every site answers its own document"


def test_stub_sites_answer_each_their_own_document():
    def document(i: int) -> dict:
        return {**STATUS, "home": f"site-{i}"}

    with StubSites(hosts=3, documents=document) as stub:
        got = [httpx.get(f"{origin}/wp-json/aimo/v1/status").json()["home"] for origin in stub.origins]
        assert got == ["site-0", "site-1", "site-2"]
        assert httpx.get(f"{stub.url}/wp-json/aimo/v1/status").json() == STATUS  # the first origin: the default document
        assert httpx.post(f"{stub.origins[0]}/wp-json/aimo/v1/status").status_code == 405
