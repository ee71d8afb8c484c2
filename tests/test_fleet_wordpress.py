"""Fleet commands against many site entries pointing at the real test site: concurrency, partial failure.

The `bridge` fixture gives a known site state (observe mode, no connector keys), so the reachable sites are in sync
and only the unreachable one fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from .clihelper import run_cli
from .fleethelp import store_passwords, write_fleet

pytestmark = pytest.mark.wordpress


def test_fleet_status_with_one_bad_site(wp_site, bridge, isolated):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    names = write_fleet(config, wp_site, 40, bad=["zz-down"])
    store_passwords(names, wp_site.admin_app_password)
    r = run_cli(["sync", "status", "--group", "fleet", "--jobs", "16", "--json"])
    data = json.loads(r.out)
    by_site = {s["site"]: s for s in data["sites"]}
    assert len(by_site) == 41
    assert "cannot reach" in by_site["zz-down"]["error"]
    ok = [s for n, s in by_site.items() if n != "zz-down"]
    assert all("providers" in s and len(s["providers"]) == len(PROVIDER_IDS) for s in ok)
    assert r.code == 5  # the unreachable site's code; the others were still checked


def test_fleet_plain_output_lists_sites_to_retry(wp_site, bridge, isolated):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    names = write_fleet(config, wp_site, 5, bad=["zz-down"])
    store_passwords(names, wp_site.admin_app_password)
    r = run_cli(["sync", "status", "--all"])
    assert r.code == 5
    assert r.err.strip().endswith("Retry: zz-down")
    assert "s004" in r.out


def test_select_sites_usage_errors(wp_site, isolated):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    write_fleet(config, wp_site, 2)
    assert run_cli(["sync", "status", "s000", "--all"]).code == 2
    assert run_cli(["sync", "status", "--group", "nope"]).code == 2
    assert run_cli(["sync", "status", "--provider", "gemini"]).code == 2
    assert run_cli(["sync", "push", "--prefer", "middle"]).code == 2
