"""aimo mode: show or switch the bridge's mode on a site."""

from __future__ import annotations

from typing import Optional

import typer

from ..ui.formats import emit
from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT
from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format


def mode(
    ctx: typer.Context,
    first: Optional[str] = typer.Argument(None, help="observe, managed or off to switch; otherwise a site name to show.", metavar="[MODE|SITE]"),
    site: Optional[str] = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]"),
    take_over: bool = typer.Option(False, "--take-over", help="Take the Connectors over from another manager (it is demoted to observe)."),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Show the mode (aimo mode [SITE]) or switch it (aimo mode observe|managed|off [SITE] [--take-over])."""
    from ..services import modes, sites

    from .connectors import mode_change

    actx = app_ctx(ctx)
    out_fmt = output_format(json, fmt)
    if first in modes.MODES:
        target = sites.get_site(actx, site)
        if dry_run:
            change = modes.plan_mode(actx, target, first, take_over=take_over)
        else:
            change = modes.set_mode(actx, target, first, take_over=take_over)

        def human() -> None:
            for line in modes.describe_change(change, dry_run=dry_run):
                actx.out.line(line)

        emit(actx.out, out_fmt, mode_change(change, dry_run), table=human)
        if dry_run:
            actx.out.info(DRY_RUN_NOTE)
        return
    if site is not None:
        modes.check_mode(first or "")
    if first is not None and first not in actx.settings().site_names():
        raise modes.unknown_mode_or_site(actx, first)
    target = sites.get_site(actx, first)
    status = modes.get_status(actx, target)
    competitor = status.active_competitor
    managers = [m.as_dict() for m in status.managers]

    def human() -> None:
        actx.out.line(f"{target.name}: {status.mode}")
        for m in status.managers:
            actx.out.line(f"  other manager: {m.name} ({m.mode or 'unknown mode'}{', active' if m.active else ''})")

    emit(actx.out, out_fmt, {"site": target.name, "mode": status.mode, "managers": managers}, rows=[{"site": target.name, "mode": status.mode}], table=human)
    if competitor and status.mode != "managed" and out_fmt == "auto":
        actx.out.info(f"Hint: {competitor.name} manages the Connectors; take over with: aimo mode managed {target.name} --take-over")
