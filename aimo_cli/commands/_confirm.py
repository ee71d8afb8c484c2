"""Confirmation of destructive acts: a y/N question on a terminal, `--yes` in scripts, never a silent default."""

from __future__ import annotations

import sys

import typer

YES_OPT = typer.Option(False, "--yes", "-y", help="Do it without asking (for scripts; a terminal asks first).")


def confirm(actx, question: str, yes: bool, *, what: str) -> None:
    """Return when the admin agreed; raise a SafetyError (exit 6) otherwise. `what` names the act for the hint."""
    from ..errors import SafetyError

    if yes:
        return
    stdin = sys.stdin
    if stdin is None or not _isatty(stdin):
        raise SafetyError(f"{what} needs confirmation and there is no terminal to ask on", "Pass --yes to confirm it in a script.")
    actx.out.stderr.write(question + " [y/N] ")
    actx.out.stderr.flush()
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise SafetyError(f"{what} cancelled: nothing was changed", "Answer y to go ahead, or pass --yes.")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
