"""aimo connectors: the Connectors of a site at a glance, and the managed workflow (enable, takeover, stop)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..ui.formats import emit
from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT, AimoTyper
from ._common import ALL_OPT, FORMAT_OPT, GROUP_OPT, JOBS_OPT, JSON_OPT, SHARD_OPT, SITES_ARG, app_ctx, output_format

app = AimoTyper(short_help="See a site's Connectors; hand them to aimo or take them back.", help="List a site's connectors; enable, take over or stop aimo's management.", no_args_is_help=True)
SITE_ARG = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]")


@app.command("list", short_help="One row per provider: registrant, key source, sync, state.")
def list_(
    ctx: typer.Context,
    site: Optional[str] = SITE_ARG,
    no_check: bool = typer.Option(False, "--no-check", help="Skip the site's live key checks (shows the last known state)."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """One row per provider: registered by whom, key source, local vs remote, WordPress's Connected / Set up."""
    from ..services import connectors, sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    target = sites.get_site(actx, site)
    view = connectors.overview(actx, target, check=not no_check)
    data = view.as_dict()
    rows = [[r.provider, r.registered_by, r.key_source, r.local or "-", r.state, r.wordpress, r.reason] for r in view.connectors]
    title = f"{target.name}: mode {view.mode or 'n/a (no bridge)'}"
    emit(
        actx.out,
        mode,
        data,
        rows=[{"site": view.site, **r.as_dict()} for r in view.connectors],
        table=lambda: actx.out.table(["provider", "registered by", "key source", "local", "local vs site", "wordpress", "reason"], rows, title=title),
    )
    if mode != "auto":
        return
    if not view.bridge:
        actx.out.info(
            "The aimo bridge is not active on this site: only connectors of installed provider plugins exist, and WordPress's own "
            f"state is unknown. Fix: aimo bridge zip (upload it) or aimo bridge install --wp-path DIR, then aimo bridge activate {target.name} "
            f"and aimo connectors enable {target.name}."
        )
    if view.bridge and view.mode in ("observe", "off"):
        actx.out.info(
            f"{target.name} is in {view.mode} mode: aimo only reports here and writes no key (sync push refuses, exit 6). "
            f"Hand aimo the Connectors: aimo connectors enable {target.name}"
        )
    for m in view.managers:
        if m.active:
            actx.out.info(f"Another manager is present: {m.name} (mode {m.mode}).")


def _enable(ctx: typer.Context, site: Optional[str], take_over: bool, mode: str, adopt: bool = False, from_env: bool = False, dry_run: bool = False) -> None:
    from ..errors import exit_code, status_of
    from ..services import connectors, modes, sites, sync_render
    from ..services.fleet import SiteOutcome

    actx = app_ctx(ctx)
    target = sites.get_site(actx, site)
    done = connectors.enable(actx, target, take_over=take_over, from_env=from_env, dry_run=dry_run)
    pushed = [SiteOutcome(target.name, True, done.push)]
    adopt = adopt and not dry_run
    if mode == "auto":
        for line in modes.describe_change(done.change, dry_run=dry_run):
            actx.out.line(line)
        status = status_of(sync_render.render(actx, pushed, title="push (dry run)" if dry_run else "push"))
        adopted = offer_adoption(actx, target, done.push, adopt)
        if dry_run:
            actx.out.info(DRY_RUN_NOTE)
        raise typer.Exit(exit_code([status, adopted]))
    candidates, adopted = adoption(actx, target, done.push, adopt)
    say_adoptable(actx, target, candidates, adopt)
    statuses = [o.exit_status for o in pushed + adopted]
    data = {
        "site": target.name,
        "mode_change": mode_change(done.change, dry_run),
        **sync_render.document(pushed),
        "adoptable": candidates,
        "adopted": sync_render.document(adopted) if adopted else None,
        "dry_run": dry_run,
    }
    data["exit_code"] = int(exit_code(statuses))
    emit(actx.out, mode, data, rows=sync_render.csv_rows(data), columns=sync_render.CSV_COLUMNS)
    if dry_run:
        actx.out.info(DRY_RUN_NOTE)
    raise typer.Exit(data["exit_code"])


