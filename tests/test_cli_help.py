"""Help and names (issue 16 item 5): metavars that say what goes there, whole one-line summaries, workflow order.

Every command's `--help` is rendered the way a user sees it (through the real entry point, at 80 columns) and read
back: no Typer/Click placeholder metavar (`<str>`, `<int range>`, `<float>`, `{ID}`, TEXT, INTEGER…), every listed
subcommand's summary whole on one line (never cut with "..."), and commands in the order a user meets them.
"""

from __future__ import annotations

import re

import pytest

from .clihelper import run_cli

GENERIC = re.compile(r"<[a-z][a-z ]*>|\{[A-Za-z:._| -]+(\.\.\.)?\}|\b(TEXT|INTEGER|FLOAT|BOOLEAN|INT|STR|UUID|PATH)\b")


def _tree():
    import typer.main

    from aimo_cli.app import build_app

    root = typer.main.get_command(build_app())

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return list(walk(root, ()))


COMMANDS = _tree()


def _help(path: tuple[str, ...], monkeypatch, columns: int = 80) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    r = run_cli([*path, "--help"])
    assert r.code == 0, r.text
    return r.out


def _listed(help_text: str) -> list[tuple[str, str]]:
    """The (name, summary) rows of the Commands section; a continuation line is appended to its row's summary."""
    section = help_text.split("\nCommands:\n", 1)[1]
    rows: list[list[str]] = []
    for line in section.splitlines():
        m = re.match(r"^  (\S+)\s{2,}(.*)$", line)
        if m:
            rows.append([m.group(1), m.group(2)])
        elif line.startswith("   ") and rows:
            rows[-1][1] += " " + line.strip() + "\n"  # a wrapped summary: marked so the test names it
    return [(a, b) for a, b in rows]


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "aimo")
def test_help_has_no_generic_metavar(path, monkeypatch):
    text = _help(path, monkeypatch)
    found = sorted({m.group(0) for m in GENERIC.finditer(text)})
    assert not found, f"aimo {' '.join(path)} --help shows placeholder metavars {found}:\n{text}"
    usage = text.splitlines()[0]
    assert usage.startswith("Usage: aimo"), usage


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if getattr(c, "commands", None)], ids=lambda p: " ".join(p) or "aimo")
def test_group_help_lists_whole_one_line_summaries(path, monkeypatch):
    cmd = dict(COMMANDS)[path]
    text = _help(path, monkeypatch)
    listed = dict(_listed(text))
    visible = {n: c for n, c in cmd.commands.items() if not c.hidden}
    assert set(listed) == set(visible), (listed, visible)
    for name, sub in visible.items():
        assert sub.short_help, f"aimo {' '.join((*path, name))} has no explicit short_help: Click would cut its docstring"
        summary = listed[name]
        assert not summary.rstrip().endswith("..."), f"cut summary: {name}: {summary!r}"
        assert "\n" not in summary, f"the summary of {name} wraps at 80 columns: {summary!r}"
        assert summary == sub.short_help, (name, summary, sub.short_help)


def test_root_help_lists_commands_in_workflow_order(monkeypatch):
    text = _help((), monkeypatch, columns=100)
    names = [n for n, _ in _listed(text)]
    assert names == ["site", "keys", "connectors", "sync", "models", "mode", "doctor", "bridge", "log", "report", "ask", "completion"]


@pytest.mark.parametrize(
    "group, order",
    [
        ("site", ["add", "list", "test", "use", "rm"]),
        ("keys", ["set", "list", "get", "verify", "rotate", "import", "previous", "restore", "rm", "path", "backend"]),
        ("connectors", ["list", "enable", "takeover", "stop", "clear"]),
        ("sync", ["status", "push", "pull"]),
        ("models", ["list", "show", "refresh", "set", "auto"]),
        ("bridge", ["zip", "install", "activate", "status", "base-url"]),
    ],
)
def test_group_help_lists_commands_in_workflow_order(group, order, monkeypatch):
    assert [n for n, _ in _listed(_help((group,), monkeypatch))] == order


