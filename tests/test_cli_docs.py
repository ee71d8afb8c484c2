"""The generated CLI files (completion tree, shell scripts, man page) are fresh, complete and lint-clean.

When one of these fails after you changed a command: run scripts/gen-cli-docs and commit what it writes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimo_cli import clidocs

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated():
    return clidocs.generate()


@pytest.fixture(scope="module")
def tree():
    return clidocs.build_tree()


def test_generated_files_are_up_to_date(generated, tmp_path):
    assert clidocs.write(str(tmp_path), generated) == [f.path for f in generated]  # all written to the empty folder
    stale = [f.path for f in generated if not (REPO / f.path).exists() or (REPO / f.path).read_text() != (tmp_path / f.path).read_text()]
    assert not stale, f"stale generated files {stale}: run scripts/gen-cli-docs and commit the result"


def test_gen_script_check_mode_agrees():
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gen-cli-docs"), "--check"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_every_command_option_and_argument_has_help(tree):
    assert clidocs.missing_help(tree) == []


def test_every_value_kind_is_one_completion_knows(tree):
    for path, node in clidocs.walk(tree["command"]):
        specs = [*node.get("arguments", ()), *(o for o in node.get("options", ()) if o["takes_value"])]
        for spec in specs:
            for kind in spec["kind"].split("+"):
                assert kind in clidocs.KINDS, (path, spec)
            if "choice" in spec["kind"]:
                assert spec.get("choices"), (path, spec)


def test_kinds_of_the_known_commands(tree):
    cmds = dict(clidocs.walk(tree["command"]))
    assert cmds[("keys", "set")]["arguments"][0]["kind"] == "provider"
    assert cmds[("site", "use")]["arguments"][0]["kind"] == "site"
    assert cmds[("site", "add")]["arguments"][0]["kind"] == "none"
    assert {o["names"][0]: o["kind"] for o in cmds[("site", "add")]["options"] if o["takes_value"]}["--group"] == "group"
    assert cmds[("completion", "install")]["arguments"][0]["kind"] == "shell"
    assert {o["names"][0]: o["kind"] for o in cmds[()]["options"] if o["takes_value"]} == {"--config": "file", "--ca-bundle": "file", "--timeout": "none"}


def test_metavar_conventions():
    assert clidocs._metavar_kind("[SITE]...", "sync push") == ("site", None)
    assert clidocs._metavar_kind("[MODE|SITE]", "mode") == ("mode+site", None)
    assert clidocs._metavar_kind("text|image", "models list") == ("choice", ["text", "image"])
    assert clidocs._metavar_kind("NAME", "site rm") == ("site", None)
    assert clidocs._metavar_kind("NAME", "other") is None
    assert clidocs._metavar_kind("FORMAT", "x") == ("choice", ["table", "json", "yaml", "csv"])
    assert clidocs._metavar_kind("URL", "x") is None


def test_man_page_names_every_command_and_option(tree):
    man = (REPO / "man" / "aimo.1").read_text()
    for path, node in clidocs.walk(tree["command"]):
        if node.get("hidden"):
            continue
        if path:
            assert clidocs._esc(" ".join(("aimo", *path))) in man, path
        for opt in node.get("options", ()):
            if not opt.get("hidden"):
                assert clidocs._esc(opt["names"][0]) in man, (path, opt["names"])
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
        assert f'.SH {section}\n' in man or f'.SH "{section}"\n' in man, section
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 130):
        assert f".TP\n\\fB{code}\\fR\n" in man
    for var in ("AIMO_CONFIG", "AIMO_KEYRING", "AIMO_SECRETS_FILE", "AIMO_CA_BUNDLE", "AIMO_DEBUG", "OPENAI_API_KEY",
                "HUGGINGFACE_API_KEY", "OLLAMA_HOST", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        assert var in man, var


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/test-deps", pytrace=False)
    return path


def test_man_page_is_mandoc_lint_clean():
    proc = subprocess.run([_tool("mandoc"), "-Tlint", "-W", "style", str(REPO / "man" / "aimo.1")], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_man_page_is_groff_warning_free():
    proc = subprocess.run([_tool("groff"), "-man", "-ww", "-z", str(REPO / "man" / "aimo.1")], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_man_renders_it(tree):
    env = {**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": "0", "PAGER": "cat", "MANPAGER": "cat"}
    proc = subprocess.run([_tool("man"), "-l", str(REPO / "man" / "aimo.1")], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    text = re.sub(".\b", "", proc.stdout)  # no terminal: man overstrikes bold (X\bX)
    assert text.startswith("AIMO(1)")
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
        assert f"\n{heading}\n" in text
    assert "aimo keys set [OPTIONS] ID" in text


def test_every_environment_variable_aimo_reads_is_documented():
    """One list (clidocs.environment) feeds the man page and the README; a variable read but not listed fails here."""
    documented = {n.strip() for name, _ in clidocs.environment() for n in name.split(",")}
    pattern = re.compile(r"""(?:environ\.get\(|environ\[|getenv\(|environ\.setdefault\(|in os\.environ)\s*["']([A-Z_][A-Z0-9_]*)["']""")
    pattern_in = re.compile(r"""["']([A-Z_][A-Z0-9_]*)["']\s+(?:not\s+)?in\s+os\.environ""")
    read: dict[str, str] = {}
    for path in (REPO / "aimo_cli").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in list(pattern.finditer(text)) + list(pattern_in.finditer(text)):
            read.setdefault(m.group(1), str(path.relative_to(REPO)))
    assert "AIMO_CONFIG" in read  # the scan itself works
    missing = {name: where for name, where in read.items() if name not in documented and name not in clidocs.ENVIRONMENT_UNLISTED}
    assert not missing, f"document these in aimo_cli/clidocs.py ENVIRONMENT, then run scripts/gen-cli-docs: {missing}"


def test_one_exit_code_table_for_help_man_and_readme(generated):
    from aimo_cli.app import HELP

    codes = [code for code, _ in clidocs.EXIT_STATUS]
    summary = HELP[HELP.index("Exit codes:") :]
    assert [int(c) for c in re.findall(r"\b(\d+) [a-z]", summary)] == codes, "the root --help lists other exit codes than clidocs.EXIT_STATUS"
    man = next(f.text for f in generated if f.path == "man/aimo.1")
    for code, _ in clidocs.EXIT_STATUS:
        assert f".TP\n\\fB{code}\\fR" in man
    readme = (REPO / "README.md").read_text()
    for code, text in clidocs.EXIT_STATUS:
        assert f"| {code} | {text} |" in readme