def mode_change(change, dry_run: bool = False) -> dict:
    """A bridge mode switch, raw (docs/json.md): {site, previous, mode, demoted, changed, dry_run}."""
    return {
        "site": change.site,
        "previous": change.previous,
        "mode": change.mode,
        "demoted": list(change.demoted),
        "changed": change.previous != change.mode or bool(change.demoted),
        "dry_run": dry_run,
    }


def adoption(actx, target, result, adopt: bool):
    """(providers whose site key aimo could adopt, the adoption's outcomes): adopted only with --adopt."""
    from ..services import sync
    from ..services.fleet import SiteOutcome

    candidates = sync.adoptable(actx, result)
    if not candidates or not adopt:
        return candidates, []
    return candidates, [SiteOutcome(target.name, True, sync.pull_site(actx, target, candidates))]


def say_adoptable(actx, target, candidates: list[str], adopt: bool) -> None:
    """Never silently: keys aimo could adopt are named on stderr (in every format) with how to adopt them."""
    if candidates and not adopt:
        actx.out.info(
            f"{target.name} holds keys for {', '.join(candidates)} that aimo has none for; adopt them into the local store with "
            f"--adopt (or aimo sync pull {target.name} --provider ID)."
        )


def offer_adoption(actx, target, result, adopt: bool):
    """The site holds keys for providers aimo has none for: adopt them with --adopt (through the bridge's credential
    read), or say how — never silently. Human output; returns the adoption's ExitStatus."""
    from ..errors import ExitStatus, status_of
    from ..services import sync_render

    candidates, adopted = adoption(actx, target, result, adopt)
    say_adoptable(actx, target, candidates, adopt)
    if not adopted:
        return ExitStatus.OK
    return status_of(sync_render.render(actx, adopted, title="adopt"))


