"""aimo doctor: every troubleshooting question answered by a check."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._common import FORMAT_OPT, JSON_OPT, SHARD_OPT, app_ctx, jobs_count, output_format


def doctor(
    ctx: typer.Context,
    sites: Optional[List[str]] = typer.Argument(None, help="Sites to check (default: the default site).", metavar="[SITE]..."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Check every site in this group.", metavar="GROUP"),
    all_sites: bool = typer.Option(False, "--all", help="Check every configured site."),
    offline: bool = typer.Option(False, "--offline", help="No provider calls and no live checks on the sites (at most 2 requests per site)."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as failures."),
    json: bool = JSON_OPT,
    junit: Optional[str] = typer.Option(None, "--junit", help="Also write a JUnit XML report to FILE (one testcase per check).", metavar="FILE"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only failures (nothing when all is well): for cron."),
    jobs: str = typer.Option("8", "--jobs", "-j", help="Sites checked at once (1-256).", metavar="N"),
    fmt: Optional[str] = FORMAT_OPT,
    shard: Optional[str] = SHARD_OPT,
) -> None:
    """Check settings, keys, sites, bridge, connectors and features; exit 7 when a check fails.

    The requested report (--junit FILE, --json / --format) is written in every case: a failure that stops the doctor
    (invalid settings or secrets, an unknown site, a bad option value) becomes a failed check in it."""
    from ..services import doctor as service

    actx = app_ctx(ctx)
    failure = None
    try:
        mode = output_format(json, fmt)
    except Exception as exc:  # noqa: BLE001 - a bad --format is a failed check too (the JUnit file is still written)
        mode, failure = "auto", exc
    try:
        count = jobs_count(jobs)  # checked here, not by the option parser, so a bad value still gets its report
    except Exception as exc:  # noqa: BLE001 - the same for a bad --jobs
        failure = failure or exc
    report = None
    if failure is None:
        try:
            report = service.run(actx, names=sites, group=group, all_sites=all_sites, offline=offline, strict=strict, jobs=count, shard=shard)
        except Exception as exc:  # noqa: BLE001 - whatever stopped the run is reported, below and in the files
            failure = exc
    from ..services import doctor_render  # (after the run: nothing of it is needed before the sites are asked)

    if failure is not None:
        report = doctor_render.stopped(actx, failure, strict=strict)
    if junit:
        doctor_render.write_junit(report, junit)
    doctor_render.render(actx.out, report, fmt=mode, quiet=quiet or actx.options.quiet)
    raise typer.Exit(report.exit_code)
