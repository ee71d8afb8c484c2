"""Issue 15 item 8: the settings writer never corrupts a valid file, whatever TOML style the admin wrote it in.

Every write is re-parsed by tomllib (not by the editor that wrote it) and must say exactly what was meant, with
nothing outside the edited table changed; otherwise the command refuses and the file stays byte for byte the same.
"""

from __future__ import annotations

import copy
import os
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimo_cli.errors import ConfigError, ExitCode

from .clihelper import run_cli

DOTTED_ROOT = """\
default_site = "shop"
sites.shop.url = "https://shop.example"
sites.shop.user = "admin"
sites.shop.group = "prod"

[providers.groq]
base_url = "https://gw.example/groq"
"""


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aimo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_site_add_into_dotted_keys_keeps_every_site_intact(tmp_path):
    """The issue's file: `site add` used to put [sites.shop2] between shop's dotted keys, and shop lost its user."""
    path = _config(tmp_path, DOTTED_ROOT)
    r = run_cli(["--config", path, "site", "add", "shop2", "http://127.0.0.1:9", "--user", "bob", "--stdin", "--no-verify"], stdin="abcd efgh ijkl mnop")
    assert r.code == 0, r.err
    data = tomllib.loads(path.read_text())
    assert data["sites"]["shop"] == {"url": "https://shop.example", "user": "admin", "group": "prod"}
    assert data["sites"]["shop2"] == {"url": "http://127.0.0.1:9", "user": "bob"}
    assert data["providers"] == {"groq": {"base_url": "https://gw.example/groq"}}
    assert run_cli(["--config", path, "site", "list"]).code == 0


STYLES = {
    "tables": '[sites.{n}]\nurl = "{u}"\nuser = "{w}"\n',
    "tables-comment": '# site {n}\n[sites.{n}]  # hand-written\nurl = "{u}"   # home\nuser = "{w}"\n',
    "inline-per-site": '[sites]\n{n} = {{ url = "{u}", user = "{w}" }}\n',
    "dotted-in-sites": '[sites]\n{n}.url = "{u}"\n{n}.user = "{w}"\n',
    "dotted-root": 'sites.{n}.url = "{u}"\nsites.{n}.user = "{w}"\n',
}
OTHER = '[providers.groq]\nbase_url = "https://gw.example/groq"  # gateway\n\n[wordpress.models]\ntext = "groq:llama"\n'


def _document(style: str, names: list[str], other_first: bool, default: str | None) -> str:
    head = f'default_site = "{default}"\n' if default else ""
    body = ""
    if style in ("inline-per-site", "dotted-in-sites"):
        tmpl = STYLES[style].split("\n", 1)[1]
        body = "[sites]\n" + "".join(tmpl.format(n=n, u=f"https://{n}.example", w="admin") for n in names)
    elif style == "dotted-root":
        head += "".join(STYLES[style].format(n=n, u=f"https://{n}.example", w="admin") for n in names)
    else:
        body = "\n".join(STYLES[style].format(n=n, u=f"https://{n}.example", w="admin") for n in names)
    if style == "dotted-root":
        return head + "\n" + OTHER
    if other_first and body:
        # out of order: the other tables come first and one site table is split after them
        return head + "\n" + OTHER + "\n" + body
    return head + "\n" + body + "\n" + OTHER


def _apply(op: str, name: str, tmp: Path):
    from aimo_cli.context import AppContext

    os.environ["AIMO_CONFIG"] = str(tmp / "aimo.toml")
    site_op(AppContext(), op, name)


def site_op(ctx, op: str, name: str, **add) -> None:
    """`site add` (a new site; `add` more options), `site add --force` ("replace"), `site rm` or `site use`."""
    from aimo_cli.services import sites

    if op == "add":
        sites.add_site(ctx, name, f"https://{name}.example", "carol", "abcd efgh ijkl mnop", verify=False, **add)
    elif op == "replace":
        sites.add_site(ctx, name, f"https://{name}.example/new", "dave", "abcd efgh ijkl mnop", verify=False, force=True)
    elif op == "rm":
        sites.remove_site(ctx, name)
    elif op == "use":
        sites.use_site(ctx, name)


