"""aimo keys: provider credentials in the OS keyring (or the file fallback)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..ui.formats import emit
from ._cli import DRY_RUN_NOTE, DRY_RUN_OPT, AimoTyper
from ._common import FORMAT_OPT, JSON_OPT, SHARD_OPT, app_ctx, output_format, read_secret
from ._confirm import YES_OPT
from ._providers import PROVIDER_HELP

app = AimoTyper(short_help="Store, verify, rotate and remove provider keys.", help="Store, list and remove provider keys (and the Ollama server URL).", no_args_is_help=True)

PROVIDER_ARG = typer.Argument(..., help=PROVIDER_HELP, metavar="ID")


@app.command("set", short_help="Store a key or pool from a prompt or --stdin, verified first.")
def set_(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    stdin: bool = typer.Option(False, "--stdin", help="Read the key (or a pool, one per line) from standard input."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Store without checking the key with its provider."),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Store a provider key from a hidden prompt or --stdin (several lines = a round-robin pool); verified first."""
    from ..services import credentials

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    info = credentials.provider_info(provider)
    noun = "server URL" if info.credential == "url" else "API key"
    pool, notes = credentials.check_pool_notes(info, read_secret(f"{info.name} {noun}: ", stdin))
    _say_notes(actx, notes)
    if not no_verify:
        _verify_or_refuse(actx, info, pool)
    new = credentials.Credential(info.id, "", tuple(pool))
    current = credentials.resolve(actx, info.id, include_env=False)
    overridden = bool(credentials.env_pool(info))
    backend = actx.secrets.backend.name

    def done(cred, dropped, changed: bool, human) -> None:
        data = {"key": cred.as_dict(), "backend": backend, "replaced": _replaced(dropped), "env_override": overridden, "changed": changed, "dry_run": dry_run}
        emit(actx.out, mode, data, table=human, rows=[dict(cred.as_dict(), backend=backend, env_override=overridden, changed=changed, dry_run=dry_run)])

    if current.pool == new.pool:
        done(current, [], False, lambda: actx.out.line(f"{info.name} {noun} {new.display()} is already stored in {backend}; nothing changed."))
        return
    if dry_run:
        size = f" (pool of {len(pool)})" if len(pool) > 1 else ""
        was = f", replacing {current.display()}" + (f" (pool of {len(current.pool)})" if len(current.pool) > 1 else "") if current.present else ""
        done(new, [k for k in current.pool if k not in pool], True, lambda: actx.out.line(f"Would store {info.name} {noun} {new.display()}{size} in {backend}{was}."))
        actx.out.info(DRY_RUN_NOTE)
        return
    res = credentials.store_pool(actx, info.id, pool=pool)
    cred = res.credential

    def human() -> None:
        pool_note = f" (pool of {len(cred.pool)}; WordPress gets the first)" if len(cred.pool) > 1 else ""
        actx.out.line(f"Stored {info.name} {noun} {cred.display()}{pool_note} in {backend}.")
        _say_dropped(actx, info, res.dropped)

    done(cred, res.dropped, True, human)
    if overridden:
        actx.out.warn(f"{info.env_var} is set in this environment and overrides the stored value.")


def _replaced(dropped) -> list[dict]:
    """Keys a pool change dropped (kept as previous keys), raw: fingerprint and tail, never the key."""
    from ..core.secrets import fingerprint, mask
    from ..ui.formats import key_fields

    return [{"fingerprint": fingerprint(k), **key_fields(mask(k))} for k in dropped]


def _say_notes(actx, notes: list[str]) -> None:
    for note in notes:
        if note.startswith("warning: "):
            actx.out.warn(note[len("warning: ") :])
        else:
            actx.out.info(f"Note: {note}.")


def _say_dropped(actx, info, dropped) -> None:
    from ..core.secrets import fingerprint, mask

    if dropped:
        shown = ", ".join(f"{mask(k)} ({fingerprint(k)})" for k in dropped)
        actx.out.line(
            f"Replaced: {len(dropped)} key(s) of the old {info.name} pool are no longer in it ({shown}); "
            f"they are kept as previous keys (aimo keys previous {info.id}; aimo keys restore {info.id})."
        )


def _verify_or_refuse(actx, info, pool: list[str]) -> None:
    """Check every line with the provider; a refused one stops everything (exit 4), an unreachable one is said aloud."""
    from ..errors import AuthError
    from ..services.verify import REJECTED, UNREACHABLE, verify_key

    for n, key in enumerate(pool, 1):
        where = f"line {n} of the pool" if len(pool) > 1 else "the key"
        outcome = verify_key(actx, info.id, key)
        if outcome.status == REJECTED:
            raise AuthError(
                f"{info.name} refused {where} ({outcome.display}): {outcome.message}; nothing was stored",
                f"Copy the key again from {info.console_url or 'the provider console'}, or store it unchecked with --no-verify.",
            )
        if outcome.status == UNREACHABLE:
            actx.out.warn(f"{where} was not verified: {outcome.message} (stored anyway; check later with aimo keys verify {info.id})")


