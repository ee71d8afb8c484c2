"""aimo bridge: the companion WordPress plugin (zip, install, activate, status)."""

from __future__ import annotations

from typing import Optional

import typer

from ..ui.formats import emit
from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT, AimoTyper, say_write
from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format

app = AimoTyper(short_help="Package, install, activate and inspect the bridge plugin.", help="Package, install, activate and inspect the aimo bridge plugin.", no_args_is_help=True)

SITE_ARG = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]")


@app.command("zip", short_help="Write an upload-ready zip of the bridge plugin.")
def zip_(
    ctx: typer.Context,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Zip file to write (default: ./aimo-bridge-VERSION.zip); - writes it to standard output.", metavar="FILE"
    ),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Write an upload-ready zip of the bridge (Plugins → Add New → Upload)."""
    from ..errors import UsageError
    from ..services import bridge

    out = app_ctx(ctx).out
    mode = output_format(json, fmt)
    if output == "-":
        if mode != "auto":
            raise UsageError("-o - writes the zip itself to standard output; there is no room for a --format report", "Write it to a file: -o FILE --format " + mode)
        out.binary(bridge.write_zip, what="a zip")
        out.info(f"Wrote the aimo bridge {bridge.version()} zip to standard output.")
        return
    path = bridge.make_zip(output)
    data = {"path": str(path), "version": bridge.version()}
    emit(out, mode, data, table=lambda: out.line(f"Wrote {path} (aimo bridge {data['version']})."))


@app.command("install", short_help="Copy the bridge into a WordPress install on this machine.")
def install(
    ctx: typer.Context,
    wp_path: str = typer.Option(..., "--wp-path", help="The WordPress root (the directory with wp-load.php).", metavar="DIR"),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Copy the bridge into a local WordPress (wp-content/plugins/aimo-bridge), replacing an older copy atomically."""
    from ..services import bridge

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    result = bridge.install(wp_path, dry_run=dry_run)
    was = f" (was {result.previous_version})" if result.previous_version else ""
    data = {"path": str(result.path), "version": result.version, "previous_version": result.previous_version, "dry_run": dry_run}
    if dry_run:
        emit(actx.out, mode, data, table=lambda: actx.out.line(f"Would install aimo bridge {result.version}{was.replace('was', 'replacing')} in {result.path}."))
        actx.out.info(DRY_RUN_NOTE)
        return
    emit(actx.out, mode, data, table=lambda: actx.out.line(f"Installed aimo bridge {result.version}{was} in {result.path}."))
    actx.out.info("Next: aimo bridge activate [SITE]")


