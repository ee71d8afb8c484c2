"""Key rotation: validate the new key, make it the local key, push it to every site that holds the old one."""

from __future__ import annotations

from ..core.providers import PROVIDERS
from ..errors import AuthError, SafetyError
from . import credentials, fleet, sync


def rotate(ctx, provider_id: str, new_text: str, sites, *, jobs: int = fleet.DEFAULT_JOBS, verify: bool = True):
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
