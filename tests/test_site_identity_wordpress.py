"""Issue 15 item 7 against the real WordPress site: replacing a profile is explicit, removing one asks, and two
profiles for one WordPress (told apart by the home URL WordPress reports and the bridge's site id) are written once."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from aimo_cli.core.secrets import fingerprint
from aimo_cli.errors import ExitCode

from .clihelper import run_cli

pytestmark = pytest.mark.wordpress


def _cfg() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def _add(bridge, name: str, url: str | None = None, *extra: str):
    return run_cli(["site", "add", name, url or bridge.url, "--user", bridge.wp.admin_user, "--stdin", *extra], stdin=bridge.wp.admin_app_password)


def test_site_add_over_an_existing_name_needs_force_and_says_what_it_replaced(bridge):
    assert _add(bridge, "local", None, "--group", "prod").code == 0
    before = _cfg().read_text()
    r = _add(bridge, "local")
    assert r.code == ExitCode.REFUSED
    assert f"a site named local already exists ({bridge.url} as {bridge.wp.admin_user})" in r.err and "--force" in r.err
    assert _cfg().read_text() == before
    r = _add(bridge, "local", None, "--force")
    assert r.code == 0, r.err
    assert f"Replaced site local (was {bridge.url} as {bridge.wp.admin_user}, group prod; same URL: its sync history is kept)" in r.out


def test_site_profile_records_the_identity_wordpress_reports(bridge):
    assert _add(bridge, "local").code == 0
    table = tomllib.loads(_cfg().read_text())["sites"]["local"]
    home = bridge.php("echo home_url();").strip()
    site_id = bridge.php("echo get_option('aimo_bridge_site_id');").strip()
    assert table["home"] == home and len(site_id) == 36 and table["site_id"] == site_id


def test_site_rm_asks_on_a_terminal_and_needs_yes_in_scripts(bridge):
    assert _add(bridge, "local").code == 0
    r = run_cli(["site", "rm", "local"])
    assert r.code == ExitCode.REFUSED and "Pass --yes" in r.err
    assert "local" in tomllib.loads(_cfg().read_text())["sites"]
    assert run_cli(["site", "rm", "local", "--yes"]).code == 0
    assert "local" not in tomllib.loads(_cfg().read_text()).get("sites", {})


def test_two_profiles_of_one_wordpress_are_flagged_and_a_fleet_push_writes_it_once(bridge):
    cfg = _cfg()
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(bridge.fake.settings_toml())
    bridge.point_at_fake()
    bridge.managed()
    assert _add(bridge, "local").code == 0
    other_url = bridge.url.replace("127.0.0.1", "localhost")  # another name for the same WordPress
    r = _add(bridge, "alias", other_url, "--rest-root", other_url + "/wp-json/")
    assert r.code == 0, r.err
    assert "site alias and site local point at the same WordPress; commands that write (sync push/pull, keys rotate, connectors enable/clear) handle it once" in r.err
    key = bridge.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=key).code == 0
    r = run_cli(["sync", "push", "--all", "--provider", "groq", "--json"])
    assert r.code == 0, r.err
    assert [s["site"] for s in json.loads(r.out)["sites"]] == ["local"]
    assert "Site alias is the same WordPress as site local: handled once, as local." in r.err
    # the writes of this fresh key, by its fingerprint (not by position: the bridge keeps only the newest 50 entries)
    writes = [e for e in bridge.status()["change_log"] if e.get("setting") == "connectors_ai_groq_api_key" and e.get("fingerprint") == fingerprint(key)]
    assert len(writes) == 1


def test_profiles_as_aimo_writes_them_are_read_in_one_call(bridge):
    # the settings file's read path takes runs of site sections exactly as aimo writes them in one call (settings._run():
    # aimo's keys in aimo's order); a profile with every key `site add` writes, against the real WordPress, is one
    from aimo_cli.stores import settings

    assert _add(bridge, "local", None, "--group", "prod", "--rest-root", f"{bridge.url}/wp-json/", "--allow-insecure-http").code == 0
    assert _add(bridge, "plain").code == 0
    text = _cfg().read_text()
    written = tomllib.loads(text)["sites"]
    assert set(written["local"]) == {"url", "user", "group", "rest_root", "rest_root_explicit", "allow_insecure_http", "home", "site_id"}
    first = text.index("[sites.")
    assert settings._run().match(text, first).end() == len(text), text
    assert settings._scan(text)[2].names() == ["local", "plain"]
