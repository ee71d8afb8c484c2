"""Bad input: malformed settings, URLs and keys, and providers or sites answering garbage.

Cases that already had a test elsewhere are not repeated here; docs/reliability.md lists them next to these
(tests/test_keys_cli.py, tests/test_settings_store.py, tests/test_settings_fuzz.py, tests/test_site_wordpress.py,
tests/test_wp_client.py, tests/test_providers_adapters.py, tests/test_catalog.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aimo_cli.errors import ExitCode
from aimo_cli.stores.secrets import MemoryBackend
from tests.fakeenv import context

from .clihelper import run_cli
from .faultproxy import FaultProxy
from .secrets_registry import make_key


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def write_config(text: str) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(text)


# -- settings and URLs ------------------------------------------------------------------------------------------------


def test_unknown_provider_in_the_settings_file_is_a_config_error():
    write_config('[providers.nosuch]\nbase_url = "https://x.example/v1"\n')
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=make_key("gsk"))  # a command that edits the file validates it
    assert r.code == 0  # keys live in the secret store, not in the file
    r = run_cli(["doctor", "--offline"])
    assert r.code == ExitCode.CONFIG and "nosuch" in r.text
    before = config_path().read_text()
    r = run_cli(["site", "add", "blog", "https://blog.example", "--user", "admin", "--no-verify", "--stdin"], stdin="abcd efgh ijkl mnop\n")
    assert r.code == ExitCode.CONFIG and "[providers.nosuch] names an unknown provider" in r.err
    assert config_path().read_text() == before  # nothing written


@pytest.mark.parametrize("provider", ["nosuch", "open ai", "gr0q", ""])
def test_unknown_provider_on_the_command_line(provider):
    for args in (["keys", "get", provider], ["sync", "status", "--provider", provider], ["models", "refresh", provider]):
        r = run_cli(args)
        assert r.code == ExitCode.USAGE, (args, r.text)  # a typo on the command line, not a settings problem
        assert "Valid ids:" in r.err and "groq" in r.err


@pytest.mark.parametrize(
    "url, needle",
    [
        ("blog.example", "must start with http:// or https://"),
        ("ftp://blog.example", "must start with http:// or https://"),
        ("https://", "has no host name"),
        ("https://blog.example:99999", "not a valid URL"),
        ("http://[::1", "not a valid URL"),
        ("https://blog example.com", "white space"),
        ("https://admin:pw@blog.example", "must not contain a user name or password"),
        ("https://blog.example/?p=1", "must not carry a query"),
    ],
)
def test_malformed_site_url_is_a_usage_error_and_nothing_is_stored(url, needle):
    r = run_cli(["site", "add", "blog", url, "--user", "admin", "--stdin"], stdin="abcd efgh ijkl mnop\n")
    assert r.code == ExitCode.USAGE, r.text
    assert needle in r.err
    assert not config_path().exists() and "site/blog" not in MemoryBackend._data


@pytest.mark.parametrize("field, value", [("url", "blog.example"), ("url", "https://blog example"), ("rest_root", "wp-json/"), ("url", "https://b.example:0x50")])
def test_malformed_url_edited_into_the_settings_is_a_config_error(field, value):
    url = value if field == "url" else "https://blog.example"
    extra = f'rest_root = "{value}"\n' if field == "rest_root" else ""
    write_config(f'[sites.blog]\nurl = "{url}"\nuser = "admin"\n{extra}')
    MemoryBackend._data["site/blog"] = "abcd efgh ijkl mnop"
    for args in (["sync", "status"], ["mode"], ["site", "test"]):
        r = run_cli(args)
        assert r.code == ExitCode.CONFIG, (args, r.text)
        assert f"its {'URL' if field == 'url' else 'rest_root'}" in r.text and "[sites.blog]" in r.text


# -- keys: unicode and stray white space --------------------------------------------------------------------------------
# (plain white space inside, é, bullets, duplicates, empty input and a pool with blank lines and padding are in
# tests/test_keys_cli.py)


@pytest.mark.parametrize(
    "typed, needle",
    [
        ("sk-abc\u00a0def123456789", "white space at position 7"),  # a no-break space from a web page
        ("sk-abc\u200bdef123456789", "non-ASCII or control character at position 7"),  # a zero-width space
        ("\ufeffsk-abcdef123456789", "non-ASCII or control character at position 1"),  # a BOM from a Windows editor
        ("sk-abc\tdef123456789", "white space at position 7"),
        ("sk-abc\x00def123456789", "control character"),
        ("sk-\u0430bcdef123456789", "non-ASCII"),  # Cyrillic а instead of a
    ],
)
def test_invisible_and_lookalike_characters_in_keys_are_refused(typed, needle):
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=typed)
    assert r.code == ExitCode.USAGE, r.text
    assert needle in r.err and "provider/groq" not in MemoryBackend._data


def test_windows_line_ends_and_padding_are_trimmed():
    k1, k2 = make_key("gsk"), make_key("gsk")
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=f"\t{k1}  \r\n\r\n  {k2}\r\n\r\n")
    assert r.code == 0, r.err
    assert MemoryBackend._data["provider/groq"] == f"{k1}\n{k2}"


# -- providers answering garbage: models refresh and keys verify ---------------------------------------------------------

GARBAGE = {
    "truncated": ('{"object": "list", "data": [{"id": "openai/gpt-oss-120b", "object": "mo', "not JSON"),
    "not json": ("Service temporarily overloaded; please retry", "not JSON"),
    "html": ("<html><body><h1>Welcome to nginx!</h1></body></html>", "not JSON"),
    "wrong shape": ('{"data": "lol"}', "without a model list"),
    "no models in list": ("[1, 2, 3, null]", "none of them a model"),
    "binary": ("\x00\x01\x02\xff\xfe garbage", "not JSON"),
}


def huge_list(n: int = 50_000, pad: int = 300) -> str:
    """≈ 20 MB in all by default: over the transport's 16 MiB cap; `huge_list(6000, 0)`: small, but more models than
    any real provider lists (services/models.py refuses it)."""
    return json.dumps({"object": "list", "data": [{"id": f"fake/model-{i}", "object": "model", "description": "x" * pad} for i in range(n)]})


def cached_groq_models() -> list[str]:
    r = run_cli(["models", "list", "--provider", "groq", "--json"])
    assert r.code == 0, r.text
    return sorted(e["id"] for e in json.loads(r.out)["models"] if e["source"] != "curated")


@pytest.mark.parametrize("case", [*GARBAGE, "huge", "too many"])
def test_models_refresh_refuses_garbage_and_keeps_the_good_list(fake_env, fake, case):
    assert run_cli(["models", "refresh", "groq"]).code == 0
    assert run_cli(["keys", "verify", "groq"]).code == 0
    good = cached_groq_models()
    assert "llama-3.3-70b-versatile" in good
    body, needle = {"huge": (huge_list(), "longer than 16 MiB, more than aimo accepts"), "too many": (huge_list(6000, 0), "more than aimo accepts from one provider")}.get(case) or GARBAGE[case]
    fake.fail_next("groq", 200, body, times=5)
    r = run_cli(["models", "refresh", "groq", "--force"])  # even --force does not take garbage
    assert r.code == ExitCode.REMOTE, r.text
    assert needle in r.out and "failed" in r.out
    assert len(r.text) < 5000  # a clear error, not the garbage itself
    assert cached_groq_models() == good
    index = (context().cache_dir / "completion-models.txt").read_text()
    assert "fake/model-1" not in index


@pytest.mark.parametrize("case", ["truncated", "not json", "html"])
def test_keys_verify_with_a_garbage_answer_exits_5(fake_env, fake, case):
    from aimo_cli.context import Clock, Dependencies

    fake.fail_next("groq", 200, GARBAGE[case][0], times=10)
    r = run_cli(["keys", "verify", "groq", "--json"], deps=Dependencies(clock=Clock(sleep=lambda s: None)))  # retries without waiting
    assert r.code == ExitCode.REMOTE, r.text
    row = json.loads(r.out)["results"][0]
    assert row["status"] == "unreachable" and "not JSON" in row["message"]
    assert MemoryBackend._data.get("provider/groq") is None  # the key came from the environment; nothing was stored


# -- a site answering 200 with something that is not the JSON it should be -----------------------------------------------


@pytest.mark.wordpress
@pytest.mark.parametrize(
    "body, ctype, needle",
    [
        ("<html><head><title>Maintenance</title></head><body>Back soon</body></html>", "text/html", "HTML instead of JSON"),
        ("Briefly unavailable for scheduled maintenance. Check back in a minute.", "text/plain", "non-JSON (text/plain"),
        ('{"bridge_version": "0.1.0", "mode": "managed", "connectors": [{"id": "gr', "application/json", "non-JSON (application/json"),
        ("[]", "application/json", "something other than a JSON object"),
        ('"ok"', "application/json", "something other than a JSON object"),
        ("", "application/json", "non-JSON"),
    ],
    ids=["html", "text", "truncated-json", "json-array", "json-string", "empty"],
)
def test_site_answering_200_with_the_wrong_body(bridge, body, ctype, needle):
    key = bridge.fake.make_valid_key("groq")
    bridge.managed()
    bridge.store_key("groq", key)
    with FaultProxy(bridge.url) as proxy:
        write_config(bridge.fake.settings_toml() + f'\n[sites.blog]\nurl = "{bridge.url}"\nuser = "{bridge.wp.admin_user}"\nrest_root = "{proxy.rest_root}"\nrest_root_explicit = true\n')
        MemoryBackend._data["site/blog"] = bridge.wp.admin_app_password
        MemoryBackend._data["provider/groq"] = key
        proxy.respond(200, body, content_type=ctype, times=100)
        for args in (["sync", "status"], ["sync", "push"], ["sync", "pull"], ["mode"]):
            r = run_cli(args)
            assert r.code == ExitCode.REMOTE, (args, r.text)
            assert needle in r.text, (args, r.text)
        proxy.reset()
        assert run_cli(["sync", "push"]).code == 0
    assert bridge.option("connectors_ai_groq_api_key") == key and MemoryBackend._data["provider/groq"] == key
