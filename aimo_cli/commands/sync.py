"""aimo sync: compare and move connector keys between the local store and WordPress sites."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._cli import AimoTyper
from ._common import ALL_OPT, FORMAT_OPT, GROUP_OPT, JOBS_OPT, JSON_OPT, SHARD_OPT, SITES_ARG, app_ctx, output_format

app = AimoTyper(short_help="Compare, push and pull keys between aimo and sites.", help="Compare (status), push and pull connector keys, for one site or a fleet.", no_args_is_help=True)

PROVIDER_OPT = typer.Option(None, "--provider", "-p", help="Only this provider (repeatable).", metavar="ID")
DRY_OPT = typer.Option(False, "--dry-run", "-n", help="Print the plan; write nothing.")
PREFER_OPT = typer.Option(None, "--prefer", help="Resolve conflicts: local or remote.", metavar="SIDE")


def _run(
    ctx: typer.Context, job, sites, group, all_sites, jobs, fmt: str, title: str, writes: bool = False, dry_run: bool | None = None, shard: Optional[str] = None, prepare=None, steps=None
) -> None:
    from ..services import fleet, sync_render
    from ..services import sites as site_profiles

    actx = app_ctx(ctx)
    picked = fleet.select_sites(actx, sites, group, all_sites, shard)
    if writes:
        picked = site_profiles.once_per_wordpress(actx, picked)
    # a read-only job (prepare given) may run in worker processes: a big fleet is CPU-bound on one core; its JSON items
    # are written where the sites ran
    finish = sync_render.prerender if prepare is not None and fmt == "json" else None
    outcomes = fleet.run_fleet(actx, picked, job, jobs=jobs, label=title, processes=prepare is not None, prepare=prepare, steps=steps, finish=finish)
    raise typer.Exit(sync_render.render(actx, outcomes, fmt=fmt, title=title, extra=None if dry_run is None else {"dry_run": dry_run}))


@app.command("status", short_help="Compare local keys, the sites and the last sync (exit 7).")
def status(
    ctx: typer.Context,
    sites: Optional[List[str]] = SITES_ARG,
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    provider: Optional[List[str]] = PROVIDER_OPT,
    jobs: int = JOBS_OPT,
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Three-way comparison of local keys, the site and the last sync; exit 7 when anything drifts."""
    from ..services import sync

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    job, prepare, steps = sync.status_job(actx, provider)
    _run(ctx, job, sites, group, all_sites, jobs, mode, "sync status", shard=shard, prepare=prepare, steps=steps)


@app.command("push", short_help="Push changed local keys to sites, verified and read back.")
def push(
    ctx: typer.Context,
    sites: Optional[List[str]] = SITES_ARG,
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    provider: Optional[List[str]] = PROVIDER_OPT,
    jobs: int = JOBS_OPT,
    dry_run: bool = DRY_OPT,
    prefer: Optional[str] = PREFER_OPT,
    force: bool = typer.Option(False, "--force", help="Push even where the site reads the key from an env var or constant."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the local check of each key with its provider."),
    from_env: bool = typer.Option(False, "--from-env", help="Also send keys that come from environment variables (GROQ_API_KEY, …)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm --prefer local at first contact (replacing site keys aimo never saw)."),
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Push changed local keys to the sites: one write per site, validated first, read back after."""
    from ..services import sync

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    sync.pick_providers(provider)
    sync.check_prefer(prefer)
    confirmed = confirm_prefer_local(actx, prefer, yes, dry_run)
    verifier = sync.Verifier(actx, enabled=not no_verify)
    job = lambda site: sync.push_site(  # noqa: E731
        actx, site, provider, prefer=prefer, force=force, dry_run=dry_run, verifier=verifier, from_env=from_env, confirmed=confirmed
    )
    _run(ctx, job, sites, group, all_sites, jobs, mode, "sync push", writes=True, dry_run=dry_run, shard=shard)


def confirm_prefer_local(actx, prefer, yes: bool, dry_run: bool = False) -> bool:
    """--prefer local replaces, at first contact, keys aimo never had: a terminal asks once; a script needs --yes
    (without it those lines are refused, exit 6, and the rest of the push goes ahead)."""
    if prefer != "local" or yes or dry_run:
        return True
    import sys

    from ._confirm import _isatty

    if not _isatty(sys.stdin):
        return False
    actx.out.stderr.write("--prefer local replaces, on sites aimo never synced with, keys aimo never had (they are lost). Continue? [y/N] ")
    actx.out.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


@app.command("pull", short_help="Pull keys changed on a site into the local store.")
def pull(
    ctx: typer.Context,
    sites: Optional[List[str]] = SITES_ARG,
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    provider: Optional[List[str]] = PROVIDER_OPT,
    dry_run: bool = DRY_OPT,
    prefer: Optional[str] = PREFER_OPT,
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Pull keys changed on a site (through the aimo bridge) into the local store; never an empty one."""
    from ..services import sync

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    sync.pick_providers(provider)
    sync.check_prefer(prefer)
    _run(ctx, lambda site: sync.pull_site(actx, site, provider, prefer=prefer, dry_run=dry_run), sites, group, all_sites, 1, mode, "sync pull", writes=True, dry_run=dry_run, shard=shard)
