"""aimo connectors: the Connectors of a site at a glance, and the managed workflow (enable, takeover, stop)."""

from __future__ import annotations

from typing import Optional

import typer

from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format

app = typer.Typer(help="List a site's connectors; enable, take over or stop aimo's management.", no_args_is_help=True)
SITE_ARG = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]")


@app.command("list")
def list_(
    ctx: typer.Context,
    site: Optional[str] = SITE_ARG,
    no_check: bool = typer.Option(False, "--no-check", help="Skip the site's live key checks (shows the last known state)."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """One row per provider: registered by whom, key source, local vs remote, WordPress's Connected / Set up."""
    from ..services import modes, sites

    actx = app_ctx(ctx)
    target = sites.get_site(actx, site)
    view = modes.connectors_overview(actx, target, check=not no_check)
    mode = output_format(json, fmt)
    if mode == "json":
        actx.out.json(view)
        return
    rows = [[r["provider"], r["registered_by"], r["key_source"], r["local"] or "-", r["state"], r["wordpress"], r["reason"]] for r in view["connectors"]]
    title = f"{target.name}: mode {view['mode'] or 'n/a (no bridge)'}"
    actx.out.table(["provider", "registered by", "key source", "local", "local vs site", "wordpress", "reason"], rows, title=title, fmt=mode)
    if not view["bridge"]:
        actx.out.info(
            "The aimo bridge is not active on this site: only connectors of installed provider plugins exist, and WordPress's own "
            f"state is unknown. Fix: aimo bridge zip (upload it) or aimo bridge install --wp-path DIR, then aimo bridge activate {target.name} "
            f"and aimo connectors enable {target.name}."
        )
    for m in view["managers"]:
        if m.get("active"):
            actx.out.info(f"Another manager is present: {m.get('name')} (mode {m.get('mode')}).")


def _enable(ctx: typer.Context, site: Optional[str], take_over: bool, json: bool) -> None:
    from ..services import modes, sites, sync, sync_render
    from ..services.fleet import SiteOutcome

    actx = app_ctx(ctx)
    target = sites.get_site(actx, site)
    change = modes.set_mode(actx, target, "managed", take_over=take_over)
    if not json:
        actx.out.line(f"{target.name}: mode {change.previous or '?'} → managed")
        for d in change.demoted:
            actx.out.line(f"  demoted {d.get('name', d) if isinstance(d, dict) else d} to observe")
    result = sync.push_site(actx, target)
    raise typer.Exit(sync_render.render(actx, [SiteOutcome(target.name, True, 0, result)], json=json, title="push"))


@app.command("enable")
def enable(
    ctx: typer.Context,
    site: Optional[str] = SITE_ARG,
    take_over: bool = typer.Option(False, "--take-over", help="Take over from another manager."),
    json: bool = JSON_OPT,
) -> None:
    """Switch the site to managed mode and push the local keys (the one-command quick start)."""
    _enable(ctx, site, take_over, json)


@app.command("takeover")
def takeover(ctx: typer.Context, site: Optional[str] = SITE_ARG, json: bool = JSON_OPT) -> None:
    """Take the Connectors over from another manager (demoted to observe, keys untouched), then push."""
    _enable(ctx, site, True, json)


@app.command("stop")
def stop(ctx: typer.Context, site: Optional[str] = SITE_ARG) -> None:
    """Return the site to observe mode; no key is touched anywhere."""
    from ..services import modes, sites

    actx = app_ctx(ctx)
    target = sites.get_site(actx, site)
    change = modes.set_mode(actx, target, "observe")
    actx.out.line(f"{target.name}: mode {change.previous or '?'} → observe (keys untouched)")
