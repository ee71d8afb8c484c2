"""stores/state.py: a site's sync-state file, read as bytes through its file descriptor (the fleet's per-site read):
what was recorded comes back, a missing file is a never-synced site, a file bigger than one read comes back whole, and
an unreadable one (bad JSON, bad UTF-8, a directory) is a ConfigError naming the file and the fix."""

from __future__ import annotations

import json

import pytest

from aimo_cli.core.sync import BaseRecord
from aimo_cli.errors import ConfigError
from aimo_cli.stores import state as state_mod
from aimo_cli.stores.state import SyncState


def test_what_was_recorded_comes_back(tmp_path):
    s = SyncState(tmp_path)
    assert s.load("shop") == {}  # never synced: no file
    s.record("shop", {"openai": BaseRecord("abc123", "••••wxyz"), "groq": BaseRecord("def456", "••••ü€")})
    assert s.load("shop") == {"openai": BaseRecord("abc123", "••••wxyz"), "groq": BaseRecord("def456", "••••ü€")}
    s.record("shop", {"openai": None})
    assert s.load("shop") == {"groq": BaseRecord("def456", "••••ü€")}
    assert s._file("a b/c") == str(tmp_path / "sync" / "a_b_c.json")  # one file per site, its name made safe


def test_a_file_bigger_than_one_read_comes_back_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(state_mod, "_CHUNK", 7)  # every file is many reads
    s = SyncState(tmp_path)
    recs = {f"p{i}": BaseRecord(f"fp{i:04d}", f"••••{i:04d}") for i in range(50)}
    s.record("big", recs)
    assert s.load("big") == recs
    exact = b'{"a": {"fingerprint": "x"}} '  # 28 bytes: four whole reads, then the end
    assert len(exact) % 7 == 0
    (tmp_path / "sync" / "exact.json").write_bytes(exact)
    assert s.load("exact") == {"a": BaseRecord("x", "")}


def test_entries_without_a_fingerprint_and_a_non_object_file_are_nothing(tmp_path):
    s = SyncState(tmp_path)
    (tmp_path / "sync").mkdir()
    (tmp_path / "sync" / "odd.json").write_text(json.dumps({"openai": {"mask": "x"}, "groq": "junk", "xai": {"fingerprint": 12}}))
    assert s.load("odd") == {"xai": BaseRecord("12", "")}
    (tmp_path / "sync" / "list.json").write_text("[1, 2]")
    assert s.load("list") == {}


@pytest.mark.parametrize("content", [b"{not json", b'{"openai": {"fingerprint": "\xff\xfe"}}', b"\xef\xbb\xbf{}", None])
def test_an_unreadable_file_names_itself_and_the_fix(tmp_path, content):
    s = SyncState(tmp_path)
    path = tmp_path / "sync" / "shop.json"
    path.parent.mkdir()
    if content is None:
        path.mkdir()  # a directory where the file should be
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        s.load("shop")
    assert str(path) in err.value.message and err.value.hint == f"Delete {path}; the next sync treats the site as never synced."
