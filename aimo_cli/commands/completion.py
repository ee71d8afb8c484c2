"""aimo completion: print or install the shell completion script (the TAB itself is answered in completion.py)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT, AimoTyper
from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format

app = AimoTyper(short_help="Print or install shell completion (bash, zsh, fish, pwsh).", help="Print or install shell completion for bash, zsh, fish or PowerShell.", no_args_is_help=True)

SHELL_HELP = "bash, zsh, fish or powershell (default: the shell in $SHELL)."


def _shell(given: Optional[str]) -> str:
    from ..completion import SHELLS
    from ..errors import UsageError

    name = (given or os.path.basename(os.environ.get("SHELL", ""))).lower()
    name = "powershell" if name == "pwsh" else name
    if name not in SHELLS:
        what = f"unknown shell {given!r}" if given else "cannot tell which shell you use from $SHELL"
        raise UsageError(what, "Name it: bash, zsh, fish or powershell (e.g. aimo completion show bash).")
    return name


@app.command("show", short_help="Print the completion script for a shell.")
def show(ctx: typer.Context, shell: Optional[str] = typer.Argument(None, help=SHELL_HELP, metavar="[SHELL]")) -> None:
    """Print the completion script for a shell (e.g. source <(aimo completion show bash))."""
    from ..completion import script

    app_ctx(ctx).out.stdout.write(script(_shell(shell)))


@app.command("install", short_help="Install the completion script where the shell looks for it.")
def install(
    ctx: typer.Context,
    shell: Optional[str] = typer.Argument(None, help=SHELL_HELP, metavar="[SHELL]"),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Write the completion script where the shell looks for it (per user; safe to rerun) and say where."""
    from ..completion import activation_hint, install_path, script
    from ..ui.formats import emit

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    name = _shell(shell)
    target, text = install_path(name), script(name)
    try:
        with open(target, encoding="utf-8") as fh:
            current = fh.read()
    except OSError:
        current = None
    if current == text:
        said = f"{name} completion is already up to date in {target}."
    elif dry_run:
        result = "would update" if current is not None else "would install"
        emit(actx.out, mode, {"shell": name, "path": str(target), "result": result, "dry_run": True}, table=lambda: actx.out.line(f"Would {'update' if current is not None else 'install'} {name} completion in {target}."))
        actx.out.info(DRY_RUN_NOTE)
        return
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
        said = f"{'Updated' if current is not None else 'Installed'} {name} completion in {target}."
    result = "unchanged" if current == text else "updated" if current is not None else "installed"
    emit(actx.out, mode, {"shell": name, "path": str(target), "result": result, "dry_run": dry_run}, table=lambda: actx.out.line(said))
    actx.out.info(activation_hint(name, target))
