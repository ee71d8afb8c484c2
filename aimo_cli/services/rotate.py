"""Key rotation: validate the new key, make it the local key, push it to every site that holds the old one."""

from __future__ import annotations

from ..core.providers import PROVIDERS
from ..errors import AuthError, SafetyError
from . import credentials, fleet, sync


def rotate(ctx, provider_id: str, new_text: str, sites, *, jobs: int = fleet.DEFAULT_JOBS, verify: bool = True, dry_run: bool = False):
    """(site outcomes, provider name). `dry_run`: the same checks (the new key verified, each site read once), what
    would be replaced where, and no write anywhere (store, sites, sync state, audit log)."""
    info = credentials.provider_info(provider_id)
    current = credentials.resolve(ctx, info.id)
    if current.source == "env":
        raise SafetyError(
            f"the {info.name} key comes from {info.env_var} in this environment; rotating the stored key would change nothing here",
            f"Rotate it where {info.env_var} is set, or unset it first.",
        )
    pool = credentials.check_pool(info, new_text)
    new = pool[0]
    if current.first == new:
        raise SafetyError(f"the new {info.name} key is the key already stored", "Paste the new key from the provider's console.")
    verifier = sync.Verifier(ctx, enabled=verify)
    ok, why = verifier.check(info.id, new)
    if ok is False:
        raise AuthError(f"{info.name} rejected the new key: {why}", "Nothing was changed, locally or on any site.")
    old = current.first
    if dry_run:
        return fleet.run_fleet(ctx, sites, lambda site: _plan_site(ctx, site, info.id, old, new), jobs=jobs, label="rotate"), PROVIDERS[info.id].name
    kept = [k for k in current.pool[1:] if k not in pool]  # other pool lines survive the rotation
    credentials.store(ctx, info.id, "\n".join([*pool, *kept]), reason="replaced by aimo keys rotate")
    # with an old key, touch only the sites that still hold it (and may overwrite it there: that is the point)
    outcomes = fleet.run_fleet(
        ctx,
        sites,
        lambda site: sync.push_site(
            ctx, site, [info.id], verifier=verifier, only_where_remote_is=old or None, prefer="local" if old else None, action="rotate"
        ),
        jobs=jobs,
        label="rotate",
    )
    return outcomes, PROVIDERS[info.id].name


def _plan_site(ctx, site, provider_id: str, old: str, new: str):
    """One read of the site: would the rotation replace its key (it holds the old one), or leave it alone?"""
    from ..core.secrets import fingerprint

    with ctx.wordpress(site) as client:
        remote = sync.read_remote(client)
        sync.refuse_unless_managed(site, remote)
        result = sync.SiteSync(site.name, remote.via_bridge, competitor=remote.competitor, requests=client.request_count)
    rk = remote.keys[provider_id]
    if old and rk.matches(old):
        if remote.manager_in_charge:
            why = f"{remote.manager_in_charge} manages the Connectors: aimo writes nothing through another manager (take over: aimo connectors takeover {site.name})"
            result.results.append(sync.ProviderResult(provider_id, "holds the old key", "push", why, "refused"))
        else:
            why = f"would replace {fingerprint(old)} with {fingerprint(new)}"
            result.results.append(sync.ProviderResult(provider_id, "holds the old key", "push", why, "dry-run"))
    elif rk.matches(new):
        result.results.append(sync.ProviderResult(provider_id, "in sync", "none", "the site already holds the new key", "unchanged"))
    else:
        result.results.append(sync.ProviderResult(provider_id, "other key" if rk.present else "remote empty", "none", "the site does not hold the old key; left alone", "skipped"))
    return result
