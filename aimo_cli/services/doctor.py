"""aimo doctor: gather the facts and let `core.checks` judge them.

Local checks first (settings, secret backend, provider credentials and live verification, duplicate keys, Ollama
from here, catalog cache), then every selected site concurrently (`services.fleet`).

WordPress request budget per site (counted with `WordPressClient.request_count`):
  1. GET /wp/v2/users/me?context=edit     reachable, credentials (401), manage_options
  2. GET /aimo/v1/status[?check=1]        everything else (versions, AI support, mode, managers, connectors,
                                          approval, model preferences, sampling rules); check=1 unless --offline
  without the bridge, and not --offline:
  3. GET /wp/v2/plugins?search=aimo       installed-but-inactive vs not installed
  4. GET /wp/v2/settings                  the connector keys core exposes (masks), for the sync comparison
  5. GET /?feed=rss2                      the WordPress version (generator tag)
So: 2 with the bridge (online or offline), at most 5 without it, 2 with --offline.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..core import checks as C
from ..core.checks import Check
from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..core.secrets import fingerprint
from ..errors import AimoError, AuthError, RemoteError, SafetyError
from ..stores.settings import SiteConfig


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)  # site → WordPress requests made
    sites: list[str] = field(default_factory=list)
    strict: bool = False

    @property
    def exit_code(self) -> int:
        return C.exit_code(self.checks, self.strict)

    def as_dict(self) -> dict:
        return {
            "exit_code": self.exit_code,
            "strict": self.strict,
            "summary": C.counts(self.checks),
            "sites": self.sites,
            "requests": self.requests,
            "notes": self.notes,
            "checks": [c.as_dict() for c in self.checks],
        }


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000


# -- local -----------------------------------------------------------------------------------------------------------


def settings_checks(ctx) -> tuple[Check, object | None]:
    path = ctx.settings_path
    start = time.monotonic()
    try:
        settings = ctx.settings()
        settings.validate()
    except AimoError as exc:
        return C.settings_check(str(path), exc.message, exc.hint).timed(_ms(start)), None
    return C.settings_check(str(path), None, exists=path.exists()).timed(_ms(start)), settings


def backend_checks(ctx) -> Check:
    try:
        backend = ctx.secrets.backend
    except AimoError as exc:
        return C.check("local.secret_backend", C.FAIL, exc.message, exc.hint)
    try:
        description = backend.describe()
    except Exception:  # noqa: BLE001 - a keyring's describe() failing is not a reason to stop
        description = ""
    return C.backend_check(backend.name, os.environ.get("AIMO_KEYRING", ""), description)


def provider_checks(ctx, creds, *, offline: bool, verifier) -> list[Check]:
    """Credential present, and (not offline) verified live with the provider: concurrently, one call per key."""
    out: list[Check] = []
    todo = [c for c in creds if c.present and PROVIDERS[c.provider].credential != "url"]
    results: dict[str, tuple[tuple[bool | None, str], float]] = {}

    def one(cred):
        start = time.monotonic()
        try:
            res = verifier.check(cred.provider, cred.first)
        except Exception as exc:  # noqa: BLE001 - one provider's bug must not sink the others
            res = (None, f"unexpected {type(exc).__name__}: {exc}")
        return cred.provider, res, _ms(start)

    if todo and not offline:
        with ThreadPoolExecutor(max_workers=min(len(todo), 10)) as pool:
            for pid, res, ms in pool.map(one, todo):
                results[pid] = (res, ms)
    for cred in creds:
        info = PROVIDERS[cred.provider]
        out.append(C.credential_check(cred.provider, info.name, cred.present, cred.source, cred.display(), info.env_var))
        if info.credential == "url" or not cred.present:
            continue  # Ollama's "key" is its URL: reachability is features.ollama.aimo
        res, ms = results.get(cred.provider, (None, 0.0))
        out.append(C.verify_check(cred.provider, info.name, res, offline=offline, present=cred.present).timed(ms))
    return out


def ollama_local(ctx, cred, *, offline: bool) -> Check:
    if not cred.present or offline:
        return C.ollama_local_check(cred.display(), cred.present, offline=offline)
    from ..providers import make_adapter

    start = time.monotonic()
    try:
        adapter = make_adapter(ctx, "ollama", credential=cred, sleep=lambda s: None)
        try:
            version = adapter.version()
        finally:
            adapter.close()
    except AimoError as exc:
        return C.ollama_local_check(cred.display(), True, offline=False, error=exc.message).timed(_ms(start))
    return C.ollama_local_check(cred.display(), True, offline=False, version=version).timed(_ms(start))


def catalog_states(ctx, creds) -> dict[str, str]:
    from ..catalog import policy
    from ..catalog.cache import CatalogCache
    from ..providers import base_url_for

    states: dict[str, str] = {}
    cache = CatalogCache(ctx.cache_dir)
    try:
        now = time.time()
        for cred in creds:
            if not cred.present:
                continue
            key = policy.cache_key(cred.provider, base_url_for(ctx, cred.provider, cred), fingerprint(cred.first))
            rec = cache.get(key)
            states[cred.provider] = policy.freshness(rec.get("checked_at") if rec else None, now)
    finally:
        cache.close()
    return states


def local_checks(ctx, *, offline: bool, verifier=None) -> tuple[list[Check], object | None]:
    from . import credentials
    from .sync import Verifier

    settings_check, settings = settings_checks(ctx)
    out = [settings_check]
    if settings is None:
        return out, None
    out.append(backend_checks(ctx))
    if out[-1].status == C.FAIL:
        return out, settings
    creds = credentials.resolve_all(ctx)
    out += provider_checks(ctx, creds, offline=offline, verifier=verifier or Verifier(ctx))
    out.append(C.duplicates_check(credentials.duplicate_keys(creds), {p: PROVIDERS[p].name for p in PROVIDER_IDS}))
    by_id = {c.provider: c for c in creds}
    out.append(ollama_local(ctx, by_id["ollama"], offline=offline))
    try:
        out.append(C.catalog_cache_check(catalog_states(ctx, creds)))
    except Exception as exc:  # noqa: BLE001 - a broken cache is a finding, not a crash
        out.append(C.check("features.catalog_cache", C.WARN, f"model catalog cache unreadable: {exc}", "Remove the cache dir; aimo rebuilds it.", group="features"))
    return out, settings


# -- one site --------------------------------------------------------------------------------------------------------


@dataclass
class SiteFacts:
    """What one site told aimo (kept for tests and --json consumers)."""

    me: dict | None = None
    status: dict | None = None
    plugin: dict | None = None
    settings: dict | None = None
    requests: int = 0


def site_checks(ctx, site: SiteConfig, *, offline: bool, catalog=None) -> tuple[list[Check], int]:
    """Every check for one site; returns (checks, WordPress requests made)."""
    from .sites import client_for, is_loopback_host

    g = f"site {site.name}"
    loopback = is_loopback_host(urlsplit(site.url).hostname)
    out: list[Check] = []
    try:
        client = client_for(ctx, site, timeout=15.0 if offline else 60.0)
    except SafetyError as exc:
        https = C.https_check(site.name, site.url, loopback)
        if https.status != C.FAIL:  # the URL is fine but the REST root (edited by hand) is plain http
            https = C.check("site.https", C.FAIL, exc.message, exc.hint, group=g, site=site.name)
        return [https], 0
    except AuthError:
        return [C.https_check(site.name, site.url, loopback), C.credentials_check(site.name, site.user, site.url, missing=True)], 0
    with client:
        # 1. who am I (reachable, credentials, manage_options)
        start = time.monotonic()
        try:
            me = client.get("/wp/v2/users/me", {"context": "edit"})
        except AuthError as exc:
            status = 403 if "HTTP 403" in exc.message else 401
            ms = _ms(start)
            out.append(C.reachable_check(site.name, site.url).timed(ms))
            out.append(C.https_check(site.name, site.url, loopback))
            if status == 401:
                out.append(C.credentials_check(site.name, site.user, site.url, status=401))
            else:
                out.append(C.credentials_check(site.name, site.user, site.url, error=exc.message))
            return out, client.request_count
        except RemoteError as exc:
            out.append(C.reachable_check(site.name, site.url, exc.message, exc.hint).timed(_ms(start)))
            return out, client.request_count
        ms = _ms(start)
        me = me if isinstance(me, dict) else {}
        out.append(C.reachable_check(site.name, site.url).timed(ms))
        # 2. the bridge's status (tells https/env type too, so https is judged after it)
        status, bridge_error, start = None, None, time.monotonic()
        creds_check = C.credentials_check(site.name, site.user, site.url, status=200, slug=me.get("slug"))
        admin_check = C.manage_options_check(site.name, me)
        if admin_check.status == C.FAIL:
            out += [C.https_check(site.name, site.url, loopback), creds_check, admin_check]
            return out, client.request_count
        missing = False
        try:
            status = _bridge_status(client, check=not offline)
        except RemoteError as exc:
            if getattr(exc, "status", None) == 404 or type(exc).__name__ == "BridgeMissing":
                missing = True
            else:
                bridge_error = exc.message
        except AuthError as exc:
            bridge_error = exc.message
        bridge_ms = _ms(start)
        out.append(C.https_check(site.name, site.url, loopback, (status or {}).get("environment_type")))
        out += [creds_check, admin_check]
        if status is not None:
            out += _with_bridge(ctx, site, status, bridge_ms, offline=offline, catalog=catalog)
        else:
            out += _without_bridge(ctx, client, site, missing=missing, error=bridge_error, offline=offline, ms=bridge_ms)
        return out, client.request_count


def _bridge_status(client, *, check: bool) -> dict:
    from ..wordpress import bridge as bridge_api

    return bridge_api.status(client, check=check)


def _local_creds(ctx) -> dict:
    from . import credentials

    return {c.provider: c for c in credentials.resolve_all(ctx)}


def _with_bridge(ctx, site: SiteConfig, status: dict, bridge_ms: float, *, offline: bool, catalog=None) -> list[Check]:
    from ..core.sampling import DEFAULT_NO_SAMPLING_PREFIXES
    from ..stores.state import SyncState
    from .sync import remote_from_status

    name = site.name
    out = [
        C.wordpress_version_check(name, status.get("wordpress_version")),
        C.ai_support_check(name, bool(status.get("ai_supported"))),
        C.bridge_check(name, active=True).timed(bridge_ms),
        C.bridge_version_check(name, status.get("bridge_version")),
        C.mode_check(name, status.get("mode")),
        C.managers_check(name, status.get("managers")),
    ]
    conns = {str(c.get("id")): c for c in status.get("connectors") or [] if isinstance(c, dict)}
    local = _local_creds(ctx)
    remote = remote_from_status(status)
    base = SyncState(ctx.state_dir).load(name)
    approval = status.get("approval") if isinstance(status.get("approval"), dict) else None
    from .rollback import find_rollbacks

    previous = {pid: ctx.secrets.get(credentials_previous(pid)) or "" for pid in PROVIDER_IDS}
    rollbacks = {pid: rb.describe() for pid, rb in find_rollbacks(status, {p: remote[p].fingerprint for p in PROVIDER_IDS}, previous).items()}
    out += _connector_checks(site, conns, local, remote, base, status.get("mode"), approval, with_connected=True, status=status, rollbacks=rollbacks)
    for pid in PROVIDER_IDS:  # every non-default base URL, keyed or not: keys may go there
        over = C.base_url_check(name, pid, str((conns.get(pid) or {}).get("name") or PROVIDERS[pid].name), conns.get(pid), PROVIDERS[pid].default_base_url)
        if over is not None:
            out.append(over)
    # features
    out.append(C.wpai_check(name, bool(status.get("wpai_active"))))
    out.append(C.approval_summary_check(name, approval))
    models = status.get("models") if isinstance(status.get("models"), dict) else {}
    for kind in ("text", "image"):
        ref = str(models.get(kind) or "")
        ids, source = _catalog_ids(ctx, ref, offline=offline, catalog=catalog)
        out.append(C.model_check(name, kind, ref, conns, ids, source))
    try:
        configured = ctx.settings().provider("anthropic").no_sampling_prefixes
    except AimoError:
        configured = None
    required = configured if configured is not None else DEFAULT_NO_SAMPLING_PREFIXES
    prefixes = status.get("no_sampling_prefixes")
    out.append(C.no_sampling_check(name, list(prefixes) if isinstance(prefixes, list) else None, required))
    ollama = C.ollama_site_check(name, conns.get("ollama"), local["ollama"].present)
    if ollama is not None:
        out.append(ollama)
    return out


def credentials_previous(pid: str) -> str:
    from .credentials import previous_entry

    return previous_entry(pid)


def _connector_checks(site, conns, local, remote, base, mode, approval, *, with_connected: bool, status=None, rollbacks: dict | None = None) -> list[Check]:
    from .audit import describe_change

    out: list[Check] = []
    name = site.name
    for pid in PROVIDER_IDS:
        info = PROVIDERS[pid]
        conn = conns.get(pid)
        cred = local[pid]
        if not C.connector_relevant(conn, cred.present) and not remote[pid].present:
            continue
        label = (conn or {}).get("name") or info.name
        if with_connected:
            out.append(C.registered_check(name, pid, label, conn, mode))
            ks = C.key_source_check(name, pid, label, str((conn or {}).get("key_source") or "none"), info.env_var)
            if ks is not None:
                out.append(ks)
        out.append(C.sync_check(name, pid, label, cred.first, remote[pid], base.get(pid), mode=mode, changed=describe_change(status, pid), rollback=(rollbacks or {}).get(pid)))
        if with_connected:
            out.append(C.connected_check(name, pid, label, conn))
            ap = C.approval_check(name, pid, label, approval)
            if ap is not None and (conn or {}).get("key_source", "none") != "none":
                out.append(ap)
    if not out:
        out.append(C.check("connector.none", C.SKIP, "no provider key locally or on the site", group=f"connectors {name}", site=name))
    return out


def _catalog_ids(ctx, ref: str, *, offline: bool, catalog=None) -> tuple[list[str] | None, str]:
    """The preferred model's provider's model ids: cached (or fetched once unless offline), else the curated list."""
    from ..core.models import split_ref

    parsed = split_ref(ref) if ref else None
    if parsed is None or parsed[0] not in PROVIDERS:
        return None, ""
    pid = parsed[0]
    from .models import Catalog

    cat = catalog or Catalog(ctx, revalidate=lambda ids: None)
    try:
        listing = cat.listings([pid], fetch_missing=not offline)
    finally:
        if catalog is None:
            cat.close()
    if not listing:
        return None, ""
    return [e.id for e in listing[0].entries], listing[0].source


def _without_bridge(ctx, client, site: SiteConfig, *, missing: bool, error: str | None, offline: bool, ms: float) -> list[Check]:
    from ..stores.state import SyncState
    from ..wordpress.discovery import fetch_wordpress_version
    from .sync import remote_from_settings

    name = site.name
    out: list[Check] = []
    if error is not None:
        out.append(C.bridge_check(name, active=False, error=error).timed(ms))
    if offline:
        if missing:
            out.append(C.bridge_check(name, active=False, searched=False, offline=True).timed(ms))
        out.append(C.check("site.wordpress_version", C.SKIP, "WordPress version not read (--offline, no bridge)", group=f"site {name}", site=name))
        return out
    plugin, searched = None, False
    if missing:
        try:
            plugins = client.get("/wp/v2/plugins", {"search": "aimo"})
            plugin, searched = C.find_bridge_plugin(plugins), True
        except AimoError:
            searched = False
        out.append(C.bridge_check(name, active=False, plugin=plugin, searched=searched).timed(ms))
    settings = None
    try:
        got = client.get("/wp/v2/settings")
        settings = got if isinstance(got, dict) else None
    except AimoError as exc:
        out.append(C.check("site.settings", C.FAIL, f"/wp/v2/settings failed: {exc.message}", exc.hint, group=f"site {name}", site=name))
    out.insert(0, C.wordpress_version_check(name, fetch_wordpress_version(client, site.url)))
    if settings is not None:
        visible = [k for k in settings if k.startswith("connectors_") and k.endswith("_api_key")]
        # connector settings exist only when AI is supported and a provider is registered
        out.append(C.ai_support_check(name, True if visible else None))
        remote = remote_from_settings(settings)
        base = SyncState(ctx.state_dir).load(name)
        out += _connector_checks(site, {}, _local_creds(ctx), remote, base, None, None, with_connected=False)
    return out


# -- the whole run ---------------------------------------------------------------------------------------------------


def select(ctx, names: list[str] | None, group: str | None, all_sites: bool) -> list[SiteConfig]:
    """The sites to check; none when nothing is configured and none was asked for."""
    from .fleet import select_sites

    if not names and not group and not all_sites and not ctx.settings().sites():
        return []
    return select_sites(ctx, names, group, all_sites)


def run(ctx, *, names: list[str] | None = None, group: str | None = None, all_sites: bool = False, offline: bool = False, strict: bool = False, jobs: int = 8) -> DoctorReport:
    from .fleet import run_fleet
    from .sync import Verifier

    report = DoctorReport(strict=strict)
    local, settings = local_checks(ctx, offline=offline, verifier=Verifier(ctx))
    report.checks += local
    if settings is None:
        report.notes.append("The settings file is invalid: site checks were not run.")
        return report
    sites = select(ctx, names, group, all_sites)
    if not sites:
        report.notes.append("No WordPress site is configured: only local checks ran. Add one: aimo site add NAME URL --user USER")
        return report
    report.sites = [s.name for s in sites]

    def job(site: SiteConfig):
        return site_checks(ctx, site, offline=offline)

    for outcome in run_fleet(ctx, sites, job, jobs=jobs, label="doctor"):
        if outcome.ok:
            site_list, count = outcome.value
            report.checks += site_list
            report.requests[outcome.site] = count
        else:
            report.checks.append(C.check("site.error", C.FAIL, outcome.error or "failed", outcome.hint, group=f"site {outcome.site}", site=outcome.site))
    return report
