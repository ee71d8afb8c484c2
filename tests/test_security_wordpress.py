"""Secrets stay secret: the --debug log, file modes, plain http at use time, TLS verification, argv, tracebacks.

The session-wide scan (tests/conftest.py) already checks every captured output for every test secret; these tests
make sure the risky paths are actually exercised, and check the explicit assertions as well.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.stores.secrets import MemoryBackend

from .clihelper import run_cli
from .faultproxy import FaultProxy
from .secrets_registry import make_key, register


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def write_site(url: str, user: str = "admin", password: str = "abcd efgh ijkl mnop qrst uvwx", *, rest_root: str | None = None, extra: str = "") -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ['default_site = "blog"', "", extra, "[sites.blog]", f'url = "{url}"', f'user = "{user}"']
    if rest_root:
        lines.append(f'rest_root = "{rest_root}"')
    path.write_text("\n".join(lines) + "\n")
    MemoryBackend._data["site/blog"] = password


def assert_no_secret(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text and s.replace(" ", "") not in text, "a secret appeared in aimo's output"


# -- the --debug log -----------------------------------------------------------------------------------------------


@pytest.mark.wordpress
def test_debug_log_of_push_pull_status_doctor_shows_no_key_or_app_password(bridge):
    write_site(bridge.url, bridge.wp.admin_user, bridge.wp.admin_app_password, extra=bridge.fake.settings_toml())
    bridge.managed()
    local = bridge.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=local).code == 0
    remote = bridge.fake.make_valid_key("xai")  # changed in wp-admin: aimo has never seen it before the pull
    bridge.api("POST", "/wp/v2/settings", {"connectors_ai_xai_api_key": remote})
    secrets = (local, remote, bridge.wp.admin_app_password)
    logs = []
    for args in (["sync", "push"], ["sync", "pull", "--provider", "xai"], ["sync", "status"], ["doctor"], ["connectors", "list"]):
        r = run_cli(["--debug", *args])
        assert r.code == 0, (args, r.out, r.err)  # the state is known: every key in place, the same on both sides
        assert "debug: →" in r.err and "debug: ←" in r.err, args  # the log is there, so this test can fail
        assert_no_secret(r.text, *secrets)
        logs.append(r.err)
    assert any("/aimo/v1/credentials" in log for log in logs)  # the requests that carry keys were logged
    assert bridge.option("connectors_ai_groq_api_key") == local
    assert MemoryBackend._data["provider/xai"] == remote  # the pull worked: the key went to the store, not the log


@pytest.mark.wordpress
def test_debug_log_of_the_core_settings_path_shows_no_key(bridge, peers):
    """Without the bridge the key travels in /wp/v2/settings bodies (and WordPress answers with a mask)."""
    base = "aimo-bridge/aimo-bridge.php"
    peers.official_openai()
    bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('{base}');")
    try:
        write_site(bridge.url, bridge.wp.admin_user, bridge.wp.admin_app_password, extra=bridge.fake.settings_toml())
        key = bridge.fake.make_valid_key("openai")
        assert run_cli(["keys", "set", "openai", "--stdin"], stdin=key).code == 0
        r = run_cli(["--debug", "sync", "push"])
        assert r.code == 0, r.out + r.err
        assert "POST" in r.err and "connectors_ai_openai_api_key" in r.err
        assert_no_secret(r.text, key, bridge.wp.admin_app_password)
    finally:
        out = bridge.php(f"require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin('{base}'); echo is_wp_error($r) ? 'fail' : 'ok';")
        assert out.strip() == "ok"


def test_debug_scrubber_masks_secret_fields_it_was_never_told_about():
    from aimo_cli.wordpress.client import scrub_secrets

    key, pw = make_key("sk-unknown"), make_key("pw")
    text = json.dumps({"id": "groq", "key": key, "key_source": "database", "nested": {"connectors_ai_groq_api_key": key, "password": pw}})
    out = scrub_secrets(text)
    assert key not in out and pw not in out and '"key_source": "database"' in out and '"id": "groq"' in out
    truncated = text[: text.index(key) + 10]  # the log keeps the first 400 characters: a cut in the middle of a key
    assert key[:10] not in scrub_secrets(truncated)


# -- files ------------------------------------------------------------------------------------------------------------


def test_settings_secret_and_state_files_are_private(monkeypatch):
    monkeypatch.setenv("AIMO_KEYRING", "file")
    key = make_key("gsk")
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=key).code == 0
    assert run_cli(["site", "use", "nope"]).code == ExitCode.USAGE  # reads only
    from aimo_cli.context import AppContext

    ctx = AppContext()
    with ctx.settings_store.edit() as s:
        s.doc["default_site"] = "x"
    secrets_file = Path(os.environ["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    for path, mode in ((secrets_file, 0o600), (secrets_file.parent, 0o700), (config_path(), 0o600), (config_path().parent, 0o700)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, (path, oct(path.stat().st_mode))
    assert key in secrets_file.read_text() and key not in config_path().read_text()
    from aimo_cli.core.sync import BaseRecord
    from aimo_cli.stores.state import SyncState

    SyncState(ctx.state_dir).record("blog", {"groq": BaseRecord.of(key)})
    state_file = ctx.state_dir / "sync" / "blog.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600 and key not in state_file.read_text()


# -- plain http at use time ---------------------------------------------------------------------------------------


SITE_COMMANDS = [
    ["sync", "status"],
    ["sync", "push"],
    ["sync", "pull"],
    ["mode"],
    ["mode", "managed"],
    ["connectors", "list"],
    ["connectors", "enable"],
    ["connectors", "stop"],
    ["models", "auto", "text"],
    ["site", "test"],
    ["bridge", "status"],
    ["doctor"],
]


@pytest.mark.parametrize("args", SITE_COMMANDS, ids=lambda a: " ".join(a))
def test_hand_edited_plain_http_site_is_refused_by_every_command(args):
    write_site("http://example.com")
    r = run_cli(args)
    assert r.code == ExitCode.REFUSED, (r.out, r.err)
    assert "plain http" in r.text


@pytest.mark.parametrize("args", SITE_COMMANDS[:3] + [["doctor"]], ids=lambda a: " ".join(a))
def test_hand_edited_plain_http_rest_root_is_refused_too(args):
    """An https site whose rest_root was edited to plain http would send the application password in clear."""
    write_site("https://blog.example", rest_root="http://blog.example/wp-json/")
    r = run_cli(args)
    assert r.code == ExitCode.REFUSED, (r.out, r.err)
    assert "plain http" in r.text


# -- TLS --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.mark.wordpress
def test_tls_is_verified_by_default_and_a_ca_bundle_makes_it_work(bridge, self_signed):
    """The site in a known state (the bridge fixture: observe mode, no keys) and no local key: nothing to sync, exit 0."""
    wp_site = bridge.wp
    cert, key = self_signed
    with FaultProxy(wp_site.url, tls=(str(cert), str(key))) as proxy:
        write_site(proxy.url, wp_site.admin_user, wp_site.admin_app_password, rest_root=proxy.rest_root)
        r = run_cli(["sync", "status"])
        assert r.code == ExitCode.REMOTE, r.text
        assert "TLS verification failed" in r.text and "--ca-bundle" in r.text
        assert not proxy.seen  # nothing was sent over the unverified connection
        r = run_cli(["--ca-bundle", str(cert), "sync", "status"])
        assert r.code == 0, r.text
        assert "via" in r.out and proxy.seen
        # the same through the environment, and through the site entry
        os.environ["AIMO_CA_BUNDLE"] = str(cert)
        try:
            r = run_cli(["sync", "status"])
            assert r.code == 0, r.text
        finally:
            del os.environ["AIMO_CA_BUNDLE"]


# -- argv, environment, tracebacks -------------------------------------------------------------------------------------


def test_no_command_takes_a_secret_in_argv():
    """`keys set` and `site add` (and every other command) take no secret as an argument or option value."""
    import typer

    from aimo_cli.app import build_app

    def walk(cmd, path=()):
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, path + (name,))

    root = typer.main.get_command(build_app())
    import re

    secretish = {"key", "keys", "password", "passwd", "pass", "secret", "token", "apikey", "credential"}
    for path, cmd in walk(root):
        for p in cmd.params:
            names = [p.name or ""] + list(getattr(p, "opts", []))
            words = {w for n in names for w in re.split(r"[-_]+", n.lower()) if w}
            takes_value = p.param_type_name == "argument" or not getattr(p, "is_flag", False)
            if takes_value and words & secretish:
                raise AssertionError(f"aimo {' '.join(path)}: {names} takes a value that looks like a secret")
    keys_set = dict(walk(root))[("keys", "set")]
    assert [p.name for p in keys_set.params if p.param_type_name == "argument"] == ["provider"]
    site_add = dict(walk(root))[("site", "add")]
    assert [p.name for p in site_add.params if p.param_type_name == "argument"] == ["name", "url"]
    r = run_cli(["site", "add", "blog", "https://blog.example", "abcd efgh ijkl mnop", "--user", "admin", "--stdin"], stdin="x")
    assert r.code == ExitCode.USAGE


def test_provider_key_from_the_environment_is_never_dumped(monkeypatch):
    key = make_key("gsk-env")
    monkeypatch.setenv("GROQ_API_KEY", key)
    for args in (["--debug", "keys", "list"], ["--debug", "doctor"], ["--debug", "keys", "get", "groq"], ["--debug", "keys", "list", "--json"]):
        r = run_cli(args)
        assert_no_secret(r.text, key)
    assert key[-4:] in run_cli(["keys", "list"]).out  # the mask is shown


def test_unexpected_exception_traceback_is_redacted(monkeypatch):
    key = make_key("gsk")
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=key).code == 0
    pw = register("Abcd Efgh Ijkl Mnop Qrst Uvwx")  # registered: the leak scan checks it too
    write_site("https://blog.example", password=pw)
    from aimo_cli.services import credentials

    real = credentials.resolve

    def broken(ctx, pid, **kw):
        cred = real(ctx, pid, **kw)
        if pid == "groq":
            ctx.secrets.get("site/blog")
            raise RuntimeError(f"boom while handling {cred.first} for {ctx.secrets.get('site/blog')}")
        return cred

    monkeypatch.setattr(credentials, "resolve", broken)
    r = run_cli(["--debug", "keys", "list"])
    assert r.code == ExitCode.UNEXPECTED
    assert "Traceback (most recent call last)" in r.err and "RuntimeError: boom while handling" in r.err
    assert_no_secret(r.text, key, pw)
    r = run_cli(["keys", "list"])  # without --debug: one redacted line and a hint, no traceback
    assert r.code == ExitCode.UNEXPECTED and "Traceback" not in r.err and "--debug" in r.err
    assert_no_secret(r.text, key, pw)
