"""Load: `aimo sync status --all --jobs 32` over 500 site entries (all pointing at the local WordPress) in a real
process. Asserts no site fails and memory stays bounded; no timing assertions (benchmarks/fleet.py measures time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from .clihelper import CAPTURED
from .fleethelp import write_fleet

pytestmark = pytest.mark.wordpress

SITES = 500
PEAK_RSS_LIMIT_MIB = 250  # measured ≈ 45 MiB; generous on purpose

# Runs aimo as its own child and reports that child's peak RSS alone (this test process has other children).
_MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "aimo_cli", *sys.argv[1:]], capture_output=True, text=True)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": proc.returncode, "out": proc.stdout, "err": proc.stderr, "peak_kib": peak_kib}))
"""


def test_sync_status_over_500_sites_at_32_jobs(bridge, isolated):
    """The site in a known state (the bridge fixture: observe mode, no keys) and no local key: no drift anywhere."""
    wp_site = bridge.wp
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    names = write_fleet(config, wp_site, SITES)
    secrets_file = Path(os.environ["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets_file.write_text(json.dumps({f"site/{n}": wp_site.admin_app_password for n in names}))
    secrets_file.chmod(0o600)
    env = {**os.environ, "AIMO_KEYRING": "file", "AIMO_BACKGROUND_REFRESH": "0"}
    proc = subprocess.run([sys.executable, "-c", _MEASURE, "sync", "status", "--all", "--jobs", "32", "--json"], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    CAPTURED.append(("subprocess: sync status --all --jobs 32 (500 sites)", run["out"] + run["err"]))
    assert run["code"] == 0, run["err"][-2000:]
    data = json.loads(run["out"])
    assert len(data["sites"]) == SITES
    errors = [s for s in data["sites"] if s.get("error")]
    assert not errors, errors[:3]
    assert all(len(s["providers"]) == len(PROVIDER_IDS) for s in data["sites"])
    peak_mib = run["peak_kib"] / 1024
    print(f"peak RSS of aimo over {SITES} sites at --jobs 32: {peak_mib:.1f} MiB")
    assert 0 < peak_mib < PEAK_RSS_LIMIT_MIB
