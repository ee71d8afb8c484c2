"""aimo site: WordPress site profiles (URL, user, application password)."""

from __future__ import annotations

from typing import Optional

import typer

from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT, AimoTyper
from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format, read_secret

app = AimoTyper(short_help="Add, test, list and remove WordPress site profiles.", help="Add, test, list and remove WordPress sites.", no_args_is_help=True)

SITE_ARG = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]")


@app.command("add", short_help="Add a site: discover its REST API, check the password, store.")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A short name for the site, e.g. blog.", metavar="NAME"),
    url: str = typer.Argument(..., help="The site's home URL.", metavar="URL"),
    user: str = typer.Option(..., "--user", "-u", help="An Administrator's login or email.", metavar="USER"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the application password from standard input."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Put the site in a group (for fleet commands).", metavar="GROUP"),
    default: bool = typer.Option(False, "--default", help="Make it the default site."),
    allow_insecure_http: bool = typer.Option(False, "--allow-insecure-http", help="Allow plain http to a non-loopback host."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Store without contacting the site."),
    rest_root: Optional[str] = typer.Option(
        None, "--rest-root", help="Use this REST root, even on another origin (the password then goes there).", metavar="URL"
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing site of the same name (a new URL drops its sync history)."),
    adopt: bool = typer.Option(False, "--adopt", help="Copy the site's keys for providers aimo has none for into the local store (needs the bridge)."),
    dry_run: bool = DRY_RUN_OPT,
) -> None:
    """Add a site (--force replaces one): discover its REST API, check the application password, store it."""
    from ..errors import SafetyError
    from ..services import sites

    actx = app_ctx(ctx)
    sites.check_name(name)
    sites.normalise_url(url, allow_insecure_http=allow_insecure_http)  # fail before prompting
    if rest_root is not None:
        sites.normalise_rest_root(rest_root, allow_insecure_http=allow_insecure_http)
    existing = actx.settings().sites().get(name)
    if existing is not None and not force:
        raise SafetyError(
            f"a site named {name} already exists ({existing.url} as {existing.user}); adding it again would replace it",
            "Pass --force to replace it, or pick another name (aimo site list shows the names in use).",
        )
    password = read_secret(f"Application password for {user} at {url}: ", stdin)
    replaced: list = []
    report = sites.add_site(
        actx,
        name,
        url,
        user,
        password,
        group=group,
        allow_insecure_http=allow_insecure_http,
        make_default=default,
        verify=not no_verify,
        rest_root=rest_root,
        force=force,
        replaced=replaced,
        dry_run=dry_run,
    )
    if report:
        _render_report(actx, report)
    if dry_run:
        what = f"replace site {name} ({existing.url} as {existing.user}) with" if existing is not None else "add site"
        actx.out.line(f"Would {what} {name}: {sites.normalise_url(url, allow_insecure_http=allow_insecure_http)} as {user}" + (f", group {group}" if group else "") + ".")
        actx.out.info(DRY_RUN_NOTE)
        return
    for old in replaced:
        history = "its sync history was dropped" if old.url != sites.normalise_url(url, allow_insecure_http=allow_insecure_http) else "same URL: its sync history is kept"
        actx.out.line(f"Replaced site {name} (was {old.url} as {old.user}{', group ' + old.group if old.group else ''}; {history}).")
    if not replaced:
        actx.out.line(f"Added site {name}.")
    for other in sites.same_site_profiles(actx, name):
        actx.out.warn(f"site {name} and site {other} point at the same WordPress; commands that write (sync push/pull, keys rotate, connectors clear) handle it once.")
    if report and report.bridge:
        from ..errors import exit_code
        from ..services import sync
        from .connectors import offer_adoption

        target = sites.get_site(actx, name)
        code = exit_code(offer_adoption(actx, target, sync.status_site(actx, target), adopt, False))
        if code:
            raise typer.Exit(code)


@app.command("list", short_help="List the configured sites.")
def list_(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """List configured sites."""
    from ..services import sites

    actx = app_ctx(ctx)
    rows = sites.list_sites(actx)
    mode = output_format(json, fmt)
    if mode == "json":
        actx.out.json(rows)
        return
    actx.out.table(
        ["name", "url", "user", "group", "default", "password"],
        [[r["name"], r["url"], r["user"], r["group"] or "", "*" if r["default"] else "", "stored" if r["password_stored"] else "MISSING"] for r in rows],
        fmt=mode,
    )


@app.command("rm", short_help="Remove a site profile, its password and its sync history.")
def rm(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Site name.", metavar="SITE"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do it without asking (for scripts; a terminal asks first)."),
    dry_run: bool = DRY_RUN_OPT,
) -> None:
    """Remove a site profile, its stored application password and its sync history (the site itself is untouched)."""
    from ..services import sites
    from ._confirm import confirm

    actx = app_ctx(ctx)
    target = sites.get_site(actx, name)
    if dry_run:
        actx.out.line(f"Would remove site {name} ({target.url} as {target.user}), its application password and its sync history.")
        actx.out.info(DRY_RUN_NOTE)
        return
    confirm(actx, f"Remove site {name} ({target.url} as {target.user}), its application password and its sync history?", yes, what=f"removing site {name}")
    sites.remove_site(actx, name)
    actx.out.line(f"Removed site {name}.")


@app.command("use", short_help="Make a site the default.")
def use(ctx: typer.Context, name: str = typer.Argument(..., help="Site name.", metavar="SITE"), dry_run: bool = DRY_RUN_OPT) -> None:
    """Make a site the default for commands that take [SITE]."""
    from ..services import sites

    actx = app_ctx(ctx)
    settings = actx.settings()
    if name not in settings.sites():
        raise sites.unknown_site(name, settings.sites())
    if settings.default_site == name:
        actx.out.line(f"{name} is already the default site.")
        return
    if dry_run:
        actx.out.line(f"Would make {name} the default site (now {settings.default_site or 'none'}).")
        actx.out.info(DRY_RUN_NOTE)
        return
    sites.use_site(actx, name)
    actx.out.line(f"Default site: {name}.")


@app.command("test", short_help="Check a site with the doctor's site checks (exit 7 on a fail).")
def test(ctx: typer.Context, name: Optional[str] = SITE_ARG, json: bool = JSON_OPT) -> None:
    """Check a site: the doctor's site checks (reachable, HTTPS, credentials, manage_options, WordPress 7+, bridge, mode)."""
    from ..errors import exit_code
    from ..services import sites

    actx = app_ctx(ctx)
    report = sites.test_site(actx, name)
    if json:
        actx.out.json(report.as_dict())
    else:
        _render_report(actx, report)
    raise typer.Exit(exit_code(report.exit_status))


def _render_report(actx, report) -> None:
    marks = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
    actx.out.table(["check", "status", "detail"], [[c.id, marks[c.status], c.message] for c in report.checks], title=f"{report.site} ({report.url})")
    for c in report.checks:
        if c.hint and c.status in ("warn", "fail"):
            actx.out.info(f"Hint ({c.id}): {c.hint}")
