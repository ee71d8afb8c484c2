"""Every command's machine output against its documented shape (aimo_cli/ui/shapes.py, from which docs/json.md is
generated): each command runs with `--format json` — locally against the loopback fake, and against the real test site
with the real bridge for the commands that talk to a site — and its document must match the schema exactly (closed
objects: an undocumented field fails). Plus the envelope (errors as documents, conflicting flags), YAML = JSON, and
CSV with snake_case headers and raw values.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import yaml

from aimo_cli.core.exits import ExitCode
from aimo_cli.ui import shapes
from aimo_cli.ui.formats import SCHEMA_VERSION

from .clihelper import run_cli
from .fakeenv import write_settings
from .schemacheck import errors
from .secrets_registry import make_key

GLYPHS = ("\u2022", "\u2192", "[/", "[bold")


def checked(command: str, args: list[str], *, code: int = 0, stdin: str = "") -> dict:
    """Run `aimo ARGS --format json`, assert the exit code, and check the document against `command`'s schema."""
    r = run_cli([*args, "--format", "json"], stdin=stdin)
    assert r.code == code, f"{args}: exit {r.code}\n{r.text}"
    doc = json.loads(r.out)
    assert list(doc)[0] == "schema_version" and doc["schema_version"] == SCHEMA_VERSION
    problems = errors(doc, shapes.schema(command))
    assert not problems, f"aimo {' '.join(args)} does not match docs/json.md ({command}):\n" + "\n".join(problems[:20])
    glyphs = [v for v in _values(doc) if any(g in v for g in GLYPHS[:2])]
    assert not glyphs, f"display glyphs in the raw values of {args}: {glyphs[:5]}"
    COVERED.add(command)
    return doc


PROSE = {"message", "hint", "reason", "detail", "notes", "mode_note", "error", "warnings", "description"}  # sentences for people


def _values(doc, key: str = ""):
    """Every string value of a document outside the prose fields (which may quote a masked key, as the table does)."""
    if key in PROSE:
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _values(v, k)
    elif isinstance(doc, list):
        for v in doc:
            yield from _values(v, key)
    elif isinstance(doc, str):
        yield doc


COVERED: set[str] = set()

# which test runs each documented command (the table must name every command of shapes.COMMANDS)
LOCAL = {
    "keys set", "keys list", "keys get", "keys rm", "keys previous", "keys restore", "keys import", "keys path", "keys backend", "keys rotate",
    "keys verify", "models refresh", "models list", "models show", "site add", "site list", "site use", "site rm", "log", "doctor", "bridge zip",
    "bridge install", "completion install",
}
ON_SITE = {
    "site test", "connectors list", "connectors enable", "connectors takeover", "connectors clear", "connectors stop", "mode", "sync status",
    "sync push", "sync pull", "models set", "models auto", "bridge status", "bridge activate", "bridge base-url",
}


def _leaf_commands() -> dict[str, set[str]]:
    """Every command of the CLI (words after `aimo`) → its option names."""
    from aimo_cli.clidocs import build_tree, walk

    return {" ".join(path): {n for o in node.get("options", []) for n in o["names"]} for path, node in walk(build_tree()["command"]) if path and not node.get("commands")}


def test_every_command_is_documented_and_takes_both_options():
    commands = _leaf_commands()
    for name, options in commands.items():
        if name in shapes.NO_FORMAT:
            assert "--format" not in options and "--json" not in options, name
            continue
        assert {"--format", "--json"} <= options, f"aimo {name} lacks --format/--json"
        assert name in shapes.COMMANDS, f"aimo {name} has machine output but no documented shape (aimo_cli/ui/shapes.py)"
    assert set(shapes.COMMANDS) | set(shapes.NO_FORMAT) == set(commands)
    assert LOCAL | ON_SITE == set(shapes.COMMANDS), set(shapes.COMMANDS) ^ (LOCAL | ON_SITE)  # every shape is exercised below


def test_docs_json_md_is_generated_from_the_shapes():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "json.md").read_text(encoding="utf-8")
    assert text == shapes.render_markdown(), "docs/json.md is stale: run scripts/gen-cli-docs"
    for command in shapes.COMMANDS:
        assert f"### `aimo {command}`" in text


