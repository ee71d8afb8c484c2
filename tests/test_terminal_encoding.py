"""Output on terminals and pipes that are not UTF-8 (issue 16 item 3): ASCII stand-ins, never a crash.

Before: `keys list` and `keys get` died with UnicodeEncodeError on `••••` under an ASCII or Latin-1 encoding.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .secrets_registry import make_key


def _aimo(tmp_path, args, stdin="", encoding=None):
    env = dict(os.environ)
    env.update({"AIMO_CONFIG": str(tmp_path / "aimo.toml"), "AIMO_KEYRING": "file", "AIMO_SECRETS_FILE": str(tmp_path / "s.json")})
    if encoding:
        env["PYTHONIOENCODING"] = encoding
    return subprocess.run([sys.executable, "-m", "aimo_cli", *args], input=stdin, capture_output=True, env=env, timeout=60)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_keys_list_and_get_fall_back_to_ascii(tmp_path, encoding):
    key = make_key("sk-test")
    stored = _aimo(tmp_path, ["keys", "set", "openai", "--stdin", "--no-verify"], stdin=key.encode())
    if stored.returncode == 2 and b"--no-verify" in stored.stderr:  # before keys set verified by default
        stored = _aimo(tmp_path, ["keys", "set", "openai", "--stdin"], stdin=key.encode())
    assert stored.returncode == 0, stored.stderr
    for args in (["keys", "list"], ["keys", "get", "openai"]):
        r = _aimo(tmp_path, args, encoding=encoding)
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode(encoding)
        assert "****" + key[-4:] in out
        assert "Traceback" not in r.stderr.decode(encoding, "replace")
        assert key.encode() not in r.stdout + r.stderr


def test_fallback_table_covers_every_glyph_aimo_prints():
    """Every non-ASCII character in aimo's own messages has a readable stand-in (not `?`)."""
    import pathlib
    import re

    from aimo_cli.ui.glyphs import FALLBACK

    root = pathlib.Path(__file__).resolve().parent.parent / "aimo_cli"
    seen: set[str] = set()
    for path in root.rglob("*.py"):
        if path.name in ("glyphs.py", "clidocs.py"):
            continue
        for ch in re.findall(r"[^\x00-\x7f]", path.read_text(encoding="utf-8")):
            seen.add(ch)
    missing = sorted(ch for ch in seen if ch not in FALLBACK)
    assert not missing, f"add ASCII stand-ins to aimo_cli/ui/glyphs.py for: {missing}"


def test_utf8_output_is_untouched(tmp_path):
    key = make_key("sk-test")
    _aimo(tmp_path, ["keys", "set", "openai", "--stdin"], stdin=key.encode())
    r = _aimo(tmp_path, ["keys", "get", "openai"], encoding="utf-8")
    assert "••••" + key[-4:] in r.stdout.decode()
