"""The README's Quick Start runs as written (issue 16 item 6).

Every command of the "Quick start with a real site" section is taken from README.md and typed, in order, into a real
terminal (tmux), against the real WordPress test site with the bridge active; hidden prompts are answered the way a
person would. A step that fails fails this test, so the README cannot drift from what aimo does.

The only differences from a person's run, all outside the README's commands:
- the providers are the loopback fake: aimo's settings file and the bridge point every provider's base URL at it
  (a real feature, for gateways and proxies), and the provider keys typed are keys the fake accepts;
- hosts are the test site's: `https://blog.example.com` → the test site's URL, `--user admin` → its admin,
  `http://gpu-box:11434` → the fake's Ollama;
- "upload in wp-admin" after `aimo bridge zip` is done by the fixture, which installs the same packaged plugin.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import pytest

from .secrets_registry import register
from .test_prompt_tty import Terminal

pytestmark = [pytest.mark.wordpress, pytest.mark.slow]

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Quick start with a real site"


def quickstart_commands(text: str) -> list[str]:
    """The shell commands of the Quick Start section, in order (comments and blank lines dropped)."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    commands: list[str] = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip())
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_quickstart_section_has_the_main_job():
    cmds = quickstart_commands(README.read_text())
    verbs = [" ".join(c.split()[1:3]) for c in cmds if c.startswith("aimo ")]
    # the main job end to end: keys in, site added, bridge on, keys pushed, checked
    for needed in ("keys set", "site add", "bridge activate", "connectors enable", "doctor blog"):
        assert any(v.startswith(needed) for v in verbs), (needed, verbs)


def _prompted(cmd: str) -> str | None:
    """What a command prompts for when typed as in the README: a provider id, "site", or None."""
    words = cmd.split()
    if "--stdin" in words or "|" in cmd:
        return None
    if words[:3] == ["aimo", "keys", "set"]:
        return words[3]
    if words[:3] == ["aimo", "site", "add"]:
        return "site"
    return None


def _wait_rc(term: Terminal, marker: str, timeout: float):
    """Wait for `MARKER=<digits>` (the typed `echo MARKER=$?` itself does not match)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        screen = term.screen()
        rc = re.search(rf"{marker}=(\d+)", screen)
        if rc is not None or time.monotonic() > deadline:
            return screen, rc
        time.sleep(0.1)


def test_readme_quickstart_runs_as_written(bridge, tmp_path):
    fake = bridge.fake
    wp = bridge.wp
    bridge.point_at_fake()
    home = tmp_path / "h"
    config = home / "c" / "aimo" / "aimo.toml"
    config.parent.mkdir(parents=True)
    config.write_text(fake.settings_toml())
    keys = {p: fake.make_valid_key(p) for p in ("openai", "anthropic", "google", "xai", "perplexity", "nvidia", "openrouter", "huggingface")}
    groq = [fake.make_valid_key("groq"), fake.make_valid_key("groq")]
    password = register(wp.admin_app_password)
    env = {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TERM": "xterm",
        "PS1": "$ ",
        "AIMO_KEYRING": "file",
        "XDG_CONFIG_HOME": str(home / "c"),
        "XDG_DATA_HOME": str(home / "d"),
        "XDG_STATE_HOME": str(home / "s"),
        "XDG_CACHE_HOME": str(home / "k"),
        "GROQ_KEY_1": groq[0],
        "GROQ_KEY_2": groq[1],
    }
    subs = [
        ("https://blog.example.com", bridge.url),
        ("--user admin", f"--user {wp.admin_user}"),
        ("http://gpu-box:11434", fake.base_url("ollama")),
    ]
    commands = quickstart_commands(README.read_text())
    assert commands, "the README has no Quick Start commands"
    term = Terminal(env)
    try:
        term.send(f"cd {tmp_path}", "Enter")
        for n, cmd in enumerate(commands):
            for old, new in subs:
                cmd = cmd.replace(old, new)
            marker = f"STEP{n}-RC"
            term.send("clear", "Enter")
            term.send(f"{cmd}; echo {marker}=$?", "Enter")
            asks = _prompted(cmd)
            if asks is not None:
                term.wait_for("password for" if asks == "site" else "key:", timeout=60)
                term.send("-l", password if asks == "site" else keys[asks])
                term.send("Enter")
            screen, rc = _wait_rc(term, marker, timeout=180)
            assert rc is not None and rc.group(1) == "0", f"README Quick Start step failed: {cmd}\n{screen}"
            for secret in [password, *keys.values(), *groq]:
                assert secret not in screen
            if cmd.startswith("aimo bridge zip"):
                out = re.search(r"-o\s+(\S+)", cmd)
                assert out and zipfile.is_zipfile(tmp_path / out.group(1))
    finally:
        term.close()
    # the end state is what the README promised: managed, the keys on the site, the model preference saved
    assert bridge.status()["mode"] == "managed"
    assert bridge.option("connectors_ai_openai_api_key") == keys["openai"]
    assert bridge.option("connectors_ai_groq_api_key") == groq[0]  # a pool's first line is the one WordPress gets
    assert "claude-sonnet-4-6" in str(bridge.option("aimo_connectors_models"))
