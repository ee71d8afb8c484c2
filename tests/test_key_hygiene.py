"""Issue 15 items 3, 6 and 10: key input hygiene, removal and history, `keys import` (loopback fake providers only)."""

from __future__ import annotations

import json

import pytest

from aimo_cli.errors import ExitCode

from .clihelper import run_cli
from .fakeenv import write_settings
from .secrets_registry import make_key


def _reveal(provider: str) -> str:
    r = run_cli(["keys", "get", provider, "--reveal"])
    return r.out.strip() if r.code == 0 else ""


def _row(provider: str) -> dict:
    rows = {row["provider"]: row for row in json.loads(run_cli(["keys", "list", "--json"]).out)["keys"]}
    return rows[provider]


def _file_backend(monkeypatch, tmp_path):
    path = tmp_path / "secrets.json"
    monkeypatch.setenv("AIMO_KEYRING", "file")
    monkeypatch.setenv("AIMO_SECRETS_FILE", str(path))
    return path


# -- 6. key input -------------------------------------------------------------------------------------------------


@pytest.mark.reveals_secret
@pytest.mark.parametrize("wrap", ['"{k}"', "'{k}'", "export GROQ_API_KEY={k}", 'GROQ_API_KEY="{k}"', "export GROQ_API_KEY='{k}'"])
def test_quotes_and_export_prefix_are_stripped_and_said_aloud(fake, wrap):
    write_settings(fake)
    key = fake.make_valid_key("groq")
    r = run_cli(["keys", "set", "groq", "--stdin"], stdin=wrap.format(k=key) + "\n")
    assert r.code == 0, r.err
    assert _reveal("groq") == key
    assert "Note: removed" in r.err


@pytest.mark.parametrize(
    "typed, needle",
    [
        ("export OPENAI_API_KEY=gsk_abcdefgh12345678", "assignment to OPENAI_API_KEY, not a GROQ_API_KEY value"),
        ('"gsk_abcdefgh12345678', "quote at one end only"),
        ("gsk_abcdefgh12345678'", "quote at one end only"),
        ('""', "empty once quotes"),
    ],
)
def test_wrong_variable_or_unbalanced_quote_is_refused_with_the_reason(typed, needle):
    good = make_key("gsk")
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=good).code == 0
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=typed)
    assert r.code == ExitCode.USAGE and needle in r.err
    from aimo_cli.core.secrets import fingerprint

    assert _row("groq")["fingerprint"] == fingerprint(good)  # the good key is still the stored one


def test_key_size_and_pool_length_limits():
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin="gsk_" + "a" * 5000)
    assert r.code == ExitCode.USAGE and "a key is at most 4,096" in r.err
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin="\n".join(f"gsk_{i:08d}abcdefgh" for i in range(65)))
    assert r.code == ExitCode.USAGE and "65 lines; at most 64" in r.err
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin="gsk_x\n" * 200_000)  # the 1.2 MB paste
    assert r.code == ExitCode.USAGE and "bytes: more than a pool of 64" in r.err
    assert not _row("groq")["present"]
    ok = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin="\n".join(f"gsk_{i:08d}abcdefgh" for i in range(64)))
    assert ok.code == 0 and _row("groq")["pool_size"] == 64


def test_shape_warning_warns_but_stores(fake):
    write_settings(fake)
    key = fake.make_valid_key("openai").replace("sk-", "")
    fake.valid_keys["openai"].add(key)
    r = run_cli(["keys", "set", "openai", "--stdin"], stdin=key)
    assert r.code == 0, r.err
    assert "Warning: the value does not start with 'sk-'" in r.err
    assert _row("openai")["present"]


def test_keys_set_verifies_by_default_and_stores_nothing_refused(fake):
    write_settings(fake)
    good, bad = fake.make_valid_key("groq"), make_key("gsk")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=good).code == 0
    fake.clear()
    r = run_cli(["keys", "set", "groq", "--stdin"], stdin=f"{good}\n{bad}\n")
    assert r.code == ExitCode.AUTH
    assert "Groq refused line 2 of the pool" in r.err and "nothing was stored" in r.err
    assert any(req.provider == "groq" and req.path.endswith("/models") for req in fake.requests), [(q.provider, q.path) for q in fake.requests]
    row = _row("groq")
    assert row["pool_size"] == 1 and row["last4"] == good[-4:]
    assert json.loads(run_cli(["keys", "previous", "groq", "--json"]).out)["previous"] == []


def test_keys_set_no_verify_makes_no_provider_call(fake):
    write_settings(fake)
    fake.clear()
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=make_key("gsk"))
    assert r.code == 0 and not fake.requests


def test_unreachable_provider_stores_and_says_not_verified(fake):
    write_settings(fake)
    fake.down("groq")
    r = run_cli(["keys", "set", "groq", "--stdin"], stdin=make_key("gsk"))
    assert r.code == 0, r.err
    assert "was not verified" in r.err and _row("groq")["present"]


# -- 3. removal and history -------------------------------------------------------------------------------------------


def test_rm_removes_every_copy_from_the_secret_file(monkeypatch, tmp_path):
    path = _file_backend(monkeypatch, tmp_path)
    a, b, c = make_key("gsk"), make_key("gsk"), make_key("gsk")
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=f"{a}\n{b}\n").code == 0
    assert run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=c).code == 0
    text = path.read_text()
    assert a in text and b in text  # kept as previous keys
    r = run_cli(["keys", "rm", "groq", "--yes"])
    assert r.code == 0, r.err
    assert "Removed Groq:" in r.out and "and 2 earlier key(s)" in r.out and "No copy is left" in r.out
    text = path.read_text()
    assert a not in text and b not in text and c not in text
    assert not [k for k in json.loads(text) if k.endswith("/groq")]


