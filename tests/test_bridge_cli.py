"""aimo bridge zip / install (unit, no WordPress needed) and activate / status (real site)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from aimo_cli.errors import ExitCode
from aimo_cli.services import bridge as service

from .clihelper import run_cli

PLUGIN = Path(__file__).resolve().parent.parent / "aimo_cli" / "bridge" / "aimo-bridge"
EXPECTED = {"aimo-bridge.php", "uninstall.php", "readme.txt", "assets/connectors.js"}


def fake_wordpress(root: Path) -> Path:
    (root / "wp-includes").mkdir(parents=True)
    (root / "wp-includes" / "version.php").write_text("<?php $wp_version = '7.1.4';\n")
    (root / "wp-content" / "plugins").mkdir(parents=True)
    (root / "wp-load.php").write_text("<?php\n")
    return root


def test_plugin_header_and_version_constant():
    main = (PLUGIN / "aimo-bridge.php").read_text()
    assert "Plugin Name:       aimo bridge" in main and "License:           GPL-2.0-or-later" in main
    assert "Version:           0.1.0" in main and "define( 'AIMO_BRIDGE_VERSION', '0.1.0' );" in main
    assert "Requires PHP:      8.1" in main
    assert service.version() == "0.1.0"


def test_zip_has_the_plugin_folder_at_its_root(tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "b.zip"
    r = run_cli(["bridge", "zip", "-o", out])
    assert r.code == 0, r.err
    assert f"Wrote {out}" in r.out
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert all(n.startswith("aimo-bridge/") for n in names)
        files = {n[len("aimo-bridge/") :] for n in names if not n.endswith("/")}
        assert EXPECTED <= files and any(f.startswith("includes/") and f.endswith(".php") for f in files)
        assert files == {p.relative_to(PLUGIN).as_posix() for p in PLUGIN.rglob("*") if p.is_file()}
        assert zf.read("aimo-bridge/aimo-bridge.php") == (PLUGIN / "aimo-bridge.php").read_bytes()
        assert zf.testzip() is None
    assert [p.name for p in out.parent.iterdir()] == ["b.zip"]  # no temp files left


def test_zip_default_name_and_directory_target(tmp_path, monkeypatch):
    tmp_path = tmp_path / "cwd"
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    assert run_cli(["bridge", "zip"]).code == 0
    assert (tmp_path / "aimo-bridge-0.1.0.zip").is_file()
    sub = tmp_path / "out"
    sub.mkdir()
    assert run_cli(["bridge", "zip", "-o", sub]).code == 0
    assert (sub / "aimo-bridge-0.1.0.zip").is_file()
    first = (tmp_path / "aimo-bridge-0.1.0.zip").read_bytes()
    assert run_cli(["bridge", "zip"]).code == 0
    assert (tmp_path / "aimo-bridge-0.1.0.zip").read_bytes() == first  # reproducible


def test_zip_into_a_missing_directory_is_a_usage_error(tmp_path):
    r = run_cli(["bridge", "zip", "-o", tmp_path / "nope" / "b.zip"])
    assert r.code == ExitCode.USAGE and "no such directory" in r.err


def test_install_copies_and_replaces_atomically(tmp_path):
    wp = fake_wordpress(tmp_path / "wp")
    r = run_cli(["bridge", "install", "--wp-path", wp])
    assert r.code == 0, r.err
    target = wp / "wp-content" / "plugins" / "aimo-bridge"
    assert "Installed aimo bridge 0.1.0 in" in r.out
    assert (target / "aimo-bridge.php").read_bytes() == (PLUGIN / "aimo-bridge.php").read_bytes()
    (target / "stale.php").write_text("<?php // from an older version\n")
    r = run_cli(["bridge", "install", "--wp-path", wp])
    assert r.code == 0 and "(was 0.1.0)" in r.out
    assert not (target / "stale.php").exists()
    assert sorted(p.name for p in (wp / "wp-content" / "plugins").iterdir()) == ["aimo-bridge"]  # no temp dirs left


@pytest.mark.parametrize("setup", ["empty", "missing", "file"])
def test_install_refuses_what_is_not_wordpress(tmp_path, setup):
    target = tmp_path / "site"
    if setup == "empty":
        target.mkdir()
        (target / "wp-content").mkdir()
    elif setup == "file":
        target.write_text("x")
    r = run_cli(["bridge", "install", "--wp-path", target])
    assert r.code == ExitCode.USAGE, r.err
    assert "WordPress" in r.err or "no such directory" in r.err
    if setup == "empty":
        assert list((target / "wp-content").iterdir()) == []


def test_install_needs_wp_path():
    assert run_cli(["bridge", "install"]).code == ExitCode.USAGE


@pytest.mark.wordpress
def test_activate_and_status_through_the_cli(bridge):
    wp = bridge.wp
    r = run_cli(["site", "add", "local", wp.url, "--user", wp.admin_user, "--stdin"], stdin=wp.admin_app_password + "\n")
    assert r.code == 0, r.err
    bridge.php("require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('aimo-bridge/aimo-bridge.php');")
    r = run_cli(["bridge", "status", "local"])
    assert r.code == ExitCode.REMOTE and "no aimo bridge" in r.err
    r = run_cli(["bridge", "activate", "local"])
    assert r.code == 0, r.err
    assert "0.1.0 is active" in r.out
    r = run_cli(["bridge", "status", "--json"])
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["bridge_version"] == "0.1.0" and report["mode"] == "observe" and len(report["connectors"]) >= len(PROVIDER_IDS)
    r = run_cli(["bridge", "status"])
    assert r.code == 0 and "mode observe" in r.out and "groq" in r.out


@pytest.mark.wordpress
def test_activate_without_the_plugin_installed_says_so(bridge, tmp_path):
    wp = bridge.wp
    assert run_cli(["site", "add", "local", wp.url, "--user", wp.admin_user, "--stdin"], stdin=wp.admin_app_password + "\n").code == 0
    plugins = Path(wp.wp_path) / "wp-content" / "plugins"
    moved = tmp_path / "aimo-bridge"
    bridge.php("require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('aimo-bridge/aimo-bridge.php');")
    (plugins / "aimo-bridge").rename(moved)
    try:
        r = run_cli(["bridge", "activate", "local"])
        assert r.code == ExitCode.CONFIG and "not installed" in r.err and "aimo bridge install" in r.err
    finally:
        moved.rename(plugins / "aimo-bridge")
        bridge.php("require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('aimo-bridge/aimo-bridge.php');")


def test_bridge_zip_to_standard_output(tmp_path):
    """`-o -` means standard output (before: a file named `-`); a terminal is refused."""
    import os
    import subprocess
    import sys
    import zipfile

    target = tmp_path / "piped.zip"
    with open(target, "wb") as fh:
        proc = subprocess.run([sys.executable, "-m", "aimo_cli", "bridge", "zip", "-o", "-"], stdout=fh, stderr=subprocess.PIPE, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "-").exists()
    with zipfile.ZipFile(target) as zf:
        assert "aimo-bridge/aimo-bridge.php" in zf.namelist()
    assert b"standard output" in proc.stderr
    import pty

    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "aimo_cli", "bridge", "zip", "-o", "-"], stdout=slave, stderr=subprocess.PIPE, cwd=tmp_path, timeout=60)
    os.close(slave)
    os.close(master)
    assert proc.returncode == 2 and b"refusing to write a zip to a terminal" in proc.stderr
