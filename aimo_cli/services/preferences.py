"""WordPress AI model preferences: `aimo models set|auto text|image`, validated locally, stored through the bridge.

A preference must name a model of a connected provider (key present, last verification passed) that the catalog
knows, of the right kind; otherwise WordPress AI would fail later with `unsupported_model`. It is written to the
site (bridge option aimo_connectors_models) and remembered in the settings file ([wordpress.models]).
"""

from __future__ import annotations

import datetime as _dt

from ..core.models import KINDS, split_ref
from ..errors import AuthError, UsageError
from ..stores.settings import SiteConfig, delete_in, set_in


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        from ..core.names import did_you_mean

        raise UsageError(f"unknown model kind {kind!r}", did_you_mean(kind, KINDS) + "Use text or image, e.g. aimo models set text groq:openai/gpt-oss-120b")
    return kind


def validate(ctx, kind: str, ref: str):
    """Return the catalog entry for `ref`, or raise with the reason WordPress would fail."""
    from . import credentials, verify
    from .models import Catalog

    check_kind(kind)
    parsed = split_ref(ref)
    if parsed is None:
        raise UsageError(f"{ref!r} is not PROVIDER:MODEL", "Write it like groq:openai/gpt-oss-120b (see aimo models list).")
    pid = credentials.provider_info(parsed[0]).id
    if pid not in verify.connected(ctx, [pid]):
        if not credentials.resolve(ctx, pid).present:
            raise AuthError(f"{pid} is not connected: no key is stored", f"Set one: aimo keys set {pid}, then aimo sync push")
        outcome = verify.verify_providers(ctx, [pid])[0]
        if not outcome.ok:
            raise AuthError(f"{pid} is not connected: {outcome.message}", f"Fix the key: aimo keys set {pid}")
    catalog = Catalog(ctx)
    try:
        entry = catalog.find(f"{pid}:{parsed[1]}")
        hint = "" if entry is not None else catalog.did_you_mean(f"{pid}:{parsed[1]}", kind)
    finally:
        catalog.close()
    if entry is None:
        raise UsageError(f"no model {parsed[1]!r} for {pid} in the catalog", f"{hint}See the models: aimo models list --provider {pid} --type {kind}")
    if entry.kind != kind:
        raise UsageError(f"{entry.ref} is a {entry.kind} model, not a {kind} model", f"aimo models list --type {kind}")
    return entry


def set_preference(ctx, site: SiteConfig, kind: str, ref: str | None, *, dry_run: bool = False) -> dict:
    """`ref` None = Automatic (clear). The site's preference is read first: one the site already has is not written
    again (`changed` False). `dry_run`: that read only, no write anywhere (site or settings file)."""
    from ..wordpress import bridge as bridge_api

    warnings = []
    if ref is not None:
        entry = validate(ctx, kind, ref)
        ref = entry.ref
        if entry.deprecation and entry.deprecation <= _dt.date.today().isoformat():
            warnings.append(f"{entry.ref} was retired on {entry.deprecation}" + (f"; successor: {entry.successor}" if entry.successor else ""))
    else:
        check_kind(kind)
    with ctx.wordpress(site) as client:
        current = bridge_api.status(client).models
        previous = getattr(current, kind)
        changed = previous != (ref or "")
        if dry_run:
            stored = current.as_dict()
        elif changed:
            stored = bridge_api.set_models(client, **{kind: ref or ""}).as_dict()
        else:
            stored = current.as_dict()
    if not dry_run and (ctx.settings().wordpress_models().get(kind) or None) != (ref or None):
        with ctx.settings_store.edit(scope=(("wordpress", "models", kind),)) as settings:
            if ref:
                set_in(settings.doc, ("wordpress", "models", kind), ref)
            else:
                delete_in(settings.doc, ("wordpress", "models", kind))
    return {"site": site.name, "kind": kind, "model": ref or "", "previous": previous, "changed": changed, "stored": stored, "warnings": warnings}