def test_the_workflow_order_never_hides_a_command():
    from aimo_cli.commands._cli import workflow_order

    assert workflow_order("sync", ["pull", "new", "status", "push"]) == ["status", "push", "pull", "new"]
    assert workflow_order("nosuch", ["b", "a"]) == ["b", "a"]


def test_usage_errors_show_required_arguments_plainly():
    r = run_cli(["keys", "set"])
    assert r.code == 2
    assert "Usage: aimo keys set [OPTIONS] ID\n" in r.err and "{" not in r.err
    r = run_cli(["models", "set", "text"])
    assert "Usage: aimo models set [OPTIONS] KIND ID:MODEL [SITE]\n" in r.err


def test_site_is_positional_in_every_command_that_takes_one():
    """[SITE] is an argument wherever a command acts on sites; --site survives only as a hidden older spelling."""
    rows = []
    for path, cmd in COMMANDS:
        for p in cmd.params:
            names = getattr(p, "opts", [])
            if "--site" in names and not p.hidden:
                rows.append(" ".join(path))
    assert not rows, f"--site is a visible option in: {rows}"
    takes_site = [" ".join(path) for path, cmd in COMMANDS for p in cmd.params if p.param_type_name == "argument" and "SITE" in (p.metavar or "")]
    for needed in ("doctor", "bridge base-url", "bridge status", "mode", "sync push", "keys rotate", "log", "models set"):
        assert needed in takes_site, needed


# Every command is either a write (it changes a site, the local store or a local file: it takes --dry-run) or a read.
WRITES = {
    "keys set", "keys rm", "keys restore", "keys rotate", "keys import",
    "site add", "site rm", "site use",
    "connectors enable", "connectors takeover", "connectors stop", "connectors clear",
    "sync push", "sync pull", "mode", "models set", "models auto",
    "bridge install", "bridge activate", "bridge base-url", "completion install",
}  # fmt: skip
READS = {
    "keys list", "keys get", "keys verify", "keys previous", "keys path", "keys backend",
    "site list", "site test", "connectors list", "sync status", "models list", "models show", "models refresh",
    "doctor", "bridge zip", "bridge status", "log", "ask", "completion show",
    "report merge",  # writes only the merged reports asked for (-o, --junit), like doctor --junit
}  # fmt: skip


def test_every_write_takes_dry_run():
    leaves = {" ".join(p): c for p, c in COMMANDS if p and not getattr(c, "commands", None)}
    assert set(leaves) == WRITES | READS, f"classify the new command(s) as a write or a read: {set(leaves) ^ (WRITES | READS)}"
    missing = [name for name in sorted(WRITES) if not any("--dry-run" in getattr(p, "opts", ()) for p in leaves[name].params)]
    assert not missing, f"writes without --dry-run: {missing}"


def test_root_help_in_a_real_80_column_terminal(tmp_path):
    """In a terminal (tmux, no COLUMNS in the environment) 80 columns wide, every summary is whole on its line."""
    import sys
    from pathlib import Path

    from .test_prompt_tty import Terminal

    term = Terminal({"HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TERM": "xterm", "PS1": "$ "})
    try:
        term.send("stty cols 80 rows 40; aimo --help; echo DONE-$?", "Enter")
        screen = term.wait_for("DONE-0")
    finally:
        term.close()
    text = screen[screen.index("Usage: aimo") :]
    assert max(len(line) for line in text.splitlines()) <= 80
    rows = _listed(text[: text.index("DONE-0")])
    assert [n for n, _ in rows] == ["site", "keys", "connectors", "sync", "models", "mode", "doctor", "bridge", "log", "report", "ask", "completion"]
    root = dict(COMMANDS)[()]
    for name, summary in rows:
        assert summary == root.commands[name].short_help, (name, summary)
