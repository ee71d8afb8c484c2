"""aimo models: the model catalog (live lists, cached, with a curated fallback)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..ui.formats import emit
from ._cli import DRY_RUN_OPT, AimoTyper, say_write
from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format
from ._providers import PROVIDER_IDS

app = AimoTyper(short_help="List the model catalog; set WordPress AI's preferred models.", help="List, refresh and inspect the models of your providers.", no_args_is_help=True)

COLUMNS = ["provider", "model", "kind", "context", "retires", "source"]


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()


def _row(e, today: str) -> list:
    retires = ("retired " if e.retired(today) else "") + (e.deprecation or "") + (f" \u2192 {e.successor}" if e.successor else "")
    return [e.provider, e.id, e.kind, e.context_window or "", retires, e.source]


def _as_dict(e, today: str) -> dict:
    return {**e.to_dict(), "retired": e.retired(today)}


@app.command("list", short_help="List models of connected providers (--all: every provider).")
def list_(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--type", help="Only text or image models.", metavar="text|image"),
    provider: Optional[str] = typer.Option(None, "--provider", help="Only this provider.", metavar="ID"),
    all_: bool = typer.Option(False, "--all", help="Include providers that are not connected (curated lists)."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """List models of connected providers (a key present and last verified ok); --all for every provider."""
    from ..services.models import list_models

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    entries, listings, ids = list_models(actx, kind=kind, provider=provider, include_all=all_)
    for listing in listings:
        if listing.note:
            actx.out.info(f"{listing.provider}: {listing.note}")
    if not ids:
        actx.out.info("No connected providers. Verify keys with `aimo keys verify`, or show every provider with --all.")
    today = _today()
    rows = [_as_dict(e, today) for e in entries]
    emit(actx.out, mode, {"models": rows, "connected": list(ids)}, rows=rows, table=lambda: actx.out.table(COLUMNS, [_row(e, today) for e in entries]))


@app.command("refresh", short_help="Fetch live model lists now and update the cache.")
def refresh(
    ctx: typer.Context,
    providers: Optional[List[str]] = typer.Argument(None, help="Provider ids (default: every provider with a key).", metavar="[ID...]"),
    force: bool = typer.Option(False, "--force", help="Accept a much smaller list, and retry Ollama during its cooldown."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Fetch live model lists now (concurrently) and update the cache and the completion index."""
    from ..errors import exit_code
    from ..services.credentials import provider_info
    from ..services.models import Catalog
    from ..ui.progress import provider_progress

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    ids = [provider_info(p).id for p in providers or []]
    catalog = Catalog(actx)
    try:
        with provider_progress(actx.out, len(ids) or len(PROVIDER_IDS), "Fetching model lists") as advance:
            outcomes = catalog.refresh(ids, force=force, on_done=advance)
    finally:
        catalog.close()
    code = int(exit_code(o.exit_status for o in outcomes))
    rows = [dict(o.__dict__) for o in outcomes]
    emit(
        actx.out,
        mode,
        {"results": rows, "exit_code": code},
        rows=rows,
        table=lambda: actx.out.table(["provider", "result", "models", "detail"], [[o.provider, o.status, o.count, o.message] for o in outcomes]),
    )
    if not outcomes:
        actx.out.info("No provider has a credential. Add one with `aimo keys set ID`.")
    raise typer.Exit(code)


@app.command("show", short_help="Show one model: kind, context, retirement, successor.")
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="PROVIDER:MODEL, e.g. groq:openai/gpt-oss-120b.", metavar="ID:MODEL"),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Show what aimo knows about one model (kind, context window, retirement, successor, source)."""
    from ..errors import UsageError
    from ..services.models import Catalog

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    catalog = Catalog(actx)
    try:
        entry = catalog.find(ref)
        hint = "" if entry is not None else catalog.did_you_mean(ref)
    finally:
        catalog.close()
    if entry is None:
        raise UsageError(f"no model {ref!r} in the catalog", f"{hint}See the list: aimo models list --all --provider {ref.split(':', 1)[0]}")
    today = _today()
    if mode != "auto":
        row = _as_dict(entry, today)
        emit(actx.out, mode, {"model": row}, rows=[row])
        return
    retired = entry.retired(today)
    when = f"{entry.deprecation} (retired: the provider no longer serves it; pick another model)" if retired else entry.deprecation
    for label, value in (("model", entry.ref), ("name", entry.name), ("kind", entry.kind), ("context", entry.context_window), ("retired" if retired else "retires", when), ("successor", entry.successor), ("source", entry.source)):
        if value:
            actx.out.line(f"{label + ':':10} {value}")


@app.command("set", short_help="Make WordPress AI prefer a model for text or image.")
def set_(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="text or image.", metavar="KIND"),
    ref: str = typer.Argument(..., help="PROVIDER:MODEL of a connected provider.", metavar="ID:MODEL"),
    site: Optional[str] = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]"),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Make WordPress AI prefer this model for text or image features (tried first)."""
    from ..services import preferences, sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    preferences.check_kind(kind)
    result = preferences.set_preference(actx, sites.get_site(actx, site), kind, ref, dry_run=dry_run)
    for w in result["warnings"]:
        actx.out.warn(w)
    _say_preference(actx, result, dry_run, mode)


def _say_preference(actx, result: dict, dry_run: bool, fmt: str = "auto") -> None:
    site, kind, model, before = result["site"], result["kind"], result["model"] or "Automatic", result["previous"] or "Automatic"
    say_write(
        actx.out,
        changed=result["changed"],
        dry_run=dry_run,
        already=f"{site}: WordPress AI's {kind} model is already {model}",
        would=f"{site}: would set WordPress AI's {kind} model to {model} (now {before})",
        done=f"{site}: WordPress AI {kind} model → {model} (was {before})",
        fmt=fmt,
        data={k: (result[k] or None) if k in ("model", "previous") else result[k] for k in ("site", "kind", "model", "previous", "stored", "warnings")},
    )


@app.command("auto", short_help="Let WordPress AI pick the model itself (Automatic).")
def auto(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="text or image.", metavar="KIND"),
    site: Optional[str] = typer.Argument(None, help="Site name (default: the default site).", metavar="[SITE]"),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Clear the preference: WordPress AI picks the model itself (Automatic)."""
    from ..services import preferences, sites

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    result = preferences.set_preference(actx, sites.get_site(actx, site), preferences.check_kind(kind), None, dry_run=dry_run)
    _say_preference(actx, result, dry_run, mode)
