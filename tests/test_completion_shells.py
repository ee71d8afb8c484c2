"""TAB in real shells: bash, zsh and fish (Debian's, via scripts/test-deps) load our generated completion script and are
driven through tmux: type, press TAB, read the screen. Each test gets its own tmux server, a clean rc, an isolated HOME
and XDG folders holding a settings file with sites and a catalog index with model ids.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from aimo_cli import completion as comp
from aimo_cli.core.providers import PROVIDER_IDS

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHELLS = ("bash", "zsh", "fish")
PROVIDERS = PROVIDER_IDS
MODELS = ("openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5", "groq:openai/gpt-oss-120b")
SETTINGS = """\
default_site = "blog"

[sites.blog]
url = "https://blog.example"
user = "admin"
group = "prod"

[sites.shop-eu]
url = "https://shop.example"
user = "admin"
"""

pytestmark = pytest.mark.slow


def _need(cmd: str) -> str:
    path = shutil.which(cmd)
    if path is None:
        pytest.fail(f"{cmd} is not installed: run scripts/test-deps", pytrace=False)
    return path


class Pane:
    """One interactive shell in its own tmux server."""

    def __init__(self, shell: str, home: Path, env: dict[str, str]) -> None:
        self.sock_dir = tempfile.mkdtemp(prefix="aimo-tmux-")  # short: a socket path is limited to ~100 bytes
        self.tmux = [_need("tmux"), "-S", os.path.join(self.sock_dir, "s"), "-f", "/dev/null"]
        argv = self._shell_argv(shell, home, env)
        pairs = [f"{k}={v}" for k, v in env.items()]
        cmd = " ".join(_quote(a) for a in ["env", "-i", *pairs, *argv])
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "t", "-x", "200", "-y", "50", cmd], check=True, timeout=30)
        self.wait(lambda text: text.rstrip().endswith("$"), what="the prompt")

    @staticmethod
    def _shell_argv(shell: str, home: Path, env: dict[str, str]) -> list[str]:
        script = REPO / "completions" / comp.FILENAMES[shell]
        if shell == "bash":
            rc = home / ".bashrc"
            rc.write_text(
                "PS1='$ '\n"
                f"source {_quote(str(script))}\n"
                "bind 'set show-all-if-ambiguous on'\nbind 'set completion-query-items 0'\n"
                "bind 'set page-completions off'\nbind 'set bell-style none'\n"
            )
            return [_need("bash"), "--noprofile", "--rcfile", str(rc), "-i"]
        if shell == "zsh":
            env["ZDOTDIR"] = str(home)
            (home / ".zshrc").write_text(
                "PS1='$ '\nunsetopt beep\nLISTMAX=0\n"
                f"autoload -Uz compinit && compinit -u -d {_quote(str(home / '.zcompdump'))}\n"
                f"source {_quote(str(script))}\n"
            )
            return [_need("zsh"), "-i"]
        init = home / "init.fish"
        init.write_text(
            "function fish_prompt; echo -n '$ '; end\nset -g fish_greeting\n"
            f"source {_quote(str(script))}\n"
        )
        return [_need("fish"), "--no-config", "-i", "-C", f"source {_quote(str(init))}"]

    def screen(self) -> str:
        proc = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, timeout=10)
        return proc.stdout

    def wait(self, predicate, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.05)

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "t", "-l", text], check=True, timeout=10)
        self.wait(lambda screen: text.rstrip() in screen, what=f"{text!r} to echo")

    def tab(self) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "t", "Tab"], check=True, timeout=10)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=10)
        shutil.rmtree(self.sock_dir, ignore_errors=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture(params=SHELLS)
def pane(request, isolated):
    home = isolated
    config = Path(os.environ["XDG_CONFIG_HOME"])
    cache = Path(os.environ["XDG_CACHE_HOME"])
    (config / "aimo").mkdir(parents=True, exist_ok=True)
    (config / "aimo" / "aimo.toml").write_text(SETTINGS)
    (cache / "aimo").mkdir(parents=True, exist_ok=True)
    (cache / "aimo" / "completion-models.txt").write_text("\n".join(MODELS) + "\n")
    if not (BIN / "aimo").exists():
        pytest.fail(f"no aimo console script in {BIN}: run scripts/dev-setup", pytrace=False)
    env = {
        "HOME": str(home),
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "TERM": "screen",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(cache),
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
        "AIMO_KEYRING": "memory",
    }
    p = Pane(request.param, home, env)
    try:
        yield p
    finally:
        p.close()


def _model_command() -> tuple[str, list[str]]:
    """`aimo models set text ` once that command exists; until then the first command that takes a model id."""
    tree = comp.load_tree()
    from aimo_cli.clidocs import walk

    best = None
    for path, node in walk(tree["command"]):
        args = node.get("arguments", ())
        for i, arg in enumerate(args):
            if "model" in arg["kind"].split("+"):
                before = ["text" if a["kind"] == "model_kind" or "text" in a.get("choices", ()) else None for a in args[:i]]
                if None not in before and (best is None or path == ("models", "set")):
                    best = (" ".join(("aimo", *path, *before)) + " ", list(path))
    assert best is not None, "no command takes a model id (kind model) yet"
    return best


def test_a_command_name_completes(pane):
    pane.type("aimo ke")
    pane.tab()
    pane.wait(lambda s: "$ aimo keys" in s, what="`aimo ke` to become `aimo keys`")


def test_provider_ids_are_offered(pane):
    pane.type("aimo keys set ")
    pane.tab()
    pane.wait(lambda s: all(p in s for p in PROVIDERS), what="every provider id")


def test_a_provider_prefix_completes(pane):
    pane.type("aimo keys set hug")
    pane.tab()
    pane.wait(lambda s: "aimo keys set huggingface" in s, what="huggingface")


def test_model_ids_come_from_the_catalog_index(pane):
    line, _ = _model_command()
    pane.type(line)
    pane.tab()
    pane.wait(lambda s: all(m in s for m in MODELS), what=f"the cached model ids after {line!r}")


def test_a_model_id_with_a_colon_completes(pane):
    line, _ = _model_command()
    pane.type(line + "anthropic:cl")
    pane.tab()
    pane.wait(lambda s: line + "anthropic:claude-sonnet-4-5" in s, what="anthropic:claude-sonnet-4-5")


def test_site_names_come_from_the_settings_file(pane):
    pane.type("aimo site use ")
    pane.tab()
    pane.wait(lambda s: "blog" in s and "shop-eu" in s, what="the site names")


def test_groups_come_from_the_settings_file(pane):
    pane.type("aimo site add x https://x.example --group p")
    pane.tab()
    pane.wait(lambda s: "--group prod" in s, what="the group prod")
