"""The Typer/Click classes every aimo command is built with: commands listed in workflow order, plain metavars.

- `AimoTyper` is `typer.Typer` whose groups are `AimoGroup` and whose commands are `AimoCommand` (command modules
  create their sub-app with it; app.py the root).
- `AimoGroup.list_commands` lists a group's commands in the order a user meets them (`ORDER`), not in the order the
  modules happen to register them (Typer lists plain commands before sub-groups). Names missing from `ORDER` follow
  in registration order, so a new command is never hidden.
- Usage lines show a required argument as `ID`, not Typer's `{ID}`.
- SITE is an argument of every command that acts on sites (its last one). `--site NAME` / `-s NAME`, the older
  spelling of `doctor` and `bridge base-url`, is still accepted by all of them, hidden: it becomes that argument.

Imports nothing beyond Typer: it is on the start-up path of every command.
"""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup

# group name → its commands in workflow order (first contact first, rarely used last).
ORDER: dict[str, tuple[str, ...]] = {
    "aimo": ("site", "keys", "connectors", "sync", "models", "mode", "doctor", "bridge", "log", "report", "ask", "completion"),
    "site": ("add", "list", "test", "use", "rm"),
    "keys": ("set", "list", "get", "verify", "rotate", "import", "previous", "restore", "rm", "path", "backend"),
    "connectors": ("list", "enable", "takeover", "stop", "clear"),
    "sync": ("status", "push", "pull"),
    "models": ("list", "show", "refresh", "set", "auto"),
    "bridge": ("zip", "install", "activate", "status", "base-url"),
    "completion": ("show", "install"),
    "report": ("merge",),
}


def workflow_order(group: str | None, names: list[str]) -> list[str]:
    """`names` in the workflow order of `group`; unknown names keep their order, after the known ones."""
    order = ORDER.get(group or "", ())
    rank = {name: i for i, name in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n, len(order)), names.index(n)))


def _plain_usage(piece: str) -> str:
    """Typer writes a required argument as `{ID}` in usage lines; the convention (and aimo's docs) is `ID`."""
    if piece.startswith("{") and piece.endswith("}"):
        return piece[1:-1]
    return piece


def site_option_as_argument(cmd, args: list[str]) -> list[str]:
    """`--site NAME`, `-s NAME`, `--site=NAME` (before any `--`) moved to the end of the arguments, where the SITE
    argument of `cmd` is; `args` unchanged when `cmd` has no such argument or a --site option of its own."""
    if any("--site" in getattr(p, "opts", ()) for p in cmd.params if p.param_type_name == "option"):
        return args
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    if not arguments or "SITE" not in (arguments[-1].metavar or "").split("|")[-1]:
        return args
    end = args.index("--") if "--" in args else len(args)
    kept: list[str] = []
    moved: list[str] = []
    i = 0
    while i < end:
        arg = args[i]
        if arg in ("--site", "-s") and i + 1 < end:
            moved.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("--site="):
            moved.append(arg[len("--site=") :])
        else:
            kept.append(arg)
        i += 1
    return kept + moved + args[end:]


class AimoCommand(TyperCommand):
    def collect_usage_pieces(self, ctx) -> list[str]:
        return [_plain_usage(p) for p in super().collect_usage_pieces(ctx)]

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        return super().parse_args(ctx, site_option_as_argument(self, list(args)))


class AimoGroup(TyperGroup):
    def list_commands(self, ctx) -> list[str]:
        return workflow_order(self.name, super().list_commands(ctx))

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [_plain_usage(p) for p in super().collect_usage_pieces(ctx)]


class AimoTyper(typer.Typer):
    """typer.Typer building AimoGroup groups and AimoCommand commands."""

    def __init__(self, *args, cls=None, **kwargs) -> None:
        super().__init__(*args, cls=cls or AimoGroup, **kwargs)

    def command(self, name=None, *, cls=None, **kwargs):
        return super().command(name, cls=cls or AimoCommand, **kwargs)


DRY_RUN_OPT = typer.Option(False, "--dry-run", "-n", help="Say what would change; change nothing (no site, no local file).")
DRY_RUN_NOTE = "Dry run: nothing was changed."


def say_write(out, *, changed: bool, dry_run: bool, already: str, would: str, done: str, fmt: str = "auto", data: dict | None = None) -> None:
    """The one line a single write prints: what it did, what it would do (--dry-run), or that nothing needed doing;
    under --format json|yaml|csv the write's `data` with `changed` and `dry_run` instead (ui/formats.py)."""
    if fmt != "auto":
        from ..ui.formats import emit

        emit(out, fmt, {**(data or {}), "changed": changed, "dry_run": dry_run})
        if dry_run:
            out.info(DRY_RUN_NOTE)
        return
    if not changed:
        out.line(already + (" (nothing to do)" if dry_run else ""))
    else:
        out.line(would if dry_run else done)
    if dry_run:
        out.info(DRY_RUN_NOTE)