@app.command("enable", short_help="Switch sites to managed mode and push the local keys.")
def enable(
    ctx: typer.Context,
    sites_: Optional[List[str]] = SITES_ARG,
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    take_over: bool = typer.Option(False, "--take-over", help="Take over from another manager."),
    adopt: bool = typer.Option(False, "--adopt", help="Copy the site's keys for providers aimo has none for into the local store (one site)."),
    from_env: bool = typer.Option(False, "--from-env", help="Also send keys that come from environment variables."),
    jobs: int = JOBS_OPT,
    dry_run: bool = DRY_RUN_OPT,
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Switch sites to managed mode and push the local keys (the one-command quick start). One site, or a fleet: several
    names, --group, --all, split across machines with --shard."""
    mode = output_format(json, fmt)
    if len(sites_ or []) > 1 or group or all_sites or shard:
        _enable_fleet(ctx, sites_, group, all_sites, shard, jobs, take_over, mode, adopt, from_env, dry_run)
    _enable(ctx, (sites_ or [None])[0], take_over, mode, adopt, from_env, dry_run)


def _enable_fleet(ctx: typer.Context, names, group, all_sites: bool, shard, jobs: int, take_over: bool, mode: str, adopt: bool, from_env: bool, dry_run: bool) -> None:
    """`connectors enable` over several sites: each WordPress once, one failing site never stops the others, the most
    severe site sets the exit code. --adopt stays a one-site action: two sites may hold different keys for one
    provider, and aimo never picks one silently."""
    from ..errors import UsageError
    from ..services import connectors, fleet, modes, sync, sync_render
    from ..services import sites as site_profiles
    from ..services.fleet import SiteOutcome

    if adopt:
        raise UsageError("--adopt works on one site at a time (two sites may hold different keys for one provider)", "Enable the fleet without --adopt, then adopt per site: aimo sync pull SITE --provider ID")
    actx = app_ctx(ctx)
    picked = site_profiles.once_per_wordpress(actx, fleet.select_sites(actx, names, group, all_sites, shard))
    outcomes = fleet.run_fleet(actx, picked, lambda s: connectors.enable(actx, s, take_over=take_over, from_env=from_env, dry_run=dry_run), jobs=jobs, label="enable")
    pushed = [SiteOutcome(o.site, True, o.value.push) if o.ok else o for o in outcomes]
    adoptable = {o.site: pids for o in outcomes if o.ok and (pids := sync.adoptable(actx, o.value.push))}
    title = "enable (dry run)" if dry_run else "enable"
    if mode == "auto":
        for o in outcomes:
            if o.ok:
                for line in modes.describe_change(o.value.change, dry_run=dry_run):
                    actx.out.line(line)
    extra = {"mode_changes": [mode_change(o.value.change, dry_run) for o in outcomes if o.ok], "adoptable": adoptable, "dry_run": dry_run}
    code = sync_render.render(actx, pushed, fmt=mode, title=title, extra=extra)
    for site, pids in adoptable.items():
        actx.out.info(f"{site} holds keys for {', '.join(pids)} that aimo has none for; adopt them per site: aimo connectors enable {site} --adopt")
    if dry_run:
        actx.out.info(DRY_RUN_NOTE)
    raise typer.Exit(code)


@app.command("takeover", short_help="Take the Connectors over from another manager, then push.")
def takeover(ctx: typer.Context, site: Optional[str] = SITE_ARG, dry_run: bool = DRY_RUN_OPT, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Take the Connectors over from another manager (demoted to observe, keys untouched), then push."""
    _enable(ctx, site, True, output_format(json, fmt), dry_run=dry_run)


@app.command("clear", short_help="Take a provider's key off sites on purpose (logged).")
def clear(
    ctx: typer.Context,
    provider: str = typer.Argument(..., help="Provider id whose key is taken off the sites.", metavar="ID"),
    sites_: Optional[List[str]] = typer.Argument(None, help="Site names.", metavar="[SITE]..."),
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do it without asking (for scripts; a terminal asks first)."),
    dry_run: bool = DRY_RUN_OPT,
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Take a provider's key off sites on purpose, through the bridge (managed mode), logged: the only way aimo empties a
    connector. The local key stays; later pushes leave the site empty until --prefer local."""
    from ..errors import UsageError
    from ..services import credentials, fleet, sync, sync_render
    from ..services import sites as site_profiles
    from ._confirm import confirm

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    info = credentials.provider_info(provider)
    if not (sites_ or group or all_sites):
        raise UsageError("name the sites to clear, or use --group G or --all", f"e.g. aimo connectors clear {info.id} blog")
    picked = site_profiles.once_per_wordpress(actx, fleet.select_sites(actx, sites_, group, all_sites, shard))
    if picked and not dry_run:  # a shard may hold none of them
        confirm(actx, f"Take the {info.name} key off {', '.join(s.name for s in picked)}? WordPress features using it stop working there.", yes, what=f"clearing {info.name}")
    outcomes = fleet.run_fleet(actx, picked, lambda s: sync.clear_site(actx, s, [info.id], dry_run=dry_run), label="clear")
    code = sync_render.render(actx, outcomes, fmt=mode, title=f"clear {info.id}" + (" (dry run)" if dry_run else ""), extra={"dry_run": dry_run})
    if dry_run:
        actx.out.info(DRY_RUN_NOTE)
    raise typer.Exit(code)


@app.command("stop", short_help="Return a site to observe mode; no key is touched.")
def stop(ctx: typer.Context, site: Optional[str] = SITE_ARG, dry_run: bool = DRY_RUN_OPT, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Return the site to observe mode; no key is touched anywhere."""
    from ..services import connectors, modes, sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    target = sites.get_site(actx, site)
    change = connectors.stop(actx, target, dry_run=dry_run)

    def human() -> None:
        for line in modes.describe_change(change, dry_run=dry_run, note=" (keys untouched)"):
            actx.out.line(line)

    emit(actx.out, mode, mode_change(change, dry_run), table=human)
    if dry_run:
        actx.out.info(DRY_RUN_NOTE)
