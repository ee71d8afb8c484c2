"""The file secret backend parses its JSON once until the file changes (a fleet of N sites read it N times), and a
write by this or another process is seen at once."""

from __future__ import annotations

import json
import os

from aimo_cli.stores import secrets as mod
from aimo_cli.stores.secrets import FileBackend


def test_parsed_once_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({f"site/s{i}": f"pw{i}" for i in range(100)}))
    os.chmod(path, 0o600)
    loads = []
    real = mod.json.loads
    monkeypatch.setattr(mod.json, "loads", lambda raw: loads.append(1) or real(raw))
    backend = FileBackend(path)
    assert [backend.get(f"site/s{i}") for i in range(100)] == [f"pw{i}" for i in range(100)]
    assert len(loads) == 1
    backend.set("site/s1", "changed")  # our own write
    assert backend.get("site/s1") == "changed"
    other = FileBackend(path)  # another process's write
    other.set("site/s2", "by-another")
    assert backend.get("site/s2") == "by-another"
    assert backend.delete("site/s3") and backend.get("site/s3") is None
