"""`aimo keys verify`, `aimo models list/refresh/show` and `aimo ask` through the real entry point, against the fake."""

from __future__ import annotations

import json

import pytest

from aimo_cli.context import Clock, Dependencies
from tests.clihelper import run_cli as _run_cli
from tests.fakeenv import context
from tests.fakeprovider import PROVIDERS
from tests.secrets_registry import make_key

SLEPT: list[float] = []  # what the commands of the current test slept (the injected clock records it)


def run_cli(args, stdin: str = "", **kw):
    """Retries still happen (and are counted), but without real sleeping: a clock is injected into the context."""
    return _run_cli(args, stdin, deps=Dependencies(clock=Clock(sleep=SLEPT.append)), **kw)


@pytest.fixture(autouse=True)
def no_retry_waits():
    SLEPT.clear()
    yield SLEPT
    SLEPT.clear()


def test_keys_verify_all_ok_records_state(fake_env):
    r = run_cli(["keys", "verify"])
    assert r.code == 0, r.text
    for p in PROVIDERS:
        assert p in r.out
    assert r.out.count(" ok") >= len(PROVIDERS)
    state = json.loads((context().state_dir / "verify.json").read_text())
    assert {k.split(":")[0] for k in state} == set(PROVIDERS) and len(state) == len(PROVIDERS) and all(v["status"] == "ok" for v in state.values())
    for provider, key in fake_env.items():
        if provider != "ollama":  # Ollama's credential is a server URL, shown on purpose (never its user info)
            assert key not in r.text


def test_keys_verify_rejected_exits_4(fake_env, monkeypatch):
    bad = make_key("gsk-bad")
    monkeypatch.setenv("GROQ_API_KEY", bad)
    r = run_cli(["keys", "verify", "groq", "openai", "--json"])
    assert r.code == 4
    rows = {row["provider"]: row for row in json.loads(r.out)["results"]}
    assert rows["groq"]["status"] == "rejected" and rows["openai"]["status"] == "ok"
    assert "Invalid API Key" in rows["groq"]["message"] and bad not in r.text


def test_keys_verify_unreachable_exits_5(fake_env, fake, no_retry_waits):
    fake.down("nvidia")
    r = run_cli(["keys", "verify", "nvidia"])
    assert r.code == 5 and "unreachable" in r.out
    assert no_retry_waits == [0.5, 1.0, 2.0]


def test_keys_verify_with_stored_key_and_no_keys(fake, monkeypatch):
    from tests.fakeenv import write_settings

    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    write_settings(fake)
    r = run_cli(["keys", "verify"])
    assert r.code == 4 and "no provider credential" in r.err
    key = fake.make_valid_key("xai")
    assert run_cli(["keys", "set", "xai", "--stdin"], stdin=key).code == 0
    r = run_cli(["keys", "verify"])
    assert r.code == 0 and "xai" in r.out and "ok" in r.out and key not in r.text
    r = run_cli(["keys", "verify", "groq"])
    assert r.code == 4 and "missing" in r.out


def test_models_list_only_connected_unless_all(fake_env, monkeypatch):
    r = run_cli(["models", "list"])
    assert r.code == 0 and "No connected providers" in r.err
    monkeypatch.setenv("XAI_API_KEY", make_key("xai-bad"))
    assert run_cli(["keys", "verify"]).code == 4
    r = run_cli(["models", "list", "--json"])
    assert r.code == 0, r.text
    providers = {row["provider"] for row in json.loads(r.out)["models"]}
    assert providers == set(PROVIDERS) - {"xai"}
    r = run_cli(["models", "list", "--all", "--provider", "xai", "--format", "csv"])
    assert r.code == 0 and r.out.startswith("id,provider,kind,context_window,deprecation,successor,name,source,retired\n") and "\ngrok-4,xai," in r.out


def test_models_list_type_filter_and_retirements(fake_env):
    run_cli(["keys", "verify"])
    r = run_cli(["models", "list", "--type", "image", "--json"])
    rows = json.loads(r.out)["models"]
    assert rows and all(row["kind"] == "image" for row in rows)
    r = run_cli(["models", "list", "--provider", "groq"])
    assert "llama-3.3-70b-versatile" in r.out and "2026-08-16" in r.out and "openai/gpt-oss-120b" in r.out
    assert run_cli(["models", "list", "--type", "video"]).code == 2
    assert run_cli(["models", "list", "--provider", "nope"]).code == 2