def test_local_commands_match_their_shapes(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    monkeypatch.delenv("BASH_COMPLETION_USER_DIR", raising=False)
    write_settings(fake)
    g1, g2, o1 = fake.make_valid_key("groq"), fake.make_valid_key("groq"), fake.make_valid_key("openai")
    doc = checked("keys set", ["keys", "set", "groq", "--stdin"], stdin=g1)
    assert doc["key"]["last4"] == g1[-4:] and doc["key"]["present"] is True and doc["replaced"] == []
    checked("keys set", ["keys", "set", "openai", "--stdin"], stdin=o1)
    doc = checked("keys set", ["keys", "set", "groq", "--stdin"], stdin=g2)
    assert [d["last4"] for d in doc["replaced"]] == [g1[-4:]]
    doc = checked("keys list", ["keys", "list"])
    assert {k["provider"]: k["pool_size"] for k in doc["keys"]}["groq"] == 1
    assert checked("keys get", ["keys", "get", "groq"])["key"]["fingerprint"]
    prev = checked("keys previous", ["keys", "previous", "groq"])["previous"]
    assert prev[0]["last4"] == g1[-4:] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prev[0]["replaced_at"])
    assert checked("keys restore", ["keys", "restore", "groq", "1"])["key"]["last4"] == g1[-4:]
    env = tmp_path / "keys.env"
    env.write_text(f"GROQ_API_KEY={g1}\nDATABASE_URL=x\n")
    doc = checked("keys import", ["keys", "import", str(env), "--dry-run"], code=ExitCode.USAGE)  # an unknown name is refused
    assert doc["dry_run"] is True and doc["unknown"] == ["DATABASE_URL"]
    checked("keys path", ["keys", "path"])
    assert checked("keys backend", ["keys", "backend"])["backend"] == "memory"
    assert checked("keys verify", ["keys", "verify"])["exit_code"] == 0
    doc = checked("keys rotate", ["keys", "rotate", "groq", "--stdin"], stdin=g2)  # no site configured: the local key only
    assert doc["sites"] == [] and doc["key"]["last4"] == g2[-4:]
    doc = checked("keys rm", ["keys", "rm", "openai", "--yes"])
    assert doc["removed"][0]["pool_size"] == 1 and doc["removed"][0]["previous_removed"] == 0
    doc = checked("models refresh", ["models", "refresh", "groq"])
    assert doc["results"][0]["status"] == "updated"
    models = checked("models list", ["models", "list", "--provider", "groq", "--all"])["models"]
    assert models and checked("models show", ["models", "show", f"groq:{models[0]['id']}"])["model"]["id"] == models[0]["id"]
    doc = checked("site add", ["site", "add", "blog", "http://127.0.0.1:9", "--user", "admin", "--stdin", "--no-verify", "--default"], stdin="pw pw pw")
    assert doc["site"]["name"] == "blog" and doc["test"] is None
    assert checked("site list", ["site", "list"])["default_site"] == "blog"
    assert checked("site use", ["site", "use", "blog"]) == {"schema_version": SCHEMA_VERSION, "default_site": "blog", "previous": "blog", "changed": False, "dry_run": False}
    doc = checked("log", ["log", "--local"])
    assert [e["action"] for e in doc["events"]] == [] and doc["exit_code"] == 0
    doc = checked("doctor", ["doctor", "--offline", "blog"], code=ExitCode.REMOTE)
    assert doc["exit_code"] == ExitCode.REMOTE and doc["sites"] == ["blog"]
    assert checked("site rm", ["site", "rm", "blog", "--yes"])["removed"]["name"] == "blog"
    zip_doc = checked("bridge zip", ["bridge", "zip", "-o", str(tmp_path / "b.zip")])
    assert (tmp_path / "b.zip").is_file() and zip_doc["version"]
    wp = tmp_path / "wp"
    (wp / "wp-includes").mkdir(parents=True)
    (wp / "wp-includes" / "version.php").write_text("<?php\n")
    (wp / "wp-content").mkdir()
    (wp / "wp-load.php").write_text("<?php\n")
    assert checked("bridge install", ["bridge", "install", "--wp-path", str(wp)])["previous_version"] is None
    assert checked("completion install", ["completion", "install", "bash"])["result"] == "installed"
    # --dry-run: the same shapes, saying so, and nothing written
    doc = checked("keys set", ["keys", "set", "groq", "--stdin", "--dry-run"], stdin=g1)
    assert doc["dry_run"] is True and doc["changed"] is True and doc["key"]["last4"] == g1[-4:]
    assert checked("keys get", ["keys", "get", "groq"])["key"]["last4"] == g2[-4:]
    doc = checked("keys set", ["keys", "set", "groq", "--stdin"], stdin=g2)  # the key already stored: a no-op
    assert doc["changed"] is False and doc["dry_run"] is False
    assert checked("keys rm", ["keys", "rm", "groq", "--dry-run"])["dry_run"] is True and checked("keys list", ["keys", "list"])["keys"]
    assert checked("bridge install", ["bridge", "install", "--wp-path", str(wp), "--dry-run"])["dry_run"] is True
    doc = checked("completion install", ["completion", "install", "zsh", "--dry-run"])
    assert doc["result"] == "would install" and doc["dry_run"] is True
    assert COVERED >= LOCAL, LOCAL - COVERED