def test_rm_keep_previous_says_what_it_keeps(monkeypatch, tmp_path):
    _file_backend(monkeypatch, tmp_path)
    a, b = make_key("gsk"), make_key("gsk")
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=a)
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=b)
    r = run_cli(["keys", "rm", "groq", "--yes", "--keep-previous"])
    assert r.code == 0 and "Kept 1 earlier Groq key(s)" in r.out
    prev = json.loads(run_cli(["keys", "previous", "groq", "--json"]).out)["previous"]
    assert [p["last4"] for p in prev] == [a[-4:]]


def test_rm_needs_yes_without_a_terminal_and_asks_on_one(monkeypatch):
    k = make_key("gsk")
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
    r = run_cli(["keys", "rm", "groq"])
    assert r.code == ExitCode.REFUSED and "--yes" in r.err
    assert _row("groq")["present"]

    from . import clihelper

    class TTY(clihelper._Stdin):
        def isatty(self):
            return True

    monkeypatch.setattr(clihelper, "_Stdin", lambda text, tty=False: TTY(text, True))
    r = run_cli(["keys", "rm", "groq"], stdin="n\n")
    assert r.code == ExitCode.REFUSED and "Remove Groq (" in r.err and "[y/N]" in r.err and "cancelled" in r.err
    assert _row("groq")["present"]
    r = run_cli(["keys", "rm", "groq"], stdin="y\n")
    assert r.code == 0 and not _row("groq")["present"]


@pytest.mark.reveals_secret
def test_replacing_a_pool_says_what_is_dropped_and_restore_brings_it_back():
    a, b, c = make_key("gsk"), make_key("gsk"), make_key("gsk")
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=f"{a}\n{b}\n")
    r = run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=c)
    assert r.code == 0
    assert "Replaced: 2 key(s) of the old Groq pool" in r.out and a[-4:] in r.out and b[-4:] in r.out
    prev = json.loads(run_cli(["keys", "previous", "groq", "--json"]).out)["previous"]
    assert [p["number"] for p in prev] == [1, 2] and all(p["replaced_at"] and p["reason"] == "replaced by aimo keys set" for p in prev)
    table = run_cli(["keys", "previous", "groq"])
    assert table.code == 0 and a not in table.out and a[-4:] in table.out
    r = run_cli(["keys", "restore", "groq", prev[1]["fingerprint"][:8], "--no-verify"])
    assert r.code == 0, r.err
    assert _reveal("groq") == prev_key(prev[1], a, b)
    after = json.loads(run_cli(["keys", "previous", "groq", "--json"]).out)["previous"]
    assert c[-4:] in {p["last4"] for p in after} and prev[1]["fingerprint"] not in {p["fingerprint"] for p in after}
    assert run_cli(["keys", "restore", "groq", "zzzz", "--no-verify"]).code == ExitCode.USAGE


def prev_key(entry: dict, *candidates: str) -> str:
    return next(k for k in candidates if k.endswith(entry["last4"]))


def test_restore_with_nothing_kept_is_a_config_error():
    r = run_cli(["keys", "restore", "groq"])
    assert r.code == ExitCode.CONFIG and "no earlier Groq key is kept" in r.err


# -- 10. keys import ------------------------------------------------------------------------------------------------


@pytest.mark.reveals_secret
def test_import_env_file_reports_each_line_and_verifies_first(fake, tmp_path):
    write_settings(fake)
    groq, openai, bad = fake.make_valid_key("groq"), fake.make_valid_key("openai"), make_key("xai")
    env = tmp_path / "prod.env"
    env.write_text(
        "# provider keys\n"
        f"export GROQ_API_KEY=\"{groq}\"\n"
        "\n"
        f"OPENAI_API_KEY='{openai}'   # the team key\n"
        f"XAI_API_KEY={bad}\n"
        "DATABASE_URL=postgres://x\n"
        "this is not an assignment\n"
        f"GROQ_API_KEY={groq}\n"
    )
    dry = run_cli(["keys", "import", str(env), "--dry-run", "--json"])
    report = json.loads(dry.out)
    fates = {f["line"]: f["fate"] for f in report["lines"]}
    assert fates == {2: "would store", 4: "would store", 5: "rejected", 6: "refused", 7: "refused", 8: "refused"}
    assert dry.code == ExitCode.AUTH and report["unknown"] == ["DATABASE_URL"]
    assert not _row("groq")["present"] and not _row("openai")["present"]

    r = run_cli(["keys", "import", str(env)])
    assert r.code == ExitCode.AUTH
    assert "Known names: OPENAI_API_KEY, ANTHROPIC_API_KEY" in r.err and "OLLAMA_HOST" in r.err
    assert "unknown name" in r.out and "already given on line 2" in r.out and "not NAME=value" in r.out
    assert _reveal("groq") == groq and _reveal("openai") == openai and not _row("xai")["present"]
    assert bad not in r.text and groq not in r.text


def test_import_clean_file_exit_0_and_unchanged_second_time(fake, tmp_path):
    write_settings(fake)
    env = tmp_path / ".env"
    env.write_text(f"GROQ_API_KEY={fake.make_valid_key('groq')}\nOLLAMA_HOST=127.0.0.1:9\n")
    r = run_cli(["keys", "import", str(env), "--no-verify"])
    assert r.code == 0, r.out + r.err
    assert _row("ollama")["url"] == "http://127.0.0.1:9"
    again = json.loads(run_cli(["keys", "import", str(env), "--no-verify", "--json"]).out)
    assert {f["fate"] for f in again["lines"]} == {"unchanged"}


def test_import_missing_file_is_a_config_error(tmp_path):
    r = run_cli(["keys", "import", str(tmp_path / "nope.env")])
    assert r.code == ExitCode.CONFIG and "no such file" in r.err
