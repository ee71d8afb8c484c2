"""The file secret backend parses its JSON once until the file changes (a fleet of N sites read it N times), and a
write by this or another process is seen at once."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=8))
@example({})
@example({"site/a": 'x",\n "y": "z', "site/b": "\\u00e9\U0001f600\t"})
def test_the_file_is_written_as_the_indented_encoder_writes_it(data):
    # the fast writer (one entry a line, by json's C encoder) writes the bytes json.dumps(indent=1) always wrote
    assert mod._dumps(data) == json.dumps(data, indent=1, sort_keys=True) + "\n"
    assert json.loads(mod._dumps(data)) == data


def test_a_write_keeps_the_format_and_reads_back(tmp_path):
    path = tmp_path / "secrets.json"
    backend = FileBackend(path)
    for i in range(3):
        backend.set(f"site/s{i}", f"pw {i}\né")
    assert backend.delete("site/s1")
    assert path.read_text() == '{\n "site/s0": "pw 0\\n\\u00e9",\n "site/s2": "pw 2\\n\\u00e9"\n}\n'
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert FileBackend(path).get("site/s2") == "pw 2\né"
    assert backend.delete("site/s0") and backend.delete("site/s2") and path.read_text() == "{}\n"


def test_a_file_that_is_no_object_of_strings_is_refused(tmp_path):
    from aimo_cli.errors import ConfigError

    path = tmp_path / "secrets.json"
    for raw in ('["site/a"]', '{"site/a": "pw", "site/b": 3}', '{"site/a": null}', '{"site/a": {"x": "y"}}'):
        path.write_text(raw)
        with pytest.raises(ConfigError, match="JSON object of strings"):
            FileBackend(path).get("site/a")
    path.write_text('{"site/a": "pw", "site/b": ""}')
    assert FileBackend(path).get("site/b") == ""
