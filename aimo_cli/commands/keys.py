"""aimo keys: provider credentials in the OS keyring (or the file fallback)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._common import FORMAT_OPT, JSON_OPT, app_ctx, output_format, read_secret

app = typer.Typer(help="Store, list and remove provider keys (and the Ollama server URL).", no_args_is_help=True)

PROVIDER_ARG = typer.Argument(..., help="Provider id: openai, anthropic, google, openrouter, perplexity, groq, nvidia, xai, huggingface, ollama.", metavar="ID")


@app.command("set")
def set_(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    stdin: bool = typer.Option(False, "--stdin", help="Read the key (or a pool, one per line) from standard input."),
) -> None:
    """Store a provider key from a hidden prompt or --stdin (several lines = a round-robin pool)."""
    from ..services import credentials

    actx = app_ctx(ctx)
    info = credentials.provider_info(provider)
    noun = "server URL" if info.credential == "url" else "API key"
    cred = credentials.store(actx, info.id, read_secret(f"{info.name} {noun}: ", stdin))
    pool = f" (pool of {len(cred.pool)}; WordPress gets the first)" if len(cred.pool) > 1 else ""
    actx.out.line(f"Stored {info.name} {noun} {cred.display()}{pool} in {actx.secrets.backend.name}.")
    if credentials.env_pool(info):
        actx.out.warn(f"{info.env_var} is set in this environment and overrides the stored value.")


@app.command("list")
def list_(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """List every provider with the source, masked tail, pool size and fingerprint of its key."""
    from ..services import credentials

    actx = app_ctx(ctx)
    rows = [c.as_dict() for c in credentials.resolve_all(actx)]
    mode = output_format(json, fmt)
    if mode == "json":
        actx.out.json(rows)
        return
    actx.out.table(
        ["provider", "source", "key", "pool", "fingerprint"],
        [[r["provider"], r["source"] or "-", r["display"] or "(not set)", r["pool_size"] or "", r["fingerprint"] or ""] for r in rows],
        fmt=mode,
    )


@app.command("get")
def get(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    reveal: bool = typer.Option(False, "--reveal", help="Print the first key itself (for $(aimo keys get ID --reveal))."),
) -> None:
    """Show a provider's key masked; with --reveal print the first key for scripts."""
    from ..errors import AuthError
    from ..services import credentials

    actx = app_ctx(ctx)
    cred = credentials.resolve(actx, provider)
    if not cred.present:
        raise AuthError(f"no {credentials.provider_info(provider).name} credential is stored", f"Set one: aimo keys set {cred.provider}")
    if reveal:
        actx.out.stdout.write(cred.first + "\n")  # the one deliberate exception to redaction
    else:
        actx.out.line(f"{cred.display()}  ({cred.source}, fingerprint {cred.as_dict()['fingerprint']})")


@app.command("rm")
def rm(ctx: typer.Context, providers: List[str] = typer.Argument(..., help="Provider id(s).", metavar="ID...")) -> None:
    """Remove stored provider keys (environment variables are not touched)."""
    from ..services import credentials

    actx = app_ctx(ctx)
    infos = [credentials.provider_info(p) for p in providers]  # validate all before removing any
    for info in infos:
        removed = credentials.remove(actx, info.id)
        actx.out.line(f"{'Removed' if removed else 'No stored'} {info.name} credential.")
        if credentials.env_pool(info):
            actx.out.warn(f"{info.env_var} is still set in this environment and still provides a value.")


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print where settings and secrets are kept."""
    actx = app_ctx(ctx)
    actx.out.line(f"settings: {actx.settings_path}")
    actx.out.line(f"secrets:  {actx.secrets.backend.describe()}")


@app.command("backend")
def backend(ctx: typer.Context, json: bool = JSON_OPT) -> None:
    """Show which secret backend is in use (OS keyring, file fallback or memory)."""
    actx = app_ctx(ctx)
    b = actx.secrets.backend
    if json:
        actx.out.json({"backend": b.name, "description": b.describe()})
    else:
        actx.out.line(f"{b.name}: {b.describe()}")


@app.command("rotate")
def rotate(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    sites: Optional[List[str]] = typer.Argument(None, help="Sites to update (default: every configured site).", metavar="[SITE]..."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Only sites in this group.", metavar="GROUP"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the new key from standard input."),
    jobs: int = typer.Option(8, "--jobs", "-j", help="Sites handled at once.", min=1, max=256),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the local check of the new key."),
    json: bool = JSON_OPT,
) -> None:
    """Replace a key: validate the new one, store it, push it to every site holding the old one, verify each."""
    from ..services import credentials, fleet, sync_render
    from ..services import rotate as rotate_svc

    actx = app_ctx(ctx)
    info = credentials.provider_info(provider)
    targets = fleet.select_sites(actx, sites, group, not sites and not group) if actx.settings().sites() else []
    outcomes, name = rotate_svc.rotate(actx, info.id, read_secret(f"New {info.name} key: ", stdin), targets, jobs=jobs, verify=not no_verify)
    if not json:
        actx.out.line(f"Stored the new {name} key locally (the old one is kept as the previous key).")
    if outcomes:
        raise typer.Exit(sync_render.render(actx, outcomes, json=json, title=f"rotate {info.id}"))


@app.command("verify")
def verify(
    ctx: typer.Context,
    providers: Optional[List[str]] = typer.Argument(None, help="Provider id(s) (default: every provider with a key).", metavar="[ID...]"),
    json: bool = JSON_OPT,
) -> None:
    """Check keys against their providers (exit 4 if a key is rejected, 5 if a provider is unreachable)."""
    from ..errors import AuthError
    from ..services import credentials, verify as verify_svc

    actx = app_ctx(ctx)
    ids = [credentials.provider_info(p).id for p in providers or []]
    outcomes = verify_svc.verify_providers(actx, ids or None)
    if not outcomes:
        raise AuthError("no provider credential is stored", "Add one: aimo keys set ID")
    if json:
        actx.out.json([o.as_dict() for o in outcomes])
    else:
        actx.out.table(["provider", "key", "result", "detail"], [[o.provider, o.display or "(not set)", o.status, o.message] for o in outcomes])
    statuses = {o.status for o in outcomes}
    if statuses & {"rejected", "missing"}:
        raise typer.Exit(4)
    if "unreachable" in statuses:
        raise typer.Exit(5)