@app.command("list", short_help="List every provider's key: source, masked tail, fingerprint.")
def list_(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """List every provider with the source, masked tail, pool size and fingerprint of its key."""
    from ..services import credentials

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    creds = credentials.resolve_all(actx)
    rows = [c.as_dict() for c in creds]
    emit(
        actx.out,
        mode,
        {"keys": rows},
        rows=rows,
        table=lambda: actx.out.table(
            ["provider", "source", "key", "pool", "fingerprint"],
            [[r["provider"], r["source"] or "-", c.display() or "(not set)", r["pool_size"] or "", r["fingerprint"] or ""] for c, r in zip(creds, rows)],
        ),
    )


@app.command("get", short_help="Show a key masked; --reveal prints it for scripts.")
def get(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    reveal: bool = typer.Option(False, "--reveal", help="Print the first key itself (for $(aimo keys get ID --reveal))."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Show a provider's key masked; with --reveal print the first key for scripts."""
    from ..errors import AuthError, UsageError
    from ..services import credentials

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    if reveal and mode != "auto":
        raise UsageError("--reveal prints the bare key and nothing else; it takes no --format or --json", f"aimo keys get {provider} --reveal")
    cred = credentials.resolve(actx, provider)
    if not cred.present:
        raise AuthError(f"no {credentials.provider_info(provider).name} credential is stored", f"Set one: aimo keys set {cred.provider}")
    if reveal:
        actx.out.stdout.write(cred.first + "\n")  # the one deliberate exception to redaction
        return
    row = cred.as_dict()
    emit(actx.out, mode, {"key": row}, rows=[row], table=lambda: actx.out.line(f"{cred.display()}  ({cred.source}, fingerprint {row['fingerprint']})"))


@app.command("rm", short_help="Remove a provider's stored keys, earlier ones included.")
def rm(
    ctx: typer.Context,
    providers: List[str] = typer.Argument(..., help="Provider id(s).", metavar="ID..."),
    keep_previous: bool = typer.Option(False, "--keep-previous", help="Keep the earlier (replaced) keys; remove only the current ones."),
    yes: bool = YES_OPT,
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Remove stored provider keys: the whole pool and every earlier key (environment variables are not touched)."""
    from ..services import credentials
    from ._confirm import confirm

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    say = actx.out.line if mode == "auto" else actx.out.info
    infos = [credentials.provider_info(p) for p in dict.fromkeys(providers)]  # validate all before removing any
    plans = []
    for info in infos:
        cred = credentials.resolve(actx, info.id, include_env=False)
        prev = credentials.previous_keys(actx, info.id)
        plans.append((info, cred, prev))
    described = [f"{info.name} ({_describe_pool(cred)}{'' if keep_previous or not prev else f' and {len(prev)} earlier key(s)'})" for info, cred, prev in plans if cred.present or (prev and not keep_previous)]
    def entry(info, pool, previous: int) -> dict:
        return {
            "provider": info.id,
            "pool_size": len(pool),
            "fingerprint": credentials.Credential(info.id, "", tuple(pool)).as_dict()["fingerprint"],
            "previous_removed": 0 if keep_previous else previous,
            "previous_kept": previous if keep_previous else 0,
            "env_override": bool(credentials.env_pool(info)),
        }

    if dry_run:
        removed = [entry(info, cred.pool, len(prev)) for info, cred, prev in plans]
        emit(
            actx.out,
            mode,
            {"removed": removed, "backend": actx.secrets.backend.name, "dry_run": True},
            rows=removed,
            table=lambda: actx.out.line(f"Would remove {', '.join(described)} from {actx.secrets.backend.name}; sites keep their copies." if described else "No stored credential to remove."),
        )
        actx.out.info(DRY_RUN_NOTE)
        return
    if described:
        confirm(actx, f"Remove {', '.join(described)} from {actx.secrets.backend.name}? Sites keep their copies.", yes, what="removing keys")
    removed = []
    for info, _cred, _prev in plans:
        r = credentials.remove(actx, info.id, keep_previous=keep_previous)
        parts = []
        if r.pool:
            parts.append(_describe_pool(credentials.Credential(info.id, "", r.pool)))
        if r.previous and not keep_previous:
            parts.append(f"{r.previous} earlier key(s)")
        if parts:
            say(f"Removed {info.name}: {' and '.join(parts)}. No copy is left in {actx.secrets.backend.name}.")
        else:
            say(f"No stored {info.name} credential.")
        if keep_previous and r.previous:
            say(f"Kept {r.previous} earlier {info.name} key(s) (--keep-previous): aimo keys previous {info.id}; remove them with aimo keys rm {info.id}.")
        removed.append(entry(info, r.pool, r.previous))
        if removed[-1]["env_override"]:
            actx.out.warn(f"{info.env_var} is still set in this environment and still provides a value.")
    emit(actx.out, mode, {"removed": removed, "backend": actx.secrets.backend.name, "dry_run": False}, rows=removed)


def _describe_pool(cred) -> str:
    from ..core.secrets import fingerprint

    if len(cred.pool) > 1:
        return f"pool of {len(cred.pool)}, first {cred.display()} ({fingerprint(cred.first)})"
    return f"{cred.display()} ({fingerprint(cred.first)})"


@app.command("previous", short_help="List the earlier keys kept for a provider.")
def previous(ctx: typer.Context, provider: str = PROVIDER_ARG, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """List the earlier keys aimo keeps for a provider (masked, fingerprint, when and why replaced)."""
    from ..services import credentials

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    info = credentials.provider_info(provider)
    items = credentials.previous_keys(actx, info.id)
    rows = [{"number": n, **p.as_dict(info.id)} for n, p in enumerate(items, 1)]

    def human() -> None:
        if not items:
            actx.out.line(f"No earlier {info.name} key is kept.")
            return
        actx.out.table(
            ["#", "key", "fingerprint", "replaced", "why"],
            [[n, credentials.Credential(info.id, "previous", (p.key,)).display(), p.fingerprint, _when(p.replaced_at), p.reason] for n, p in enumerate(items, 1)],
            title=f"earlier {info.name} keys (newest first; aimo keys restore {info.id} [#])",
        )

    emit(actx.out, mode, {"provider": info.id, "previous": rows}, rows=rows, table=human)


def _when(ts) -> str:
    if ts is None:
        return "unknown"
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@app.command("restore", short_help="Bring an earlier key back as the one WordPress gets.")
def restore(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    which: Optional[str] = typer.Argument(None, help="Which earlier key: its number in aimo keys previous (1 = newest) or a fingerprint.", metavar="[N|FINGERPRINT]"),
    no_verify: bool = typer.Option(False, "--no-verify", help="Restore without checking the key with its provider."),
    dry_run: bool = DRY_RUN_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Bring an earlier key back as the first line of the pool (the current first key is kept as previous)."""
    from ..services import credentials

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    info = credentials.provider_info(provider)
    item = credentials.take_previous(actx, info.id, which)
    if not no_verify:
        _verify_or_refuse(actx, info, [item.key])
    current = credentials.resolve(actx, info.id, include_env=False)
    pool = [item.key] + [k for k in current.pool[1:] if k != item.key]
    if dry_run:
        now = f" (now {current.display()})" if current.present else ""
        key = credentials.Credential(info.id, "", tuple(pool)).as_dict()
        emit(
            actx.out,
            mode,
            {"key": key, "restored": item.fingerprint, "replaced": _replaced([k for k in current.pool if k not in pool]), "dry_run": True},
            rows=[dict(key, restored=item.fingerprint, dry_run=True)],
            table=lambda: actx.out.line(f"Would restore {info.name} key {credentials.Credential(info.id, '', (item.key,)).display()} ({item.fingerprint}) as the key WordPress gets{now}."),
        )
        actx.out.info(DRY_RUN_NOTE)
        return
    credentials.drop_previous(actx, info.id, [item.key])
    res = credentials.store_pool(actx, info.id, pool=pool, reason="replaced by aimo keys restore")

    def human() -> None:
        actx.out.line(f"Restored {info.name} key {res.credential.display()} ({item.fingerprint}) as the key WordPress gets.")
        _say_dropped(actx, info, res.dropped)

    key = res.credential.as_dict()
    emit(actx.out, mode, {"key": key, "restored": item.fingerprint, "replaced": _replaced(res.dropped), "dry_run": False}, rows=[dict(key, restored=item.fingerprint, dry_run=False)], table=human)
    actx.out.info("Sites still hold what they held: aimo sync status shows them, aimo sync push sends this key.")


@app.command("import", short_help="Import keys from a .env file, verified before storing.")
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A .env file (NAME=value lines; `export`, quotes and # comments allowed); - for stdin.", metavar="FILE"),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Report what would be stored; store nothing."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Store without checking each key with its provider."),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Import provider keys from a .env file: each line's fate is reported; keys are verified before anything is stored."""
    from ..services import keyimport

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    report = keyimport.import_file(actx, file, dry_run=dry_run, verify=not no_verify)
    data = dict(report.as_dict(), dry_run=dry_run)
    emit(
        actx.out,
        mode,
        data,
        rows=data["lines"],
        table=lambda: actx.out.table(
            ["line", "name", "fate", "detail"], [[f.line, f.name or "", f.fate, f.detail] for f in report.lines], title=f"import {file}" + (" (dry run)" if dry_run else "")
        ),
    )
    if mode == "auto":
        if report.unknown:
            from ..core.providers import PROVIDERS

            actx.out.info("Known names: " + ", ".join(p.env_var for p in PROVIDERS.values()) + ".")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command("path", short_help="Print where settings and secrets are kept.")
def path(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Print where settings and secrets are kept."""
    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    b = actx.secrets.backend
    data = {"settings": str(actx.settings_path), "backend": b.name, "secrets": b.describe()}

    def human() -> None:
        actx.out.line(f"settings: {data['settings']}")
        actx.out.line(f"secrets:  {data['secrets']}")

    emit(actx.out, mode, data, table=human)


@app.command("backend", short_help="Show which secret backend is in use.")
def backend(ctx: typer.Context, json: bool = JSON_OPT, fmt: Optional[str] = FORMAT_OPT) -> None:
    """Show which secret backend is in use (OS keyring, file fallback or memory)."""
    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    b = actx.secrets.backend
    data = {"backend": b.name, "description": b.describe()}
    emit(actx.out, mode, data, table=lambda: actx.out.line(f"{b.name}: {data['description']}"))


@app.command("rotate", short_help="Replace a key and push it to every site holding the old one.")
def rotate(
    ctx: typer.Context,
    provider: str = PROVIDER_ARG,
    sites: Optional[List[str]] = typer.Argument(None, help="Sites to update (default: every configured site).", metavar="[SITE]..."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Only sites in this group.", metavar="GROUP"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the new key from standard input."),
    jobs: int = typer.Option(8, "--jobs", "-j", help="Sites handled at once.", metavar="N", min=1, max=256),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the local check of the new key."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm a rotation across every configured site (a terminal asks first)."),
    dry_run: bool = DRY_RUN_OPT,
    shard: Optional[str] = SHARD_OPT,
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Replace a key: validate the new one, store it, push it to every site holding the old one, verify each."""
    from ..services import credentials, fleet, sync_render
    from ..services import sites as site_profiles
    from ..services import rotate as rotate_svc

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    info = credentials.provider_info(provider)
    targets = fleet.select_sites(actx, sites, group, not sites and not group, shard) if actx.settings().site_names() else []
    targets = site_profiles.once_per_wordpress(actx, targets)
    if targets and not sites and not group and not dry_run:
        from ._confirm import confirm

        confirm(actx, f"Rotate the {info.name} key on every site that holds the old one ({', '.join(t.name for t in targets)})?", yes, what="a fleet-wide rotation")
    outcomes, name = rotate_svc.rotate(actx, info.id, read_secret(f"New {info.name} key: ", stdin), targets, jobs=jobs, verify=not no_verify, dry_run=dry_run)
    if mode == "auto":
        actx.out.line(f"Would store the new {name} key locally (the old one kept as the previous key)." if dry_run else f"Stored the new {name} key locally (the old one is kept as the previous key).")
    key = credentials.resolve(actx, info.id, include_env=False).as_dict()
    code = sync_render.render(actx, outcomes, fmt=mode, title=f"rotate {info.id}" + (" (dry run)" if dry_run else ""), extra={"key": key, "dry_run": dry_run})
    if dry_run:
        actx.out.info(DRY_RUN_NOTE)
    if code:
        raise typer.Exit(code)


@app.command("verify", short_help="Check keys live with their providers (exit 4 or 5).")
def verify(
    ctx: typer.Context,
    providers: Optional[List[str]] = typer.Argument(None, help="Provider id(s) (default: every provider with a key).", metavar="[ID...]"),
    json: bool = JSON_OPT,
    fmt: Optional[str] = FORMAT_OPT,
) -> None:
    """Check keys against their providers (exit 4 if a key is rejected, 5 if a provider is unreachable)."""
    from ..errors import AuthError, exit_code
    from ..services import credentials, verify as verify_svc

    actx = app_ctx(ctx)
    mode = output_format(json, fmt)
    ids = [credentials.provider_info(p).id for p in providers or []]
    outcomes = verify_svc.verify_providers(actx, ids or None)
    if not outcomes:
        raise AuthError("no provider credential is stored", "Add one: aimo keys set ID")
    rows = [o.as_dict() for o in outcomes]
    emit(
        actx.out,
        mode,
        {"results": rows, "exit_code": int(exit_code(o.exit_status for o in outcomes))},
        rows=rows,
        table=lambda: actx.out.table(["provider", "key", "result", "detail"], [[o.provider, o.display or "(not set)", o.status, o.message] for o in outcomes]),
    )
    raise typer.Exit(exit_code(o.exit_status for o in outcomes))
