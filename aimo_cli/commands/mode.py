"""aimo mode: show or switch the bridge's mode on a site."""

from __future__ import annotations

from typing import Optional

import typer

from ._common import JSON_OPT, app_ctx


def mode(
    ctx: typer.Context,
    first: Optional[str] = typer.Argument(None, help="observe, managed or off to switch; otherwise a site name to show.", metavar="[MODE|SITE]"),
    site: Optional[str] = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]"),
    take_over: bool = typer.Option(False, "--take-over", help="Take the Connectors over from another manager (it is demoted to observe)."),
    json: bool = JSON_OPT,
) -> None:
    """Show the mode (aimo mode [SITE]) or switch it (aimo mode observe|managed|off [SITE] [--take-over])."""
    from ..services import modes, sites

    actx = app_ctx(ctx)
    if first in modes.MODES:
        target = sites.get_site(actx, site)
        change = modes.set_mode(actx, target, first, take_over=take_over)
        if json:
            actx.out.json(change.__dict__)
            return
        actx.out.line(f"{target.name}: mode {change.previous or '?'} → {change.mode}")
        for d in change.demoted:
            actx.out.line(f"  demoted {d.get('name', d) if isinstance(d, dict) else d} to observe (its keys are untouched)")
        return
    if site is not None:
        modes.check_mode(first or "")
    target = sites.get_site(actx, first)
    status = modes.get_status(actx, target)
    competitor = modes.active_competitor(status)
    if json:
        actx.out.json({"site": target.name, "mode": status.get("mode"), "managers": status.get("managers") or []})
        return
    actx.out.line(f"{target.name}: {status.get('mode')}")
    for m in status.get("managers") or []:
        actx.out.line(f"  other manager: {m.get('name')} ({m.get('mode') or 'unknown mode'}{', active' if m.get('active') else ''})")
    if competitor and status.get("mode") != "managed":
        actx.out.info(f"Hint: {competitor.get('name')} manages the Connectors; take over with: aimo mode managed {target.name} --take-over")
