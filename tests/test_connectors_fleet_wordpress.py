"""`aimo connectors enable` over a fleet (issue 17 item 6): several SITEs, --group, --all and --shard K/N, against the
real test site with the real bridge. Each WordPress once (a second profile of the same site is named and skipped), one
unreachable site never stops the others and sets the exit code, the documented JSON shape (docs/json.md), and --adopt
refused for a fleet (two sites may hold different keys for one provider)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.ui import shapes

from .clihelper import run_cli
from .fleethelp import store_passwords
from .schemacheck import errors

pytestmark = pytest.mark.wordpress


def add_profiles(site, twin: str = "twin", down: str = "zz-down") -> None:
    """Next to "local": `twin`, a second profile of the same WordPress, and `down`, a site nobody answers."""
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.write_text(
        cfg.read_text()
        + f'\n[sites.{twin}]\nurl = "{site.url}"\nuser = "{site.wp.admin_user}"\nrest_root = "{site.url}/wp-json/"\n'
        + f'\n[sites.{down}]\nurl = "http://127.0.0.1:9"\nuser = "admin"\n'
    )
    store_passwords([twin, down], site.wp.admin_app_password)


def set_key(pid: str, value: str) -> None:
    r = run_cli(["keys", "set", pid, "--stdin"], stdin=value + "\n")
    assert r.code == 0, r.err


def test_enable_all_switches_and_pushes_each_wordpress_once_and_reports_the_unreachable_site(cli_site):
    site = cli_site
    add_profiles(site)
    groq = site.fake.make_valid_key("groq")
    set_key("groq", groq)
    assert site.option("aimo_connectors_mode", "observe") == "observe"
    r = run_cli(["connectors", "enable", "--all", "--json"])
    assert r.code == ExitCode.REMOTE, r.text  # the unreachable site's code; the reachable one was still enabled
    doc = json.loads(r.out)
    problems = errors(doc, shapes.schema("connectors enable"))
    assert not problems, problems
    assert "mode_changes" in doc  # the fleet form, not the one-site form
    assert [c["site"] for c in doc["mode_changes"]] == ["local"]
    assert (doc["mode_changes"][0]["previous"], doc["mode_changes"][0]["mode"], doc["mode_changes"][0]["changed"]) == ("observe", "managed", True)
    by_site = {s["site"]: s for s in doc["sites"]}
    assert set(by_site) == {"local", "zz-down"}, by_site  # twin is the same WordPress as local: handled once
    assert "cannot reach" in by_site["zz-down"]["error"] and by_site["zz-down"]["exit_code"] == ExitCode.REMOTE
    outcomes = {p["provider"]: p["outcome"] for p in by_site["local"]["providers"]}
    assert outcomes["groq"] == "stored", by_site["local"]
    assert "Site twin is the same WordPress as site local" in r.err
    assert site.option("aimo_connectors_mode") == "managed"
    assert site.option("connectors_ai_groq_api_key") == groq
    assert doc["exit_code"] == ExitCode.REMOTE and doc["dry_run"] is False

    # again: nothing left to do on local (already managed, in sync); the down site still fails
    r = run_cli(["connectors", "enable", "local", "zz-down"])
    assert r.code == ExitCode.REMOTE, r.text
    assert "local: already managed" in r.out
    assert r.err.strip().endswith("Retry: zz-down")


def test_enable_shards_split_the_fleet_and_dry_runs_change_nothing(cli_site):
    site = cli_site
    add_profiles(site)
    set_key("groq", site.fake.make_valid_key("groq"))
    seen: list[str] = []
    for k in (1, 2, 3):
        r = run_cli(["connectors", "enable", "--all", "--shard", f"{k}/3", "--dry-run", "--json"])
        doc = json.loads(r.out)
        assert not errors(doc, shapes.schema("connectors enable"))
        names = [s["site"] for s in doc["sites"]]
        assert r.code == (ExitCode.REMOTE if "zz-down" in names else ExitCode.OK), r.text
        assert doc["dry_run"] is True
        for change in doc["mode_changes"]:
            assert (change["previous"], change["mode"], change["dry_run"]) == ("observe", "managed", True)
        seen += names
    # every site in exactly one shard (local and twin are one WordPress only when they fall in the same shard)
    assert sorted(set(seen)) == sorted(seen) and {"local", "zz-down"} <= set(seen) <= {"local", "twin", "zz-down"}, seen
    assert site.option("aimo_connectors_mode", "observe") == "observe"  # a dry run: nothing changed
    assert site.option("connectors_ai_groq_api_key", "") == ""


def test_adopt_is_refused_for_a_fleet_before_anything_is_done(cli_site):
    site = cli_site
    add_profiles(site)
    r = run_cli(["connectors", "enable", "local", "twin", "--adopt"])
    assert r.code == ExitCode.USAGE and "--adopt works on one site at a time" in r.err and "Traceback" not in r.text, r.text
    assert site.option("aimo_connectors_mode", "observe") == "observe"
    # one named site keeps the one-site form (and --adopt)
    r = run_cli(["connectors", "enable", "local", "--dry-run", "--json"])
    assert r.code == ExitCode.OK, r.text
    doc = json.loads(r.out)
    assert doc["site"] == "local" and "mode_changes" not in doc
