"""The settings file: comments survive, writes are atomic and 0600, malformed files are reported and left alone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from aimo_cli.errors import ConfigError, ExitCode
from aimo_cli.stores.settings import SettingsStore, set_in

from .clihelper import run_cli


def test_edit_keeps_comments_and_order(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text(textwrap.dedent("""\
        # my fleet
        default_site = "blog"

        [sites.blog]   # the main one
        url = "https://blog.example"
        user = "admin"
        """))
    store = SettingsStore(path)
    with store.edit() as s:
        set_in(s.doc, ("providers", "groq", "base_url"), "https://gw.example/groq")
    text = path.read_text()
    assert "# my fleet" in text and "# the main one" in text
    assert text.index("[sites.blog]") < text.index("[providers.groq]")
    assert store.load().provider("groq").base_url == "https://gw.example/groq"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_malformed_file_names_line_and_column_and_is_untouched(tmp_path):
    path = tmp_path / "aimo.toml"
    bad = 'default_site = "blog"\n[sites.blog\nurl = "x"\n'
    path.write_text(bad)
    store = SettingsStore(path)
    with pytest.raises(ConfigError) as err:
        store.load()
    assert f"{path}:2:" in err.value.message
    with pytest.raises(ConfigError):
        with store.edit() as s:
            s.doc["x"] = 1
    assert path.read_text() == bad


def test_cli_malformed_settings_exit_3_no_traceback(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text("[sites.blog]\nurl = \n")
    r = run_cli(["--config", str(path), "site", "list"])
    assert r.code == ExitCode.CONFIG
    assert f"{path}:2:" in r.err and "Traceback" not in r.err
    assert path.read_text() == "[sites.blog]\nurl = \n"


def test_wrong_types_are_config_errors(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.blog]\nurl = 3\nuser = "a"\n')
    with pytest.raises(ConfigError, match="sites.blog.url"):
        SettingsStore(path).load().sites()
    path.write_text('[providers.nope]\nbase_url = "http://x"\n')
    with pytest.raises(ConfigError, match="unknown provider"):
        SettingsStore(path).load().validate()


def test_failed_validation_writes_nothing(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.blog]\nurl = "https://b.example"\nuser = "a"\n')
    before = path.read_text()
    with pytest.raises(ConfigError):
        with SettingsStore(path).edit() as s:
            s.doc["sites"]["blog"]["url"] = 5
    assert path.read_text() == before


def test_concurrent_writers_do_not_lose_updates(tmp_path):
    """Two processes adding 40 providers' tables each through edit(): every entry survives (the lock serialises them)."""
    path = tmp_path / "aimo.toml"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from aimo_cli.stores.settings import SettingsStore, set_in
        store = SettingsStore(Path({str(path)!r}))
        tag = sys.argv[1]
        for i in range(40):
            with store.edit() as s:
                set_in(s.doc, ("sites", f"{{tag}}{{i}}"), {{"url": "https://x.example", "user": "u"}})
        """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tag]) for tag in ("a", "b")]
    assert [p.wait(60) for p in procs] == [0, 0]
    sites = SettingsStore(path).load().sites()
    assert len(sites) == 80


def test_kill_during_writes_leaves_old_or_new_file(tmp_path):
    """kill -9 in the middle of a stream of writes: the file always parses and is one complete version."""
    import signal
    import time

    path = tmp_path / "aimo.toml"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from aimo_cli.stores.settings import SettingsStore, set_in
        store = SettingsStore(Path({str(path)!r}))
        i = 0
        while True:
            i += 1
            with store.edit() as s:
                set_in(s.doc, ("sites", "blog"), {{"url": "https://x.example", "user": "u" * (i % 5000 + 1)}})
        """)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 60  # a loaded machine may take a while to start Python and write once
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        site = SettingsStore(path).load().sites()["blog"]
        assert set(site.user) == {"u"}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 5  # a killed writer may leave its temp file; the real file is intact
