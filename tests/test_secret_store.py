"""Secret backends: file fallback (0600, atomic, announced once), memory, forced selection, env overrides."""

from __future__ import annotations

import json
import os
import stat

import pytest

from aimo_cli.errors import ConfigError
from aimo_cli.stores.secrets import FileBackend, MemoryBackend, open_backend

from .clihelper import run_cli
from .secrets_registry import make_key


def test_file_backend_roundtrip_and_mode(tmp_path):
    b = FileBackend(tmp_path / "d" / "secrets.json")
    key = make_key()
    b.set("provider/groq", key)
    assert b.get("provider/groq") == key
    assert stat.S_IMODE(os.stat(b.path).st_mode) == 0o600
    assert b.delete("provider/groq") and not b.delete("provider/groq")
    assert json.loads(b.path.read_text()) == {}


def test_corrupt_secret_file_is_config_error_and_untouched(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    b = FileBackend(path)
    with pytest.raises(ConfigError, match="not valid JSON"):
        b.set("provider/groq", "x" * 20)
    assert path.read_text() == "{not json"


def test_headless_auto_falls_back_to_file_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.delenv("AIMO_KEYRING")
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    notes: list[str] = []
    b = open_backend(tmp_path / "secrets.json", notice=notes.append)
    assert b.name == "file"
    open_backend(tmp_path / "secrets.json", notice=notes.append)
    assert len(notes) == 1 and "secrets.json" in notes[0]


def test_forced_system_without_keyring_is_config_error(tmp_path, monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    monkeypatch.setenv("AIMO_KEYRING", "system")
    with pytest.raises(ConfigError, match="no usable OS keyring"):
        open_backend(tmp_path / "s.json")
    monkeypatch.setenv("AIMO_KEYRING", "bogus")
    with pytest.raises(ConfigError, match="not a secret backend"):
        open_backend(tmp_path / "s.json")


def test_keys_backend_and_path_commands(monkeypatch):
    r = run_cli(["keys", "backend"])
    assert r.code == 0 and r.out.startswith("memory:")
    monkeypatch.setenv("AIMO_KEYRING", "file")
    r = run_cli(["keys", "path"])
    assert r.code == 0 and "secrets.json" in r.out and "aimo.toml" in r.out


def test_memory_backend_is_isolated_per_test():
    assert MemoryBackend._data == {}
