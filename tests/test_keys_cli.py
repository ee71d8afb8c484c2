"""aimo keys: set (stdin, pools, Ollama URLs), list, get, rm; bad input; env overrides; nothing leaks."""

from __future__ import annotations

import json

import pytest

from aimo_cli.core.providers import PROVIDER_IDS
from aimo_cli.errors import ExitCode

from .clihelper import run_cli
from .secrets_registry import make_key


def _list():
    r = run_cli(["keys", "list", "--json"])
    assert r.code == 0, r.err
    return {row["provider"]: row for row in json.loads(r.out)["keys"]}


def test_list_shows_all_ten_providers_empty():
    rows = _list()
    assert list(rows) == list(PROVIDER_IDS)
    assert not any(r["present"] for r in rows.values())


def test_set_pool_first_line_wins_and_is_masked():
    k1, k2 = make_key("gsk"), make_key("gsk")
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=f"  {k1}  \n\n{k2}\n")
    assert r.code == 0, r.err
    assert "pool of 2" in r.out and k1[-4:] in r.out
    row = _list()["groq"]
    assert row["pool_size"] == 2 and row["last4"] == k1[-4:] and row["url"] is None
    assert row["source"] == "memory" and len(row["fingerprint"]) == 12


@pytest.mark.reveals_secret
def test_get_reveal_prints_only_first_key():
    k1, k2 = make_key(), make_key()
    run_cli(["keys", "set", "openai", "--stdin", "--no-verify"], stdin=f"{k1}\n{k2}\n")
    r = run_cli(["keys", "get", "openai", "--reveal"])
    assert r.code == 0 and r.out == k1 + "\n"


def test_get_without_reveal_masks():
    k = make_key()
    run_cli(["keys", "set", "openai", "--stdin", "--no-verify"], stdin=k)
    r = run_cli(["keys", "get", "openai"])
    assert r.code == 0 and k not in r.out and k[-4:] in r.out


def test_get_missing_is_auth_error():
    r = run_cli(["keys", "get", "xai"])
    assert r.code == ExitCode.AUTH and "aimo keys set xai" in r.err


@pytest.mark.parametrize(
    "stdin, needle",
    [
        ("", "was empty"),
        ("\n \n", "was empty"),
        ("sk-abc def-123456789", "white space at position 7"),
        ("sk-abc\u00e9def123456", "non-ASCII"),
        ("\u2022\u2022\u2022\u20226789", "masked value"),
        ("sk-same-123456789\nsk-same-123456789", "twice"),
    ],
)
def test_bad_keys_are_usage_errors_and_store_nothing(stdin, needle):
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=stdin)
    assert r.code == ExitCode.USAGE and needle in r.err
    assert not _list()["groq"]["present"]


def test_unknown_provider_exit_2_lists_ids():
    r = run_cli(["keys", "set", "gemini", "--stdin"], stdin="x" * 20)
    assert r.code == ExitCode.USAGE
    assert "unknown provider 'gemini'" in r.err and "huggingface" in r.err and "Did you mean" not in r.err  # nothing close


def test_ollama_urls_validated_and_normalised():
    r = run_cli(["keys", "set", "ollama", "--stdin", "--no-verify"], stdin="localhost:11434\nhttp://gpu-box:11434/\n")
    assert r.code == 0, r.err
    row = _list()["ollama"]
    assert row["url"] == "http://localhost:11434" and row["last4"] is None and row["pool_size"] == 2
    r = run_cli(["keys", "set", "ollama", "--stdin", "--no-verify"], stdin="ftp://x\n")
    assert r.code == ExitCode.USAGE and "http" in r.err


def test_ollama_display_hides_userinfo():
    run_cli(["keys", "set", "ollama", "--stdin", "--no-verify"], stdin="https://user:s3cretpass@ollama.example:8443/\n")
    assert _list()["ollama"]["url"] == "https://ollama.example:8443"


def test_env_overrides_store(monkeypatch):
    stored, env = make_key(), make_key()
    run_cli(["keys", "set", "anthropic", "--stdin", "--no-verify"], stdin=stored)
    monkeypatch.setenv("ANTHROPIC_API_KEY", env)
    row = _list()["anthropic"]
    assert row["source"] == "env" and row["last4"] == env[-4:]
    r = run_cli(["keys", "rm", "anthropic", "--yes"])
    assert r.code == 0 and "ANTHROPIC_API_KEY is still set" in r.err


def test_ollama_host_env(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:11434")
    assert _list()["ollama"]["url"] == "http://0.0.0.0:11434"


def test_rm_validates_all_ids_first():
    k = make_key()
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
    r = run_cli(["keys", "rm", "groq", "nope", "--yes"])
    assert r.code == ExitCode.USAGE
    assert _list()["groq"]["present"]


def test_prompt_requires_a_terminal():
    r = run_cli(["keys", "set", "groq"])
    assert r.code == ExitCode.USAGE and "--stdin" in r.err


def test_key_never_in_argv_form():
    r = run_cli(["keys", "set", "groq", "sk-in-argv-123456"])
    assert r.code == ExitCode.USAGE


def test_csv_format_and_bad_format():
    k = make_key("gsk")
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
    r = run_cli(["keys", "list", "--format", "csv"])
    lines = r.out.splitlines()
    assert r.code == 0 and lines[0] == "provider,name,present,source,last4,url,pool_size,fingerprint,env_var"
    groq = next(line for line in lines if line.startswith("groq,"))
    assert groq.split(",")[2:5] == ["true", "memory", k[-4:]] and "\u2022" not in r.out
    r = run_cli(["keys", "list", "--format", "xml"])
    assert r.code == ExitCode.USAGE


def test_debug_after_the_subcommand_is_the_global_flag():
    k = make_key()
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
    r = run_cli(["keys", "list", "--debug"])
    assert r.code == 0 and "groq" in r.out and k not in r.text
    assert run_cli(["keys", "list", "--", "--debug"]).code == 2  # after `--` it is an argument, not the flag


def test_rotate_without_any_site_only_replaces_the_local_key():
    from .fakeenv import write_settings
    from .fakeprovider import FakeProviders

    with FakeProviders() as fake:
        write_settings(fake)
        old, new = fake.make_valid_key("groq"), fake.make_valid_key("groq")
        run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=old)
        r = run_cli(["keys", "rotate", "groq", "--stdin"], stdin=new)
    assert r.code == 0, r.text
    row = {x["provider"]: x for x in json.loads(run_cli(["keys", "list", "--json"]).out)["keys"]}["groq"]
    assert row["last4"] == new[-4:]
