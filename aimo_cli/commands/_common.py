"""Helpers shared by the command modules: the context, secret input, output format choice."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ..context import AppContext
from ..errors import UsageError

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")
FORMAT_OPT = typer.Option(None, "--format", help="Output format: table, csv or json.", metavar="FORMAT")


def app_ctx(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def output_format(json_flag: bool, fmt: Optional[str]) -> str:
    if json_flag:
        return "json"
    if fmt is None:
        return "auto"
    fmt = fmt.lower()
    if fmt not in ("table", "csv", "json"):
        raise UsageError(f"unknown format {fmt!r}", "Use --format table, csv or json.")
    return fmt


def read_secret(prompt: str, use_stdin: bool) -> str:
    """A secret from a hidden prompt, or all of stdin with --stdin. Never from argv."""
    if use_stdin:
        return sys.stdin.read()
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to prompt on for the secret", "Pipe it in with --stdin (e.g. printf %s \"$KEY\" | aimo … --stdin).")
    import getpass

    try:
        return getpass.getpass(prompt)
    except EOFError:
        return ""
