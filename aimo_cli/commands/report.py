"""aimo report: combine the reports of a fleet split across machines (`--shard K/N`)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._common import app_ctx

app = typer.Typer(help="Combine the JSON and JUnit reports of a sharded fleet run.", no_args_is_help=True)


@app.command("merge")
def merge(
    ctx: typer.Context,
    files: List[str] = typer.Argument(..., help="The shards' reports: --json output and/or --junit files (kind read from the content).", metavar="FILE..."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the merged JSON to FILE instead of printing it.", metavar="FILE"),
    junit: Optional[str] = typer.Option(None, "--junit", help="Write the merged JUnit XML to FILE (needed when JUnit reports are given).", metavar="FILE"),
    expect: Optional[int] = typer.Option(None, "--expect", help="Fail unless there is one report of each kind per shard, N in all.", min=1, metavar="N"),
) -> None:
    """One report with the exit code a single run over every shard's sites would have had."""
    from pathlib import Path

    from ..errors import UsageError
    from ..redact import redact
    from ..services import report
    from ..stores.fileio import atomic_write

    actx = app_ctx(ctx)
    merged = report.merge(files, expect=expect)
    if merged.junit is not None:
        if not junit:
            raise UsageError("JUnit reports were given but no --junit FILE to write their merge to", "e.g. aimo report merge *.json *.xml --junit merged.xml")
        atomic_write(Path(junit), redact(merged.junit), private_dir=False)  # a report the user asked for, where they asked
    if merged.data is not None:
        if output:
            import json

            atomic_write(Path(output), redact(json.dumps(merged.data, indent=2)) + "\n", private_dir=False)
        else:
            actx.out.json(merged.data)
    raise typer.Exit(merged.exit_code)
