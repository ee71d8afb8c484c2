"""aimo report: combine the reports of a fleet split across machines (`--shard K/N`)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._cli import AimoTyper
from ._common import app_ctx

app = AimoTyper(
    short_help="Merge the reports of a fleet split with --shard.", help="Combine the JSON and JUnit reports of a sharded fleet run.", no_args_is_help=True
)


@app.command("merge", short_help="One report and exit code from the shards' JSON and JUnit reports.")
def merge(
    ctx: typer.Context,
    files: List[str] = typer.Argument(..., help="The shards' reports: --json output and/or --junit files (kind read from the content).", metavar="FILE..."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the merged JSON to FILE instead of printing it.", metavar="FILE"),
    junit: Optional[str] = typer.Option(None, "--junit", help="Write the merged JUnit XML to FILE (needed when JUnit reports are given).", metavar="FILE"),
    expect: Optional[int] = typer.Option(None, "--expect", help="Fail unless there is one report of each kind per shard, N in all.", min=1, metavar="N"),
) -> None:
    """One report with the exit code a single run over every shard's sites would have had."""
    from ..services import report

    actx = app_ctx(ctx)
    merged = report.merge(files, expect=expect)
    report.write(merged, junit=junit, output=output)
    if merged.data is not None and not output:
        actx.out.json(merged.data)
    raise typer.Exit(merged.exit_code)