def test_models_refresh_and_show(fake_env, fake):
    r = run_cli(["models", "refresh", "groq", "anthropic"])
    assert r.code == 0 and "updated" in r.out and {rq.provider for rq in fake.requests} == {"groq", "anthropic"}
    assert (context().cache_dir / "completion-models.txt").read_text().count("\n") >= 10
    r = run_cli(["models", "show", "anthropic:claude-opus-5-5", "--json"])
    assert r.code == 0 and json.loads(r.out)["model"]["context_window"] == 1000000
    assert run_cli(["models", "show", "anthropic:nope"]).code == 2
    assert run_cli(["models", "show", "nocolon"]).code == 2
    fake.fail_next("groq", 503, "<html><title>503 Service Unavailable</title></html>", times=10)
    r = run_cli(["models", "refresh", "groq"])
    assert r.code == 5 and "503 Service Unavailable" in r.out


def test_ask_streams_answer(fake_env):
    r = run_cli(["ask", "-m", "groq:openai/gpt-oss-120b", "what is up"])
    assert r.code == 0 and r.out == "FAKE[provider=groq model=openai/gpt-oss-120b temperature=none] what is up\n"
    r = run_cli(["ask", "-m", "perplexity:sonar", "-"], stdin="from stdin\n")
    assert r.code == 0 and r.out.strip().endswith("from stdin")


def test_ask_drops_rejected_temperature_and_says_so(fake_env):
    r = run_cli(["ask", "-m", "openai:o4-mini", "--temperature", "0.2", "hi"])
    assert r.code == 0 and "temperature=none" in r.out and "rejected temperature" in r.err


def test_ask_errors(fake_env, monkeypatch):
    assert run_cli(["ask", "hi"]).code == 2
    assert run_cli(["ask", "-m", "bogus:x", "hi"]).code == 2
    bad = make_key("sk-ant-bad")
    monkeypatch.setenv("ANTHROPIC_API_KEY", bad)
    r = run_cli(["ask", "-m", "anthropic:claude-opus-5-5", "hi"])
    assert r.code == 4 and "invalid x-api-key" in r.err and bad not in r.text
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert run_cli(["ask", "-m", "anthropic:claude-opus-5-5", "hi"]).code == 4


def test_models_list_subprocess_warm_and_no_httpx(fake_env, fake, monkeypatch):
    run_cli(["keys", "verify", "groq"])
    run_cli(["models", "refresh", "groq"])
    fake.clear()
    code = "import sys, runpy; sys.argv=['aimo','models','list','--json']; from aimo_cli.app import run; rc=run(sys.argv[1:]); print('HTTPX' if 'httpx' in sys.modules else 'NOHTTPX'); sys.exit(rc)"
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("NOHTTPX") and "openai/gpt-oss-120b" in proc.stdout
    assert fake.requests == []  # warm: served from the cache


def test_help_imports_nothing_heavy():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "aimo_cli", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & {"httpx", "rich", "keyring", "diskcache", "tomlkit", "pydantic"}


def test_every_new_command_has_help():
    for args in (["models", "list"], ["models", "refresh"], ["models", "show"], ["keys", "verify"], ["ask"]):
        r = run_cli([*args, "--help"])
        assert r.code == 0 and "Usage:" in r.out


def test_a_mistyped_model_gets_the_closest_known_ids_and_never_a_hostile_one(fake_env, fake):
    """`models show` / `models set` with a model id the catalog lacks: exit 2, the closest ids of that provider from the
    cached and curated lists (no new request), never an id carrying terminal controls from a provider's list."""
    hostile = "llama-3.3-70b-versatile\x1b]52;c;ZXZpbA==\x07"
    models = [{"id": i, "object": "model", "owned_by": "x"} for i in ("llama-3.3-70b-versatile", hostile, "whisper-large-v3")]
    fake.fail_next("groq", 200, {"object": "list", "data": models})
    assert run_cli(["models", "refresh", "groq"]).code == 0
    before = len(fake.requests)
    r = run_cli(["models", "show", "groq:llama-3.3-70b-versatil"])
    assert r.code == 2, r.err
    assert "Hint: Did you mean groq:llama-3.3-70b-versatile?" in r.err, r.err
    assert "\x1b" not in r.err and "\x07" not in r.err and "ZXZpbA" not in r.err
    assert len(fake.requests) == before  # the suggestion asked nobody
    r = run_cli(["models", "show", "groq:zzzz"])
    assert r.code == 2 and "Did you mean" not in r.err and "aimo models list --all --provider groq" in r.err