def _expected(before: dict, op: str, name: str) -> dict:
    data = copy.deepcopy(before)
    sites_ = data.setdefault("sites", {})
    if op == "add":
        sites_[name] = {"url": f"https://{name}.example", "user": "carol"}
        data.setdefault("default_site", name)
    elif op == "replace":
        sites_[name] = {"url": f"https://{name}.example/new", "user": "dave"}
        data.setdefault("default_site", name)
    elif op == "rm":
        del sites_[name]
        if data.get("default_site") == name:
            del data["default_site"]
    elif op == "use":
        data["default_site"] = name
    return data


def _pruned(data):
    """An empty table says nothing: `[sites]` with no site left may or may not be written."""
    if isinstance(data, dict):
        return {k: v for k, v in ((k, _pruned(v)) for k, v in data.items()) if v != {}}
    return data


def _check(style: str, names: list[str], other_first: bool, default: str | None, op: str, target: str) -> str:
    """Run one edit; return "ok" or "refused" (and prove the file is then byte-identical)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        text = _document(style, names, other_first, default)
        (tmp / "aimo.toml").write_text(text, encoding="utf-8")
        before = tomllib.loads(text)
        try:
            _apply(op, target, tmp)
        except ConfigError as exc:
            assert (tmp / "aimo.toml").read_text(encoding="utf-8") == text, "a refused edit changed the file"
            assert "left untouched" in exc.message or "no site named" in exc.message
            return "refused"
        after = tomllib.loads((tmp / "aimo.toml").read_text(encoding="utf-8"))
        assert _pruned(after) == _pruned(_expected(before, op, target)), f"{style} {op} {target}:\n{text}\n---\n{(tmp / 'aimo.toml').read_text()}"
        return "ok"


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("op", ["add", "replace", "rm", "use"])
def test_every_style_is_edited_correctly(style, op, monkeypatch):
    monkeypatch.delenv("AIMO_CONFIG", raising=False)
    target = "new" if op == "add" else "b"
    assert _check(style, ["a", "b"], False, "a", op, target) == "ok"
    assert _check(style, ["a", "b"], True, None, op, target) == "ok"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    style=st.sampled_from(sorted(STYLES)),
    names=st.lists(st.sampled_from(["a", "b", "shop", "blog", "eu-1"]), min_size=1, max_size=4, unique=True),
    other_first=st.booleans(),
    default=st.booleans(),
    op=st.sampled_from(["add", "replace", "rm", "use"]),
    pick=st.integers(min_value=0, max_value=3),
)
def test_generated_styles_never_corrupt(monkeypatch, style, names, other_first, default, op, pick):
    monkeypatch.delenv("AIMO_CONFIG", raising=False)
    target = "new-site" if op == "add" else names[pick % len(names)]
    assert _check(style, names, other_first, names[0] if default else None, op, target) in ("ok", "refused")


def test_a_write_that_would_change_other_tables_is_refused_and_the_file_untouched(tmp_path):
    from aimo_cli.stores.settings import SettingsStore, set_in

    path = _config(tmp_path, DOTTED_ROOT)
    store = SettingsStore(path)
    with pytest.raises(ConfigError) as err:
        with store.edit(scope=(("sites", "shop2"),)) as s:
            set_in(s.doc, ("providers", "groq", "base_url"), "https://elsewhere.example")  # outside the scope
    assert "left untouched" in err.value.message and err.value.code == ExitCode.CONFIG
    assert path.read_text() == DOTTED_ROOT


def test_a_render_that_does_not_read_back_is_refused(tmp_path, monkeypatch):
    from aimo_cli.stores import settings as settings_mod

    path = _config(tmp_path, DOTTED_ROOT)
    monkeypatch.setattr("tomlkit.dumps", lambda doc: DOTTED_ROOT.replace('user = "admin"', 'user = "mallory"'))
    with pytest.raises(ConfigError):
        with settings_mod.SettingsStore(path).edit() as s:
            s.doc["default_site"] = "shop"
    assert path.read_text() == DOTTED_ROOT
