"""Names typed wrong (issue 16 item 5): a provider id, mode, site or group that matches nothing is a usage error
(exit 2) naming the closest known names; `--site NAME` is accepted by every command that takes SITE.

No site is contacted: each case fails before any request (the sites point at a closed loopback port, so a request
would fail with exit 5, not 2).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aimo_cli.core.names import closest, did_you_mean
from aimo_cli.errors import ExitCode

from .clihelper import run_cli

SITES = """\
[sites.blog]
url = "http://127.0.0.1:9"
user = "admin"

[sites.shop]
url = "http://127.0.0.1:9"
user = "admin"
group = "prod"
"""


@pytest.fixture
def two_sites():
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SITES)
    return path


def test_closest_names():
    assert closest("opneai", ["openai", "anthropic", "groq"]) == ["openai"]
    assert closest("GROQ", ["openai", "groq"]) == ["groq"]
    assert closest("manged", ["observe", "managed", "off"]) == ["managed"]
    assert closest("anth", ["openai", "anthropic"]) == ["anthropic"]  # a prefix typed in full
    assert closest("gemini", ["openai", "anthropic", "groq"]) == []
    assert closest("", ["openai"]) == [] and closest("x", []) == []
    assert did_you_mean("blgo", ["blog", "shop"], "aimo mode {}") == "Did you mean aimo mode blog? "
    assert did_you_mean("zzz", ["blog"]) == ""


@pytest.mark.parametrize(
    "args, error, hint",
    [
        (["mode", "manged", "blog"], "unknown mode 'manged'", "Did you mean managed?"),
        (["mode", "manged"], "'manged' is neither a mode (observe, managed, off) nor a configured site (blog, shop)", "Did you mean aimo mode managed?"),
        (["mode", "blgo"], "'blgo' is neither a mode", "Did you mean aimo mode blog?"),
        (["keys", "set", "opneai", "--stdin"], "unknown provider 'opneai'", "Did you mean openai?"),
        (["keys", "rotate", "grok", "--stdin"], "unknown provider 'grok'", "Did you mean groq?"),
        (["sync", "status", "--provider", "antropic"], "unknown provider 'antropic'", "Did you mean anthropic?"),
        (["models", "show", "opneai:gpt-5"], "unknown provider 'opneai' in 'opneai:gpt-5'", "Did you mean openai?"),
        (["sync", "push", "blgo"], "no site named 'blgo' (configured: blog, shop)", "Did you mean blog?"),
        (["sync", "push", "--site", "blgo"], "no site named 'blgo'", "Did you mean blog?"),
        (["sync", "status", "--group", "prd"], "no site is in group 'prd' (groups: prod)", "Did you mean prod?"),
        (["doctor", "shp", "--offline"], "no site named 'shp'", "Did you mean shop?"),
        (["connectors", "list", "blgo"], "no site named 'blgo'", "Did you mean blog?"),
        (["site", "use", "shpo"], "no site named 'shpo'", "Did you mean shop?"),
        (["site", "rm", "blgo", "--yes"], "no site named 'blgo'", "Did you mean blog?"),
        (["models", "auto", "txet", "blog"], "unknown model kind 'txet'", "Did you mean text?"),
        (["sync", "push", "--prefer", "locl"], "--prefer takes local or remote, not 'locl'", "Did you mean local?"),
    ],
)
def test_a_mistyped_name_is_a_usage_error_with_the_closest_names(two_sites, args, error, hint):
    before = two_sites.read_text()
    r = run_cli(args, stdin="sk-nothing-is-stored-here\n")
    assert r.code == ExitCode.USAGE, r.text
    assert f"Error: {error}" in r.err and f"Hint: {hint}" in r.err, r.err
    assert two_sites.read_text() == before


def test_a_default_site_the_settings_do_not_configure_is_a_config_error(two_sites):
    two_sites.write_text('default_site = "gone"\n' + SITES)
    r = run_cli(["sync", "status"])
    assert r.code == ExitCode.CONFIG, r.text
    assert "the default site 'gone' is not configured" in r.err and "aimo site use NAME" in r.err


@pytest.mark.parametrize(
    "args, error",
    [
        (["connectors", "list", "--site", "nosuch"], "no site named 'nosuch'"),
        (["mode", "-s", "nosuch"], "'nosuch' is neither a mode"),
        (["models", "auto", "text", "--site=nosuch"], "no site named 'nosuch'"),
        (["sync", "status", "--site", "nosuch", "--site", "other"], "no site named 'nosuch'"),
        (["bridge", "status", "--site", "nosuch"], "no site named 'nosuch'"),
        (["doctor", "--site", "nosuch", "--offline"], "no site named 'nosuch'"),
    ],
)
def test_the_older_site_option_reaches_the_site_argument_everywhere(two_sites, args, error):
    r = run_cli(args)
    assert r.code == ExitCode.USAGE and f"Error: {error}" in r.err, r.text


def test_site_option_rewrite_keeps_everything_else():
    import typer.main

    from aimo_cli.app import build_app
    from aimo_cli.commands._cli import site_option_as_argument

    root = typer.main.get_command(build_app())
    push = root.commands["sync"].commands["push"]
    assert site_option_as_argument(push, ["--site", "a", "-n", "-s", "b", "--", "--site", "c"]) == ["-n", "a", "b", "--", "--site", "c"]
    assert site_option_as_argument(push, ["--site"]) == ["--site"]  # no value: Click says so
    zip_ = root.commands["bridge"].commands["zip"]  # no SITE argument: left to Click ("No such option")
    assert site_option_as_argument(zip_, ["--site", "a"]) == ["--site", "a"]
    assert run_cli(["bridge", "zip", "--site", "a"]).code == ExitCode.USAGE


def test_retry_is_offered_only_for_sites_a_retry_can_help(two_sites):
    """blog cannot be reached (remote: a retry may work); shop has no application password (auth: it will not)."""
    from aimo_cli.stores.secrets import MemoryBackend

    MemoryBackend._data["site/blog"] = "abcd efgh ijkl mnop qrst uvwx"
    r = run_cli(["sync", "status", "--all"])
    assert r.code == ExitCode.AUTH, r.text
    assert "Hint (shop):" in r.err
    assert r.err.strip().endswith("Retry: blog") and "shop" not in r.err.strip().splitlines()[-1]
    r = run_cli(["sync", "status", "shop"])
    assert r.code == ExitCode.AUTH and "Retry:" not in r.err