@app.command("activate", short_help="Activate the installed bridge on a site.")
def activate(ctx: typer.Context, site: Optional[str] = SITE_ARG, dry_run: bool = DRY_RUN_OPT, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Activate the installed bridge on a site (through the REST plugins route)."""
    from ..services import bridge, sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    name = sites.get_site(actx, site).name
    answer = bridge.activate(actx, name, dry_run=dry_run)
    data = {"site": name, "version": answer.get("version") or None, "status": answer.get("status") or ("unknown" if dry_run else "active"), "dry_run": dry_run}
    if dry_run:
        state, version = data["status"], data["version"] or ""
        emit(actx.out, mode, data, table=lambda: actx.out.line(f"aimo bridge {version} is already active (nothing to do)." if state == "active" else f"Would activate aimo bridge {version} (now {state})."))
        actx.out.info(DRY_RUN_NOTE)
        return
    emit(actx.out, mode, data, table=lambda: actx.out.line(f"aimo bridge {data['version'] or ''} is {data['status']}.".replace("  ", " ")))


@app.command("status", short_help="Show the bridge's mode and every AI connector on a site.")
def status(
    ctx: typer.Context,
    site: Optional[str] = SITE_ARG,
    json: bool = JSON_OPT,
    check: bool = typer.Option(False, "--check", help="Check every keyed provider live (one model list call each)."),
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Show the bridge's mode and every AI connector on a site."""
    from ..services import bridge

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    name, report = bridge.status(actx, site, check=check)
    if mode != "auto":
        data = {"site": name, **report.as_dict()}
        emit(actx.out, mode, data, rows=[{"site": name, **c.as_dict()} for c in report.connectors])
        return
    actx.out.line(f"aimo bridge {report.bridge_version} on WordPress {report.wordpress_version}: mode {report.mode}")
    connected = {True: "yes", False: "no", None: "?"}
    from ..services.audit import checked_when

    actx.out.table(
        ["id", "name", "registered by", "key", "connected", "checked", "served by", "fingerprint"],
        [
            [c.id, c.name, registered_by(c), c.key_source, connected[c.connected], checked_when(c.checked_at, c.connected), served_by(c), c.fingerprint]
            for c in report.connectors
        ],
    )
    for m in report.managers:
        actx.out.info(f"Other connector manager: {m.name} ({m.mode}, {'active' if m.active else 'inactive'})")
    from ..core.checks import base_url_override
    from ..core.providers import PROVIDERS

    for c in report.connectors:
        info = PROVIDERS.get(c.id)
        found = base_url_override(c, info.default_base_url if info else "")
        if found:
            actx.out.warn(f"{c.id}: requests (and keys) go to {found[0]}, not the provider's own endpoint ({found[1]})")
    if report.compatible is False:
        actx.out.warn(f"This bridge ({report.bridge_version}) is not compatible with this aimo: update it (aimo bridge install) or aimo.")


def registered_by(c) -> str:
    """Who registered a connector, by name where the bridge names the plugin ("plugin: AI Provider for OpenAI 1.0.3")."""
    who = (c.registrant.label or c.registrant.name) if c.registrant is not None and c.registrant.kind in ("plugin", "mu-plugin") else ""
    if c.registered_by == "manager" and c.manager:
        who = who or c.manager
    return f"{c.registered_by}: {who}" if who and who != c.registered_by else c.registered_by


def served_by(c) -> str:
    """The plugin whose AI Client class serves the provider ("-" when none does or the bridge does not say)."""
    if c.served_by is None:
        return "-"
    return c.served_by.label or c.served_by.name or c.served_by.kind


@app.command("base-url", short_help="Point a provider's connector on a site at a gateway.")
def base_url(
    ctx: typer.Context,
    provider: str = typer.Argument(..., help="Provider id.", metavar="ID"),
    url: Optional[str] = typer.Argument(None, help="OpenAI-compatible base URL on the site's side (omit with --clear).", metavar="[URL]"),
    site: Optional[str] = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]"),
    clear: bool = typer.Option(False, "--clear", help="Remove the override: the provider's own endpoint again."),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Point one provider's connector on the site at a gateway or proxy (the bridge's base URL override).

    aimo bridge base-url ID URL [SITE] sets it; aimo bridge base-url ID --clear [SITE] removes it."""
    from ..errors import UsageError
    from ..services import bridge

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    if clear and url and "://" not in url and site is None:
        url, site = None, url  # aimo bridge base-url ID --clear SITE: the one word after ID is the site
    if clear == bool(url):
        raise UsageError("give a URL, or --clear (one of the two)", "e.g. aimo bridge base-url groq https://gateway.example/groq/v1")
    change = bridge.set_base_url(actx, site, provider, None if clear else url, dry_run=dry_run)
    if not change.checked:
        actx.out.warn(f"{change.site}: its aimo bridge is too old to check this change; the write may still be refused (update it: aimo bridge install)")
    where = f"base URL {change.url}" if change.url else "the provider's own endpoint"
    was = f"base URL {change.previous}" if change.previous else "the provider's own endpoint"
    say_write(
        actx.out,
        changed=change.changed,
        dry_run=dry_run,
        already=f"{change.site}: {change.provider} already uses {where}",
        would=f"{change.site}: {change.provider} would use {where} (now {was})",
        done=f"{change.site}: {change.provider} now uses {where} (was {was})",
        fmt=mode,
        data={"site": change.site, "provider": change.provider, "base_url": change.url, "previous": change.previous},
    )
