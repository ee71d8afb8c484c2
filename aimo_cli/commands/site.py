"""aimo site: WordPress site profiles (URL, user, application password)."""

from __future__ import annotations

from typing import Optional

import typer

from ..ui.formats import emit
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
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Add a site (--force replaces one): discover its REST API, check the application password, store it."""
    from ..errors import SafetyError
    from ..services import sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    sites.check_name(name)
    sites.normalise_url(url, allow_insecure_http=allow_insecure_http)  # fail before prompting
    if rest_root is not None:
        sites.normalise_rest_root(rest_root, allow_insecure_http=allow_insecure_http)
    existing = actx.settings().site(name)
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
    human = mode == "auto"
    if report and human:
        _render_report(actx, report)
    normalised = sites.normalise_url(url, allow_insecure_http=allow_insecure_http)
    if dry_run:
        what = f"replace site {name} ({existing.url} as {existing.user}) with" if existing is not None else "add site"
        profile = {"name": name, "url": normalised, "user": user, "group": group, "default": default, "password_stored": False}
        data = {
            "site": profile,
            "replaced": [{"url": existing.url, "user": existing.user, "group": existing.group, "sync_history_kept": existing.url == normalised}] if existing is not None else [],
            "test": report.as_dict() if report else None,
            "same_wordpress_as": [],
            "adoptable": [],
            "adopted": None,
            "exit_code": 0,
            "dry_run": True,
        }
        emit(actx.out, mode, data, rows=[profile], table=lambda: actx.out.line(f"Would {what} {name}: {normalised} as {user}" + (f", group {group}" if group else "") + "."))
        actx.out.info(DRY_RUN_NOTE)
        return
    same_url = [old.url == normalised for old in replaced]
    for old, same in zip(replaced, same_url):
        history = "same URL: its sync history is kept" if same else "its sync history was dropped"
        (actx.out.line if human else actx.out.info)(f"Replaced site {name} (was {old.url} as {old.user}{', group ' + old.group if old.group else ''}; {history}).")
    if not replaced and human:
        actx.out.line(f"Added site {name}.")
    same_site = sites.same_site_profiles(actx, name)
    for other in same_site:
        actx.out.warn(f"site {name} and site {other} point at the same WordPress; commands that write (sync push/pull, keys rotate, connectors enable/clear) handle it once.")
    from ..errors import exit_code

    code = exit_code([])
    candidates, adopted = [], []
    if report and report.bridge:
        from ..services import sync
        from .connectors import adoption, offer_adoption, say_adoptable

        target = sites.get_site(actx, name)
        status = sync.status_site(actx, target)
        if human:
            code = exit_code(offer_adoption(actx, target, status, adopt))
        else:
            candidates, adopted = adoption(actx, target, status, adopt)
            say_adoptable(actx, target, candidates, adopt)
            code = exit_code(o.exit_status for o in adopted)
    if not human:
        from ..services import sync_render

        profile = next((r for r in sites.list_sites(actx) if r["name"] == name), {})
        data = {
            "site": profile,
            "replaced": [{"url": old.url, "user": old.user, "group": old.group, "sync_history_kept": same} for old, same in zip(replaced, same_url)],
            "test": report.as_dict() if report else None,
            "same_wordpress_as": list(same_site),
            "adoptable": candidates,
            "adopted": sync_render.document(adopted) if adopted else None,
            "exit_code": int(code),
            "dry_run": False,
        }
        emit(actx.out, mode, data, rows=[profile])
    if code:
        raise typer.Exit(code)


@app.command("list", short_help="List the configured sites.")
def list_(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """List configured sites."""
    from ..services import sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    rows = sites.list_sites(actx)
    emit(
        actx.out,
        mode,
        {"sites": rows, "default_site": next((r["name"] for r in rows if r["default"]), None)},
        rows=rows,
        table=lambda: actx.out.table(
            ["name", "url", "user", "group", "default", "password"],
            [[r["name"], r["url"], r["user"], r["group"] or "", "*" if r["default"] else "", "stored" if r["password_stored"] else "MISSING"] for r in rows],
        ),
    )


@app.command("rm", short_help="Remove a site profile, its password and its sync history.")
def rm(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Site name.", metavar="SITE"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do it without asking (for scripts; a terminal asks first)."),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Remove a site profile, its stored application password and its sync history (the site itself is untouched)."""
    from ..services import sites
    from ._confirm import confirm

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    target = sites.get_site(actx, name)
    removed = {"name": name, "url": target.url, "user": target.user, "group": target.group}
    if dry_run:
        data = {"removed": removed, "default_site": actx.settings().default_site or None, "dry_run": True}
        emit(actx.out, mode, data, rows=[removed], table=lambda: actx.out.line(f"Would remove site {name} ({target.url} as {target.user}), its application password and its sync history."))
        actx.out.info(DRY_RUN_NOTE)
        return
    confirm(actx, f"Remove site {name} ({target.url} as {target.user}), its application password and its sync history?", yes, what=f"removing site {name}")
    sites.remove_site(actx, name)
    data = {"removed": removed, "default_site": actx.settings().default_site or None, "dry_run": False}
    emit(actx.out, mode, data, rows=[removed], table=lambda: actx.out.line(f"Removed site {name}."))


@app.command("use", short_help="Make a site the default.")
def use(ctx: typer.Context, name: str = typer.Argument(..., help="Site name.", metavar="SITE"), dry_run: bool = DRY_RUN_OPT, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Make a site the default for commands that take [SITE]."""
    from ..services import sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    settings = actx.settings()
    if name not in settings.site_names():
        raise sites.unknown_site(name, settings.site_names())
    previous = settings.default_site or None
    data = {"default_site": name, "previous": previous, "changed": previous != name, "dry_run": dry_run}
    if previous == name:
        emit(actx.out, mode, data, table=lambda: actx.out.line(f"{name} is already the default site."))
        return
    if dry_run:
        emit(actx.out, mode, data, table=lambda: actx.out.line(f"Would make {name} the default site (now {previous or 'none'})."))
        actx.out.info(DRY_RUN_NOTE)
        return
    sites.use_site(actx, name)
    emit(actx.out, mode, data, table=lambda: actx.out.line(f"Default site: {name}."))


@app.command("test", short_help="Check a site with the doctor's site checks (exit 7 on a fail).")
def test(ctx: typer.Context, name: Optional[str] = SITE_ARG, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Check a site: the doctor's site checks (reachable, HTTPS, credentials, manage_options, WordPress 7+, bridge, mode)."""
    from ..errors import exit_code
    from ..services import sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    report = sites.test_site(actx, name)
    data = dict(report.as_dict(), exit_code=int(exit_code(report.exit_status)))
    emit(actx.out, mode, data, rows=data["checks"], table=lambda: _render_report(actx, report))
    raise typer.Exit(data["exit_code"])


def _render_report(actx, report) -> None:
    marks = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
    actx.out.table(["check", "status", "detail"], [[c.id, marks[c.status], c.message] for c in report.checks], title=f"{report.site} ({report.url})")
    for c in report.checks:
        if c.hint and c.status in ("warn", "fail"):
            actx.out.info(f"Hint ({c.id}): {c.hint}")