@pytest.mark.wordpress
def test_site_commands_match_their_shapes(cli_site):
    site = cli_site
    groq = site.fake.make_valid_key("groq")
    checked("keys set", ["keys", "set", "groq", "--stdin"], stdin=groq)
    doc = checked("site test", ["site", "test", "local"], code=0)
    assert doc["bridge"] is True and doc["exit_code"] == 0
    view = checked("connectors list", ["connectors", "list", "local"])
    assert view["mode"] == "observe" and {c["provider"]: c for c in view["connectors"]}["groq"]["local_last4"] == groq[-4:]
    assert checked("mode", ["mode", "local"])["mode"] == "observe"
    doc = checked("connectors enable", ["connectors", "enable", "local"])
    assert doc["mode_change"] == {"site": "local", "previous": "observe", "mode": "managed", "demoted": [], "changed": True, "dry_run": False}  # issue 16: it was missing
    assert {p["provider"]: p for p in doc["sites"][0]["providers"]}["groq"]["outcome"] == "stored"
    assert checked("sync status", ["sync", "status", "local"])["exit_code"] == 0
    assert checked("sync push", ["sync", "push", "local"])["exit_code"] == 0
    assert checked("sync pull", ["sync", "pull", "local"])["exit_code"] == 0
    doc = checked("mode", ["mode", "observe", "local", "--dry-run"])
    assert doc == {"schema_version": SCHEMA_VERSION, "site": "local", "previous": "managed", "mode": "observe", "demoted": [], "changed": True, "dry_run": True}
    assert checked("mode", ["mode", "observe", "local"])["previous"] == "managed"
    assert checked("connectors takeover", ["connectors", "takeover", "local"])["mode_change"]["mode"] == "managed"
    checked("keys verify", ["keys", "verify", "groq"])
    model = next(m for m in checked("models list", ["models", "list", "--provider", "groq", "--type", "text"])["models"] if not m["retired"])
    doc = checked("models set", ["models", "set", "text", f"groq:{model['id']}", "local"])
    assert doc["model"] == f"groq:{model['id']}" and doc["kind"] == "text"
    assert checked("models auto", ["models", "auto", "text", "local"])["model"] is None
    doc = checked("bridge status", ["bridge", "status", "local"])
    assert doc["site"] == "local" and doc["mode"] == "managed"
    assert checked("bridge activate", ["bridge", "activate", "local"])["status"] == "active"
    url = site.fake.base_url("groq")
    assert checked("bridge base-url", ["bridge", "base-url", "groq", url, "local"])["base_url"] == url.rstrip("/")
    doc = checked("keys rotate", ["keys", "rotate", "groq", "local", "--stdin"], stdin=site.fake.make_valid_key("groq"))
    assert {p["provider"]: p for p in doc["sites"][0]["providers"]}["groq"]["outcome"] == "stored"
    events = checked("log", ["log", "local", "--provider", "groq"])["events"]
    assert any(e["origin"] == "site" for e in events) and any(e["action"] == "rotate" for e in events)
    doc = checked("doctor", ["doctor", "local", "--offline"], code=0)
    assert doc["sites"] == ["local"] and doc["exit_code"] == 0
    doc = checked("connectors clear", ["connectors", "clear", "groq", "local", "--yes"])
    assert {p["provider"]: p for p in doc["sites"][0]["providers"]}["groq"]["outcome"] == "cleared"
    assert checked("connectors stop", ["connectors", "stop", "local"])["mode"] == "observe"
    doc = checked("site add", ["site", "add", "again", site.url, "--user", site.wp.admin_user, "--stdin"], stdin=site.wp.admin_app_password)
    assert doc["same_wordpress_as"] == ["local"] and doc["test"]["bridge"] is True
    assert COVERED >= ON_SITE, ON_SITE - COVERED


