"""The hidden prompts on a real terminal (tmux): the typed secret is never echoed and is stored as typed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .secrets_registry import make_key, register

pytestmark = pytest.mark.slow


class Terminal:
    def __init__(self, env: dict[str, str]) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.fail("tmux is not installed: run scripts/test-deps", pytrace=False)
        self.dir = tempfile.mkdtemp(prefix="aimo-tty-")
        self.tmux = [tmux, "-S", os.path.join(self.dir, "s"), "-f", "/dev/null"]
        pairs = [f"{k}={v}" for k, v in env.items()]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "t", "-x", "160", "-y", "40", "env", "-i", *pairs, "bash", "--noprofile", "--norc", "-i"], check=True, timeout=30)

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "t", *keys], check=True, timeout=10)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "t", "-S", "-100"], capture_output=True, text=True, check=True, timeout=10).stdout

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} did not appear:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], timeout=10, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def terminal(tmp_path):
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TERM": "xterm",
        "PS1": "$ ",
        "AIMO_KEYRING": "file",
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
        "XDG_CACHE_HOME": str(tmp_path / "k"),
    }
    term = Terminal(env)
    yield term, tmp_path
    term.close()


def test_keys_set_hidden_prompt_never_echoes(terminal):
    term, home = terminal
    key = make_key("gsk")
    term.send("aimo keys set groq --no-verify; echo DONE-$?", "Enter")  # no provider is reachable from here
    term.wait_for("Groq API key:")
    term.send("-l", key)
    term.send("Enter")
    text = term.wait_for("DONE-0")
    assert key not in text and key[-4:] in text  # the confirmation shows the masked tail only
    secrets = (home / "d" / "aimo" / "secrets.json").read_text()
    assert key in secrets  # stored as typed


def test_site_add_prompts_for_the_application_password_without_echo(terminal):
    term, _ = terminal
    password = register("abcd efgh ijkl mnop qrst uvwx")
    term.send("aimo site add blog http://127.0.0.1:9 --user admin; echo DONE-$?", "Enter")
    term.wait_for("Application password for admin at http://127.0.0.1:9:")
    term.send("-l", password)
    term.send("Enter")
    text = term.wait_for("DONE-5")  # nothing answers on port 9: a remote error, after the prompt
    assert password not in text and "cannot reach" in text
