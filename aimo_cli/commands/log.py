"""aimo log: who changed which key, when — the sites' change logs merged with aimo's own local log."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..ui.formats import emit
from ._common import ALL_OPT, FORMAT_OPT, GROUP_OPT, JSON_OPT, SHARD_OPT, SITES_ARG, app_ctx, output_format


def log(
    ctx: typer.Context,
    sites: Optional[List[str]] = SITES_ARG,
    group: Optional[str] = GROUP_OPT,
    all_sites: bool = ALL_OPT,
    provider: Optional[List[str]] = typer.Option(None, "--provider", "-p", help="Only this provider (repeatable).", metavar="ID"),
    local: bool = typer.Option(False, "--local", help="Only aimo's local log; do not contact the sites."),
    limit: int = typer.Option(50, "--limit", "-n", help="Show the newest N entries (0: all).", metavar="N", min=0),
    jobs: int = typer.Option(8, "--jobs", "-j", help="Sites read at once.", metavar="N", min=1, max=256),
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Who changed which key, when: each site's change log (user, channel, plugin, fingerprints) merged with aimo's own
    local log of its writes (never a key)."""
    from ..services import audit, fleet
    from ..services.sync import pick_providers

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    pids = set(pick_providers(provider)) if provider else None
    chosen = sites or group or all_sites or shard
    picked = fleet.select_sites(actx, sites, group, all_sites, shard) if (chosen or not local) else []
    names = {s.name for s in picked} if chosen or picked else None
    events = audit.local_events(actx, names)
    failures = []
    if not local:
        for outcome in fleet.run_fleet(actx, picked, lambda site: audit.site_events(actx, site), jobs=jobs, label="log"):
            if outcome.ok:
                events += outcome.value
            else:
                failures.append(outcome)
                actx.out.warn(f"{outcome.site}: the site's change log could not be read: {outcome.error}")
    if pids is not None:
        events = [e for e in events if e.provider in pids]
    events = audit.merged(events, [])
    if limit:
        events = events[-limit:]
    def human() -> None:
        if not events:
            actx.out.line("No key change recorded.")
            return
        actx.out.table(
            ["time", "site", "provider", "what", "who", "old", "new", "result"],
            [[e.time, e.site, e.provider, e.action, audit.who(e) if e.origin == "site" else "aimo (local log)", e.old_fingerprint or "-", e.new_fingerprint or "-", e.result or ""] for e in events],
        )

    rows = [e.as_dict() for e in events]
    code = int(fleet.fleet_exit_code(failures)) if failures else 0
    errors = [{"site": o.site, "error": o.error, "hint": o.hint, "exit_code": int(o.code)} for o in failures]
    emit(actx.out, mode, {"events": rows, "unreadable": errors, "exit_code": code}, rows=rows, table=human)
    if failures:
        raise typer.Exit(code)
