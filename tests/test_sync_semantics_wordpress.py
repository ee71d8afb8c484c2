"""Issue 15 items 1, 2, 3 (clear), 4, 5, 6 (pull) and 9 against the real WordPress site, the real bridge and the
providers' loopback fake: first contact, key sources, deliberate removal, causes and exit codes, observe mode, audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.core.secrets import fingerprint
from aimo_cli.errors import ExitCode

from .clihelper import run_cli
from .secrets_registry import make_key

pytestmark = pytest.mark.wordpress


@pytest.fixture
def site(cli_site):
    return cli_site


# is_admin() is true on a wp-admin screen: the bridge's change log then records the channel "admin"
ADMIN_SCREEN = (
    "require_once ABSPATH . 'wp-admin/includes/class-wp-screen.php'; require_once ABSPATH . 'wp-admin/includes/screen.php';"
    "set_current_screen('options-general');"
)


def groq(r) -> dict:
    return {p["provider"]: p for p in json.loads(r.out)["sites"][0]["providers"]}["groq"]


def option(site) -> str:
    return site.option("connectors_ai_groq_api_key", "")


def set_local(key: str) -> None:
    r = run_cli(["keys", "set", "groq", "--stdin"], stdin=key)
    assert r.code == 0, r.err


# -- 1. first contact ---------------------------------------------------------------------------------------------


def test_first_contact_push_is_a_conflict_and_prefer_local_needs_yes(site):
    site.managed()
    theirs, ours = site.fake.make_valid_key("groq"), site.fake.make_valid_key("groq")
    site.store_key("groq", theirs)  # the client site already had a key when the agency took it over
    set_local(ours)
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--json"])
    assert r.code == ExitCode.DRIFT, r.text
    g = groq(r)
    assert g["outcome"] == "conflict" and "first contact" in g["reason"]
    assert f"local {fingerprint(ours)} from the store (memory)" in g["reason"] and f"site {fingerprint(theirs)} from the site's database" in g["reason"]
    assert option(site) == theirs
    status = run_cli(["sync", "status", "local", "--provider", "groq", "--json"])
    assert status.code == ExitCode.DRIFT and "first contact" in groq(status)["reason"]

    r = run_cli(["sync", "push", "local", "--provider", "groq", "--prefer", "local", "--json"])  # a script, no --yes
    assert r.code == ExitCode.REFUSED and groq(r)["outcome"] == "refused" and "--yes" in groq(r)["reason"]
    assert option(site) == theirs
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--prefer", "local", "--yes", "--json"])
    assert r.code == 0, r.text
    assert option(site) == ours


def test_connectors_enable_never_overwrites_at_first_contact_and_offers_adoption(site):
    theirs, ours = site.fake.make_valid_key("groq"), site.fake.make_valid_key("openai")
    site.store_key("groq", theirs)
    site.store_key("openai", make_key("sk"))  # differs from ours: first contact
    run_cli(["keys", "set", "openai", "--stdin"], stdin=ours)
    r = run_cli(["connectors", "enable", "local", "--json"])
    assert r.code == ExitCode.DRIFT, r.text
    assert option(site) == theirs and site.option("connectors_ai_openai_api_key", "") != ours
    assert "holds keys for groq that aimo has none for" in r.err and "--adopt" in r.err
    r = run_cli(["connectors", "enable", "local", "--adopt"])
    assert "adopt: local" in r.out and "pulled" in r.out
    listed = {row["provider"]: row for row in json.loads(run_cli(["keys", "list", "--json"]).out)["keys"]}
    assert listed["groq"]["fingerprint"] == fingerprint(theirs)


# -- 2. sources ----------------------------------------------------------------------------------------------------


def test_a_key_from_the_environment_is_never_pushed_without_from_env(site, monkeypatch):
    site.managed()
    stored, env = site.fake.make_valid_key("groq"), site.fake.make_valid_key("groq")
    set_local(stored)
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--json"])
    assert r.code == 0 and "from the store (memory)" in groq(r)["reason"]
    monkeypatch.setenv("GROQ_API_KEY", env)
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--json"])
    assert r.code == ExitCode.REFUSED
    assert groq(r)["outcome"] == "refused" and "$GROQ_API_KEY" in groq(r)["reason"] and "--from-env" in groq(r)["reason"]
    assert option(site) == stored
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--from-env", "--json"])
    assert r.code == 0, r.text
    assert groq(r)["outcome"] == "stored" and groq(r)["source"] == "$GROQ_API_KEY" and "from $GROQ_API_KEY" in groq(r)["reason"]
    assert option(site) == env


# -- 4. causes and exit codes ----------------------------------------------------------------------------------------


def test_site_side_timeout_is_a_remote_problem_exit_5_naming_url_and_timeout(site):
    site.managed()
    key = site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=key).code == 0
    site.fake.delay("groq", 7)  # longer than WordPress's 5 s validation timeout
    try:
        r = run_cli(["sync", "push", "local", "--provider", "groq", "--no-verify", "--json"])
    finally:
        site.fake.delay("groq", 0)
    assert r.code == ExitCode.REMOTE, r.text
    g = groq(r)
    assert g["outcome"] == "unreachable" and "could not reach Groq at " + site.fake.base_url("groq") in g["reason"]
    assert "timed out after" in g["reason"] and "not a bad key" in g["reason"] and "refused" not in g["reason"].split(":")[0]
    assert option(site) == ""


def test_blocked_or_closed_provider_url_is_exit_5_and_a_refused_key_is_exit_4(site):
    site.managed()
    good, bad = site.fake.make_valid_key("groq"), make_key("gsk")
    set_local(good)
    site.set_options(aimo_provider_base_urls={"groq": "http://127.0.0.1:9/groq/v1"})  # nothing listens there
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--json"])
    assert r.code == ExitCode.REMOTE and groq(r)["outcome"] == "unreachable" and "127.0.0.1:9" in groq(r)["reason"]
    site.point_at_fake()
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=bad)
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--no-verify", "--json"])
    assert r.code == ExitCode.AUTH and groq(r)["outcome"] == "rejected" and "Groq refused the key" in groq(r)["reason"]


# -- 5. observe mode -------------------------------------------------------------------------------------------------


def test_observe_mode_refuses_every_write_with_exit_6_and_the_enable_hint(site):
    assert site.status()["mode"] == "observe"
    set_local(site.fake.make_valid_key("groq"))
    r = run_cli(["sync", "push", "local"])
    assert r.code == ExitCode.REFUSED and "the aimo bridge is in observe mode" in r.text and "aimo connectors enable local" in r.err
    r = run_cli(["keys", "rotate", "groq", "local", "--stdin"], stdin=site.fake.make_valid_key("groq"))
    assert r.code == ExitCode.REFUSED and "observe mode" in r.text
    r = run_cli(["connectors", "clear", "groq", "local", "--yes"])
    assert r.code == ExitCode.REFUSED
    assert option(site) == ""
    r = run_cli(["sync", "status", "local"])
    assert "observe mode: aimo only reports here; aimo connectors enable local" in r.err
    r = run_cli(["connectors", "list", "local", "--no-check"])
    assert "local: mode observe" in r.out and "is in observe mode: aimo only reports here and writes no key" in r.err
    r = run_cli(["doctor", "--site", "local", "--offline", "--json"])
    groq_sync = next(c for c in json.loads(r.out)["checks"] if c["id"] == "connector.groq.sync" and c["site"] == "local")
    assert "the site is in observe mode (aimo only reports" in groq_sync["message"]
    assert groq_sync["hint"] == "aimo connectors enable local"
    assert not [c for c in json.loads(r.out)["checks"] if "aimo sync push" in (c.get("hint") or "")]  # never back to the push


# -- 3. deliberate removal -------------------------------------------------------------------------------------------


def test_connectors_clear_is_the_deliberate_logged_way_to_empty_a_site(site):
    site.managed()
    key = site.fake.make_valid_key("groq")
    set_local(key)
    assert run_cli(["sync", "push", "local", "--provider", "groq"]).code == 0
    r = run_cli(["connectors", "clear", "groq", "local"])
    assert r.code == ExitCode.REFUSED and "--yes" in r.err and option(site) == key
    assert run_cli(["connectors", "clear", "groq"]).code == ExitCode.USAGE  # no site named: never "every site" by default
    r = run_cli(["connectors", "clear", "groq", "local", "--yes", "--json"])
    assert r.code == 0, r.text
    assert groq(r)["outcome"] == "cleared"
    assert site.option("connectors_ai_groq_api_key", None) is None
    entry = [e for e in site.status()["change_log"] if e["setting"] == "connectors_ai_groq_api_key"][-1]
    assert entry["action"] == "deleted" and entry["by_aimo"] is True and entry["previous_fingerprint"] == fingerprint(key)
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--json"])  # a later push does not put it back unasked
    assert r.code == 0 and groq(r)["status"] == "cleared on purpose" and site.option("connectors_ai_groq_api_key", None) is None
    r = run_cli(["sync", "push", "local", "--provider", "groq", "--prefer", "local", "--json"])
    assert r.code == 0 and option(site) == key
    audit = (Path(os.environ["XDG_STATE_HOME"]) / "aimo" / "audit.jsonl").read_text()
    assert '"action": "clear"' in audit and key not in audit


def test_clear_route_refuses_outside_managed_mode(site):
    site.store_key("groq", site.fake.make_valid_key("groq"))
    r = site.api("POST", "/aimo/v1/credentials/clear", {"providers": ["groq"]})
    assert r.status_code == 200 and r.json()["results"]["groq"]["status"] == "refused"
    assert option(site) != ""


# -- 6. pull does not keep a bad first line in the pool ------------------------------------------------------------------


def test_pull_replaces_the_first_line_and_keeps_the_old_one_as_previous(site):
    site.managed()
    old, newer = site.fake.make_valid_key("groq"), site.fake.make_valid_key("groq")
    set_local(old)
    assert run_cli(["sync", "push", "local", "--provider", "groq"]).code == 0
    site.store_key("groq", newer)  # changed on the site
    r = run_cli(["sync", "pull", "local", "--provider", "groq"])
    assert r.code == 0, r.text
    row = {x["provider"]: x for x in json.loads(run_cli(["keys", "list", "--json"]).out)["keys"]}["groq"]
    assert row["pool_size"] == 1 and row["fingerprint"] == fingerprint(newer)
    prev = json.loads(run_cli(["keys", "previous", "groq", "--json"]).out)["previous"]
    assert [p["fingerprint"] for p in prev] == [fingerprint(old)] and prev[0]["reason"] == "replaced by aimo sync pull"


# -- 9. audit trail --------------------------------------------------------------------------------------------------


def test_log_merges_the_sites_change_log_with_aimos_own_writes_and_status_attributes_changes(site):
    site.managed()
    ours, theirs = site.fake.make_valid_key("groq"), site.fake.make_valid_key("groq")
    set_local(ours)
    assert run_cli(["sync", "push", "local", "--provider", "groq"]).code == 0
    # an admin edits the key on a wp-admin screen
    site.php(ADMIN_SCREEN + "update_option('connectors_ai_groq_api_key', $args[0]);", theirs)
    r = run_cli(["log", "local", "--provider", "groq", "--json"])
    assert r.code == 0, r.text
    events = json.loads(r.out)["events"]
    mine = [e for e in events if e["origin"] == "aimo (local log)"]
    assert mine and mine[-1]["action"] == "push" and mine[-1]["new_fingerprint"] == fingerprint(ours) and mine[-1]["result"] == "stored"
    remote = [e for e in events if e["origin"] == "site"]
    assert remote[-1]["channel"] == "admin" and remote[-1]["user"] == site.wp.admin_user and remote[-1]["by_aimo"] is False
    assert remote[-1]["new_fingerprint"] == fingerprint(theirs) and any(e["by_aimo"] for e in remote)
    table = run_cli(["log", "local", "--provider", "groq"])
    assert f"in wp-admin by {site.wp.admin_user}" in table.out and ours not in table.text and theirs not in table.text
    status = run_cli(["sync", "status", "local", "--provider", "groq", "--json"])
    assert f"changed in wp-admin by {site.wp.admin_user}, " in groq(status)["reason"] and " ago" in groq(status)["reason"]
    doctor = run_cli(["doctor", "--site", "local", "--offline"])
    assert f"changed in wp-admin by {site.wp.admin_user}" in doctor.text
    bridge_status = run_cli(["bridge", "status", "local"])
    row = next(line for line in bridge_status.out.splitlines() if line.startswith("groq "))
    assert "CHECKED" in bridge_status.out and " ago (20" in row  # when the connected state was last checked
    audit = (Path(os.environ["XDG_STATE_HOME"]) / "aimo" / "audit.jsonl").read_text()
    assert ours not in audit and theirs not in audit
    assert run_cli(["log", "--local", "--json"]).code == 0
