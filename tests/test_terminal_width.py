"""Tables on a narrow terminal (issue 16 item 3): the id column is never cut; other columns wrap, then drop.

Before: at COLUMNS=40 every column of `connectors list` was cut to 2-3 characters, the provider id included.
Run on a real pseudo-terminal of 40 columns, so Rich measures the width as it would for a person.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time

from .secrets_registry import make_key

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_pty(args: list[str], env: dict, cols: int = 40) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "aimo_cli", *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r", "")


def test_keys_list_fits_forty_columns_and_keeps_ids_whole(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update({"AIMO_CONFIG": str(tmp_path / "aimo.toml"), "AIMO_KEYRING": "file", "AIMO_SECRETS_FILE": str(tmp_path / "s.json"), "TERM": "xterm"})
    key = make_key("hf_")
    subprocess.run([sys.executable, "-m", "aimo_cli", "keys", "set", "huggingface", "--stdin", "--no-verify"], input=key, text=True, env=env, capture_output=True, timeout=60)
    text = _on_pty(["keys", "list"], env)
    table = [line for line in text.splitlines() if line.startswith(("│", "┃", "┏", "└", "┡"))]
    assert table, text
    assert max(len(line) for line in table) <= 40, text
    ids = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│") and line.split("│")[1].strip()]
    assert "huggingface" in ids and "openai" in ids, text  # whole ids, never "hu…" or "hug/gin/gfa/ce"
    assert "not shown at this width" in text  # what was dropped is said, with the way to see it
    assert key not in text


def test_fit_columns_drops_from_the_right_and_never_the_id():
    from aimo_cli.ui.output import fit_columns

    cols = ["provider", "status", "key", "pool", "fingerprint"]
    rows = [["huggingface", "Connected", "****abcd", "2", "3be7459a29f8"]]
    keep, natural = fit_columns(cols, rows, 200)
    assert keep == [0, 1, 2, 3, 4]
    keep, _ = fit_columns(cols, rows, 40)
    assert keep[0] == 0 and keep == sorted(keep) and len(keep) < 5
    keep, _ = fit_columns(cols, rows, 5)  # narrower than the id: the id still stays, whole
    assert keep == [0] and natural[0] == len("huggingface")
