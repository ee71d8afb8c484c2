"""The settings read path (issue 17 item 4): stdlib tomllib, parsed once per command, re-read when the file changes,
the same errors as before (line and column), and tomlkit still keeps comments on writes."""

from __future__ import annotations

import os

import pytest

from aimo_cli.errors import ConfigError
from aimo_cli.stores import settings as settings_mod
from aimo_cli.stores.settings import SettingsStore, set_in


def write(path, text):
    path.write_text(text)


def test_parsed_once_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "aimo.toml"
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = "admin"\n')
    calls = []
    real = settings_mod._parse_fast
    monkeypatch.setattr(settings_mod, "_parse_fast", lambda p, t: calls.append(1) or real(p, t))
    store = SettingsStore(path)
    for _ in range(5):
        assert list(store.load().sites()) == ["a"]
    assert len(calls) == 1
    # another process changes the file: the next read sees it
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = "admin"\n[sites.b]\nurl = "https://b.example"\nuser = "admin"\n')
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert list(store.load().sites()) == ["a", "b"]
    assert len(calls) == 2


def test_reads_use_tomllib_not_tomlkit(tmp_path, monkeypatch):
    path = tmp_path / "aimo.toml"
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = "admin"\n')

    def boom(*a, **k):
        raise AssertionError("tomlkit parsed a file that was only read")

    monkeypatch.setattr(settings_mod, "_parse", boom)
    s = SettingsStore(path).load()
    assert type(s.doc) is dict
    assert s.sites()["a"].url == "https://a.example"


def test_an_edit_invalidates_the_kept_copy_and_keeps_comments(tmp_path):
    path = tmp_path / "aimo.toml"
    write(path, '# my fleet\n[sites.a] # first\nurl = "https://a.example"\nuser = "admin"\n')
    store = SettingsStore(path)
    assert list(store.load().sites()) == ["a"]
    with store.edit() as s:
        set_in(s.doc, ("sites", "a", "group"), "prod")
    assert store.load().sites()["a"].group == "prod"
    assert "# my fleet" in path.read_text() and "# first" in path.read_text()


def test_syntax_errors_keep_line_and_column(tmp_path):
    path = tmp_path / "aimo.toml"
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = \n')
    with pytest.raises(ConfigError) as exc:
        SettingsStore(path).load()
    assert f"{path}:3:" in exc.value.message and "not valid TOML" in exc.value.message


def test_sites_of_a_read_view_cannot_be_changed_by_a_caller(tmp_path):
    path = tmp_path / "aimo.toml"
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = "admin"\n')
    store = SettingsStore(path)
    store.load().sites().pop("a")
    assert "a" in store.load().sites()


def test_a_site_entry_as_aimo_writes_it_reads_as_every_entry_is_checked(tmp_path, monkeypatch):
    """Settings._site_config builds an entry of known keys and text values without its checks: the same SiteConfig
    as the checked path; anything else (another key, a value that is not text, a key missing) still takes the checks,
    with their errors."""
    from aimo_cli.stores.settings import SiteConfig

    path = tmp_path / "aimo.toml"
    write(path, '[sites.a]\nurl = "https://a.example"\nuser = "admin"\n')
    view = SettingsStore(path).load()
    tables = [
        {"url": "https://a.example", "user": "admin"},
        {"url": "https://a.example", "user": "admin", "group": "prod", "rest_root": "https://a.example/?rest_route=/", "ca_bundle": "/ca.pem"},
        {"url": "https://a.example", "user": "admin", "colour": "blue"},  # a key of its own: into extra
        {"url": "https://a.example", "user": "admin", "group": 3},
        {"url": "https://a.example"},
        {"user": "admin", "url": True},
    ]
    for table in tables:
        try:
            checked = SiteConfig(
                name="a", url=view._str(table, "url", "sites.a", True), user=view._str(table, "user", "sites.a", True), group=view._str(table, "group", "sites.a"),
                rest_root=view._str(table, "rest_root", "sites.a"), ca_bundle=view._str(table, "ca_bundle", "sites.a"), extra={k: v for k, v in table.items() if k not in ("url", "user", "group", "rest_root", "ca_bundle")},
            )
        except ConfigError as exc:
            with pytest.raises(ConfigError) as raised:
                view._site_config("a", table)
            assert raised.value.message == exc.message and raised.value.hint == exc.hint
            continue
        got = view._site_config("a", table)
        assert got == checked and type(got) is SiteConfig and got.__dict__ == checked.__dict__
        with pytest.raises(AttributeError):
            got.url = "https://elsewhere.example"  # (still frozen)
