"""Helpers shared by the command modules: the context, secret input, output format choice."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ..context import AppContext
from ..errors import UsageError

# The one definition of the output options (every command that reads or changes state takes both; ui/formats.py renders)
JSON_OPT = typer.Option(False, "--json", help="Print JSON (the same as --format json).")
FORMAT_OPT = typer.Option(None, "--format", help="Output format: table, json, yaml or csv (docs/json.md).", metavar="FORMAT")
SHARD_OPT = typer.Option(
    None, "--shard", help="Only share K of N of the selected sites (stable hash of the site name), e.g. 3/10 in a CI matrix.", metavar="K/N"
)
# The fleet selection (services/fleet.select_sites): several SITEs, a group or every site, so many at once
SITES_ARG = typer.Argument(None, help="Site names (default: the default site).", metavar="[SITE]...")
GROUP_OPT = typer.Option(None, "--group", "-g", help="Every site in this group.", metavar="GROUP")
ALL_OPT = typer.Option(False, "--all", help="Every configured site.")
JOBS_OPT = typer.Option(8, "--jobs", "-j", help="Sites handled at once.", metavar="N", min=1, max=256)


def app_ctx(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def output_format(json_flag: bool, fmt: Optional[str]) -> str:
    """auto (a table), json, yaml or csv; --json with another --format is a usage error (ui/formats.py)."""
    from ..ui.formats import resolve

    return resolve(json_flag, fmt)


def jobs_count(value: str) -> int:
    """--jobs given as text (the doctor's, which reports a bad value instead of leaving it to the option parser)."""
    try:
        count = int(value.strip())
    except ValueError:
        count = 0
    if not 1 <= count <= 256:
        raise UsageError(f"--jobs {value!r} is not a number from 1 to 256", "Give how many sites to handle at once, e.g. --jobs 8.")
    return count


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