@pytest.mark.wordpress
def test_yaml_is_the_json_document_and_csv_is_raw(cli_site):
    key = cli_site.fake.make_valid_key("groq")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=key).code == 0
    for args in (["connectors", "list", "local", "--no-check"], ["keys", "list"], ["site", "list"]):
        as_json = json.loads(run_cli([*args, "--json"]).out)
        r = run_cli([*args, "--format", "yaml"])
        assert r.code == 0 and yaml.safe_load(r.out) == as_json, r.out
        assert r.out.startswith(f"schema_version: {SCHEMA_VERSION}\n")
        r = run_cli([*args, "--format", "csv"])
        rows = list(csv.reader(io.StringIO(r.out)))
        assert r.code == 0 and len(rows) > 1
        assert all(re.fullmatch(r"[a-z0-9_]+", h) for h in rows[0]), rows[0]
        assert not any(g in r.out for g in GLYPHS), r.out
    rows = list(csv.DictReader(io.StringIO(run_cli(["connectors", "list", "local", "--no-check", "--format", "csv"]).out)))
    groq = next(r for r in rows if r["provider"] == "groq")
    assert groq["site"] == "local" and groq["local_last4"] == key[-4:]
    rows = list(csv.DictReader(io.StringIO(run_cli(["site", "list", "--format", "csv"]).out)))
    assert rows == [{"name": "local", "url": cli_site.url, "user": cli_site.wp.admin_user, "group": "", "default": "true", "password_stored": "true"}]


# -- the envelope: errors as documents, the exit code unchanged ---------------------------------------------------------


@pytest.mark.parametrize(
    "args, code, kind",
    [
        (["site", "use", "nosuch", "--json"], ExitCode.USAGE, "usage"),
        (["keys", "import", "/nonexistent/keys.env", "--json"], ExitCode.CONFIG, "config"),
        (["keys", "get", "groq", "--format", "json"], ExitCode.AUTH, "auth"),
        (["keys", "list", "--bogus", "--json"], ExitCode.USAGE, "usage"),
        (["site", "test", "down", "--json"], ExitCode.REMOTE, "remote"),
    ],
)
def test_errors_are_documents_on_stdout_with_the_same_exit_code(args, code, kind):
    if "down" in args:
        assert run_cli(["site", "add", "down", "http://127.0.0.1:9", "--user", "u", "--stdin", "--no-verify"], stdin="pw").code == 0
    r = run_cli(args)
    assert r.code == code, r.text
    doc = json.loads(r.out)
    assert not errors(doc, shapes.error_schema()), doc
    assert doc["error"]["kind"] == kind and doc["error"]["exit_code"] == code and doc["error"]["message"]
    assert "Error: " in r.err  # people reading a CI log still see it


def test_an_error_under_yaml_is_a_yaml_document():
    r = run_cli(["site", "use", "nosuch", "--format", "yaml"])
    assert r.code == ExitCode.USAGE
    doc = yaml.safe_load(r.out)
    assert not errors(doc, shapes.error_schema()) and "nosuch" in doc["error"]["message"]


@pytest.mark.parametrize("args", [["keys", "list", "--json", "--format", "csv"], ["doctor", "--offline", "--json", "--format", "yaml"], ["sync", "status", "--format", "xml"]])
def test_conflicting_or_unknown_formats_are_usage_errors(args):
    r = run_cli(args)
    assert r.code == ExitCode.USAGE, r.text
    assert r.out == "" or "doctor" in args, r.out  # no document when the format itself is in question
    assert "--format" in r.err


def test_json_and_format_json_agree():
    k = make_key("gsk")
    run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
    assert run_cli(["keys", "list", "--json"]).out == run_cli(["keys", "list", "--format", "json"]).out == run_cli(["keys", "list", "--json", "--format", "JSON"]).out
