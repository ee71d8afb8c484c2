"""aimo doctor: every troubleshooting question answered by a check."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._common import app_ctx


def doctor(
    ctx: typer.Context,
    sites: Optional[List[str]] = typer.Argument(None, help="Sites to check (default: the default site).", metavar="[SITE]..."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Check every site in this group.", metavar="GROUP"),
    all_sites: bool = typer.Option(False, "--all", help="Check every configured site."),
    offline: bool = typer.Option(False, "--offline", help="No provider calls and no live checks on the sites (at most 2 requests per site)."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as failures."),
    json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    junit: Optional[str] = typer.Option(None, "--junit", help="Also write a JUnit XML report to FILE (one testcase per check).", metavar="FILE"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only failures (nothing when all is well): for cron."),
    jobs: int = typer.Option(8, "--jobs", "-j", help="Sites checked at once.", metavar="N", min=1, max=256),
) -> None:
    """Check settings, keys, sites, bridge, connectors and features; exit 7 when a check fails."""
    from ..services import doctor as service
    from ..services import doctor_render

    actx = app_ctx(ctx)
    report = service.run(actx, names=sites, group=group, all_sites=all_sites, offline=offline, strict=strict, jobs=jobs)
    if junit:
        doctor_render.write_junit(report, junit)
    doctor_render.render(actx.out, report, json=json, quiet=quiet or actx.options.quiet)
    raise typer.Exit(report.exit_code)
