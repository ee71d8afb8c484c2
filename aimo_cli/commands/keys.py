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
