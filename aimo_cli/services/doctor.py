"""aimo doctor (and `aimo site test`): gather the facts once, then run the check registry over them.

A check is one pure verdict function in `core/checks.py` plus one registration in `REGISTRY` below: its id, its
group (local, site, connectors, features), the facts it needs (it is not run while one of them is missing, e.g. no
bridge status) and its exit class (what its failure exits with; `core/exits.py` combines them). `aimo site test` is
the `site` group of the same registry, so both commands share one Check type and one set of messages.

Facts are gathered concurrently: the local ones (settings, secret backend, every key verified live, Ollama from
here, catalog cache) in one thread while the sites are checked (`services.fleet`), the key verifications in a small
thread pool of their own.

WordPress request budget per site (counted with `WordPressClient.request_count`):
  1. GET /aimo/v1/status[?check=fresh]    reachable, credentials (401), the user and manage_options (its
                                          current_user), and everything else (versions, AI support, mode, managers,
                                          connectors, approval, model preferences, sampling rules); live checks
                                          unless --offline
  when the status does not name the user (no bridge, a bridge too old to say, 403, an error answer):
  2. GET /wp/v2/users/me?context=edit     reachable, credentials, the user and manage_options
  without the bridge, and not --offline:
  3. GET /wp/v2/plugins?search=aimo       installed-but-inactive vs not installed
  4. GET /wp/v2/settings                  the connector keys core exposes (masks), for the sync comparison
  5. GET /?feed=rss2                      the WordPress version (generator tag)
So: 1 with the bridge (online or offline), at most 5 without it, 2 with --offline. A status refused with 401 (the
credentials) or not answered at all (the site is unreachable) is the verdict: nothing more is asked.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import urlsplit

from ..core.exits import ExitStatus
from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..core.records import record
from ..errors import AimoError, AuthError, RemoteError, SafetyError
from ..stores.settings import SiteConfig

if TYPE_CHECKING:
    from ..core.checks import Check

GROUPS = ("local", "site", "connectors", "features")


class _Checks:
    """core.checks (the verdicts, and the sync and secrets modules under them), imported on first use: the checks run
    on facts gathered over the network, so it loads once the site's request is out instead of delaying it."""

    def __getattr__(self, name: str):
        from ..core import checks

        globals()["C"] = checks
        return getattr(checks, name)


C: Any = _Checks()


@record
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)  # site → WordPress requests made
    sites: list[str] = field(default_factory=list)
    strict: bool = False

    @property
    def exit_status(self) -> ExitStatus:
        from ..core.exits import worst

        return worst(c.exit_status(self.strict) for c in self.checks)

    @property
    def exit_code(self) -> int:
        return int(C.exit_code(self.checks, self.strict))

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


# -- the facts ---------------------------------------------------------------------------------------------------------


@record
class LocalFacts:
    """What this machine knows: gathered once per run."""

    offline: bool
    settings_path: str = ""
    settings_exists: bool = False
    settings: Any = None  # None: invalid (settings_error says why)
    settings_error: AimoError | None = None
    settings_ms: float = 0.0
    backend: Any = None  # None: unusable (backend_error)
    backend_error: AimoError | None = None
    keyring_env: str = ""
    creds: list | None = None  # every provider's Credential; None when the secret backend is unusable
    verified: dict = field(default_factory=dict)  # provider → ((ok, why), ms)
    ollama: tuple | None = None  # (version, error, ms) when contacted
    catalog_states: dict | None = None
    catalog_error: str | None = None

    @property
    def by_id(self) -> dict:
        return {c.provider: c for c in self.creds or []}


@record
class SiteFacts:
    """What one site told aimo: gathered once per site, in as few requests as the budget above allows."""

    site: SiteConfig
    offline: bool  # the fewest requests (no plugin search, settings or feed without the bridge)
    loopback: bool
    live: bool = True  # live checks: the bridge checks every key (status?check=1), a missing model list is fetched
    want_settings: bool = False  # read /wp/v2/settings even with the bridge (site test reports the connector settings)
    local: dict = field(default_factory=dict)  # provider → Credential
    transport_error: AimoError | None = None  # refused before anything went out (plain http, bad URL)
    password_missing: bool = False
    reach_error: AimoError | None = None  # the site did not answer (the status, else users/me) other than on credentials
    reach_ms: float = 0.0
    auth_status: int | None = None  # 401 (from the status or users/me) / 403 from users/me
    auth_error: str | None = None
    me: dict | None = None  # users/me's id, slug, roles and capabilities.manage_options (or the status's current_user)
    status: Any = None  # wordpress.bridge.BridgeStatus when the bridge answered
    bridge_missing: bool = False
    bridge_error: str | None = None
    bridge_ms: float = 0.0
    plugin: dict | None = None
    plugin_searched: bool = False
    wp_settings: dict | None = None
    wp_settings_error: AimoError | None = None
    feed_version: str | None = None
    base: dict | None = None  # the sync base (what both sides held at the last sync)
    remote: dict | None = None  # provider → RemoteKey
    models: dict = field(default_factory=dict)  # kind → (ref, catalog ids or None, source)
    no_sampling_required: tuple = ()
    rollbacks: dict = field(default_factory=dict)  # provider → "rollback: …" (a site key aimo replaced earlier, put back)
    requests: int = 0

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def admin(self) -> bool:
        caps = (self.me or {}).get("capabilities") or {}
        return bool(isinstance(caps, dict) and caps.get("manage_options"))

    @property
    def inspected(self) -> bool | None:
        """True once aimo got past the login as an administrator (the site's contents were looked at)."""
        return True if self.me is not None and self.admin else None

    @property
    def no_bridge(self) -> bool | None:
        return True if self.inspected and self.status is None else None


# -- the registry ------------------------------------------------------------------------------------------------------


@record(frozen=True)
class Spec:
    id: str  # the check id, or its pattern for per-provider checks ("connector.{provider}.sync")
    group: str  # local | site | connectors | features
    needs: tuple[str, ...]  # facts that must be present (not None) for the check to run
    run: Callable[[Any], Check | Iterable[Check] | None]
    exit_class: ExitStatus = ExitStatus.DRIFT  # what a failure exits with
    scope: str = "site"  # which facts it reads: "local" (LocalFacts, once per run) or "site" (SiteFacts, per site)

    def applies(self, facts) -> bool:
        return all(getattr(facts, need) is not None for need in self.needs)


REGISTRY: list[Spec] = []


def register(id: str, group: str, *, needs: Iterable[str] = (), exit_class: ExitStatus = ExitStatus.DRIFT, scope: str | None = None):
    """Decorator: one check = one function (usually a call of a pure verdict in core/checks.py) + this line."""
    if group not in GROUPS:
        raise ValueError(f"unknown check group {group!r}")

    def deco(fn):
        REGISTRY.append(Spec(id, group, tuple(needs), fn, exit_class, scope or ("local" if group == "local" else "site")))
        return fn

    return deco


def run_registry(facts, scope: str, groups: Iterable[str] | None = None) -> list[Check]:
    """Every registered check of `scope` ('local' or 'site' facts), in registration order, stamped with its exit class."""
    wanted = set(groups) if groups is not None else None
    out: list[Check] = []
    for spec in REGISTRY:
        if spec.scope != scope or (wanted is not None and spec.group not in wanted) or not spec.applies(facts):
            continue
        got = spec.run(facts)
        for c in [got] if isinstance(got, C.Check) else list(got or []):
            if c is not None:  # a per-provider check may have nothing to say for some providers
                # the registration's exit class, unless the check names its own (an error's: see local.secret_backend)
                out.append(c if c.exit_class is not ExitStatus.DRIFT else replace(c, exit_class=spec.exit_class))
    return out


# local ---------------------------------------------------------------------------------------------------------------


@register("local.settings", "local", exit_class=ExitStatus.CONFIG)
def _settings(f: LocalFacts):
    err = f.settings_error
    if err is not None:
        return C.settings_check(f.settings_path, err.message, err.hint).timed(f.settings_ms)
    return C.settings_check(f.settings_path, None, exists=f.settings_exists).timed(f.settings_ms)


@register("local.secret_backend", "local", needs=("settings",))
def _backend(f: LocalFacts):
    if f.backend_error is not None:  # exits as the error would have (a broken secret file: 3), not as drift
        return C.check("local.secret_backend", C.FAIL, f.backend_error.message, f.backend_error.hint, exit_class=f.backend_error.exit_status)
    try:
        description = f.backend.describe()
    except Exception:  # noqa: BLE001 - a keyring's describe() failing is not a reason to stop
        description = ""
    return C.backend_check(f.backend.name, f.keyring_env, description)


@register("local.{provider}.credential", "local", needs=("creds",))
def _credentials(f: LocalFacts):
    for cred in f.creds:
        info = PROVIDERS[cred.provider]
        yield C.credential_check(cred.provider, info.name, cred.present, cred.source, cred.display(), info.env_var)
        if info.credential != "url" and cred.present:  # Ollama's "key" is its URL: reachability is features.ollama.aimo
            res, ms = f.verified.get(cred.provider, (None, 0.0))
            yield C.verify_check(cred.provider, info.name, res, offline=f.offline, present=True).timed(ms)


@register("local.duplicate_keys", "local", needs=("creds",))
def _duplicates(f: LocalFacts):
    from . import credentials

    return C.duplicates_check(credentials.duplicate_keys(f.creds), {p: PROVIDERS[p].name for p in PROVIDER_IDS})


@register("features.ollama.aimo", "features", needs=("creds",), scope="local")
def _ollama_local(f: LocalFacts):
    cred = f.by_id["ollama"]
    if f.ollama is None:
        return C.ollama_local_check(cred.display(), cred.present, offline=f.offline)
    version, error, ms = f.ollama
    return C.ollama_local_check(cred.display(), True, offline=False, version=version, error=error).timed(ms)


@register("features.catalog_cache", "features", needs=("creds",), scope="local")
def _catalog_cache(f: LocalFacts):
    if f.catalog_error is not None:
        return C.check("features.catalog_cache", C.WARN, f"model catalog cache unreadable: {f.catalog_error}", "Remove the cache dir; aimo rebuilds it.", group="features")
    return C.catalog_cache_check(f.catalog_states or {})


# site ----------------------------------------------------------------------------------------------------------------


@register("site.reachable", "site", exit_class=ExitStatus.REMOTE)
def _reachable(f: SiteFacts):
    if f.transport_error is not None or f.password_missing:
        return None  # nothing was sent
    if f.reach_error is not None:
        return C.reachable_check(f.name, f.site.url, f.reach_error.message, f.reach_error.hint).timed(f.reach_ms)
    return C.reachable_check(f.name, f.site.url).timed(f.reach_ms)


@register("site.https", "site", exit_class=ExitStatus.REFUSED)
def _https(f: SiteFacts):
    https = C.https_check(f.name, f.site.url, f.loopback, f.status.environment_type if f.status is not None else None)
    if f.transport_error is not None and https.status != C.FAIL:  # the URL is fine but the REST root (edited by hand) is plain http
        return C.check("site.https", C.FAIL, f.transport_error.message, f.transport_error.hint, group=f"site {f.name}", site=f.name)
    if f.reach_error is not None:
        return None  # not reached: said once, by site.reachable
    return https


@register("site.credentials", "site", exit_class=ExitStatus.AUTH)
def _login(f: SiteFacts):
    s = f.site
    if f.password_missing:
        return C.credentials_check(f.name, s.user, s.url, missing=True)
    if f.auth_status == 401:
        return C.credentials_check(f.name, s.user, s.url, status=401)
    if f.auth_error is not None:
        return C.credentials_check(f.name, s.user, s.url, error=f.auth_error)
    if f.me is not None:
        return C.credentials_check(f.name, s.user, s.url, status=200, slug=f.me.get("slug"))
    return None


@register("site.manage_options", "site", needs=("me",), exit_class=ExitStatus.AUTH)
def _admin(f: SiteFacts):
    return C.manage_options_check(f.name, f.me)


@register("site.wordpress_version", "site", needs=("inspected",))
def _wp_version(f: SiteFacts):
    if f.status is not None:
        return C.wordpress_version_check(f.name, f.status.wordpress_version or None)
    if f.offline:
        return C.check("site.wordpress_version", C.SKIP, "WordPress version not read (--offline, no bridge)", group=f"site {f.name}", site=f.name)
    return C.wordpress_version_check(f.name, f.feed_version)


@register("site.ai_support", "site", needs=("inspected",))
def _ai_support(f: SiteFacts):
    if f.status is not None:
        return C.ai_support_check(f.name, f.status.ai_supported)
    if f.wp_settings is None:
        return None
    visible = [k for k in f.wp_settings if k.startswith("connectors_") and k.endswith("_api_key")]
    return C.ai_support_check(f.name, True if visible else None)  # connector settings exist only when AI is supported


@register("site.bridge", "site", needs=("inspected",))
def _bridge(f: SiteFacts):
    if f.status is not None:
        return C.bridge_check(f.name, active=True).timed(f.bridge_ms)
    out = []
    if f.bridge_error is not None:
        out.append(C.bridge_check(f.name, active=False, error=f.bridge_error).timed(f.bridge_ms))
    if f.bridge_missing:
        if f.offline:
            out.append(C.bridge_check(f.name, active=False, searched=False, offline=True).timed(f.bridge_ms))
        else:
            out.append(C.bridge_check(f.name, active=False, plugin=f.plugin, searched=f.plugin_searched).timed(f.bridge_ms))
    return out


@register("site.bridge_version", "site", needs=("status",))
def _bridge_version(f: SiteFacts):
    return C.bridge_version_check(f.name, f.status.bridge_version or None)


@register("site.mode", "site", needs=("status",))
def _mode(f: SiteFacts):
    return C.mode_check(f.name, f.status.mode)


@register("site.managers", "site", needs=("status",))
def _managers(f: SiteFacts):
    return C.managers_check(f.name, f.status.managers)


@register("site.settings", "site", needs=("no_bridge",))
def _wp_settings(f: SiteFacts):
    e = f.wp_settings_error
    if e is None:
        return None
    return C.check("site.settings", C.FAIL, f"/wp/v2/settings failed: {e.message}", e.hint, group=f"site {f.name}", site=f.name)


# connectors ----------------------------------------------------------------------------------------------------------


@register("connector.{provider}.*", "connectors", needs=("remote", "base"))
def _connectors(f: SiteFacts):
    """registered · key_source · sync · connected · approval, per provider with a key on either side."""
    from .audit import describe_change

    name = f.name
    status = f.status
    conns = status.connectors_by_id if status is not None else {}
    out: list[Check] = []
    for pid in PROVIDER_IDS:
        info = PROVIDERS[pid]
        conn = conns.get(pid)
        cred = f.local[pid]
        if not C.connector_relevant(conn, cred.present) and not f.remote[pid].present:
            continue
        label = (conn.name if conn is not None else "") or info.name
        if status is not None:
            out.append(C.registered_check(name, pid, label, conn, status.mode))
            ks = C.key_source_check(name, pid, label, (conn.key_source if conn is not None else "") or "none", info.env_var)
            if ks is not None:
                out.append(ks)
        mode = status.mode if status is not None else None
        out.append(
            C.sync_check(name, pid, label, cred.first, f.remote[pid], f.base.get(pid), mode=mode, changed=describe_change(status, pid), rollback=f.rollbacks.get(pid))
        )
        if status is not None:
            out.append(C.connected_check(name, pid, label, conn))
            ap = C.approval_check(name, pid, label, status.approval)
            if ap is not None and conn is not None and conn.key_source != "none":
                out.append(ap)
    if not out:
        out.append(C.check("connector.none", C.SKIP, "no provider key locally or on the site", group=f"connectors {name}", site=name))
    return out


@register("connector.{provider}.base_url", "connectors", needs=("status",))
def _base_urls(f: SiteFacts):
    """Every non-default base URL, keyed or not: keys may go there."""
    conns = f.status.connectors_by_id
    for pid in PROVIDER_IDS:
        conn = conns.get(pid)
        yield C.base_url_check(f.name, pid, (conn.name if conn is not None else "") or PROVIDERS[pid].name, conn, PROVIDERS[pid].default_base_url)


# features ------------------------------------------------------------------------------------------------------------


@register("features.wpai", "features", needs=("status",))
def _wpai(f: SiteFacts):
    return C.wpai_check(f.name, f.status.wpai_active)


@register("features.approval", "features", needs=("status",))
def _approval(f: SiteFacts):
    return C.approval_summary_check(f.name, f.status.approval)


@register("features.model.{kind}", "features", needs=("status",))
def _models(f: SiteFacts):
    for kind in ("text", "image"):
        ref, ids, source = f.models.get(kind, ("", None, ""))
        yield C.model_check(f.name, kind, ref, f.status.connectors_by_id, ids, source)


@register("features.no_sampling", "features", needs=("status",))
def _no_sampling(f: SiteFacts):
    prefixes = f.status.no_sampling_prefixes
    return C.no_sampling_check(f.name, list(prefixes) if prefixes is not None else None, f.no_sampling_required)


@register("features.ollama.site", "features", needs=("status",))
def _ollama_site(f: SiteFacts):
    return C.ollama_site_check(f.name, f.status.connector("ollama"), f.local["ollama"].present)


# -- gathering the local facts -----------------------------------------------------------------------------------------


def _ms(ctx, start: float) -> float:
    return (ctx.clock.monotonic() - start) * 1000


def gather_local(ctx, *, offline: bool, verifier=None) -> LocalFacts:
    from . import credentials

    f = LocalFacts(offline=offline, settings_path=str(ctx.settings_path), keyring_env=ctx.env.get("AIMO_KEYRING", ""))
    start = ctx.clock.monotonic()
    try:
        settings = ctx.settings()
        settings.validate()
    except AimoError as exc:
        f.settings_error, f.settings_ms = exc, _ms(ctx, start)
        return f
    f.settings, f.settings_exists, f.settings_ms = settings, ctx.settings_path.exists(), _ms(ctx, start)
    try:
        f.backend = ctx.secrets.backend
    except AimoError as exc:
        f.backend_error = exc
        return f
    try:
        f.creds = credentials.resolve_all(ctx)
    except AimoError as exc:  # the backend opened, but its store cannot be read (a broken secret file): said by
        f.backend_error = exc  # local.secret_backend, the other checks still run; keys cannot be checked
        return f
    by_id = f.by_id
    with ThreadPoolExecutor(max_workers=11) as pool:  # every key verification and Ollama at once
        ollama = pool.submit(_ollama_version, ctx, by_id["ollama"]) if by_id["ollama"].present and not offline else None
        if not offline:
            from .sync import Verifier

            verifier = verifier or Verifier(ctx)
            todo = [c for c in f.creds if c.present and PROVIDERS[c.provider].credential != "url"]
            for pid, res, ms in pool.map(lambda c: _verify(ctx, verifier, c), todo):
                f.verified[pid] = (res, ms)
        if ollama is not None:
            f.ollama = ollama.result()
    try:
        f.catalog_states = _catalog_states(ctx, f.creds)
    except Exception as exc:  # noqa: BLE001 - a broken cache is a finding, not a crash
        f.catalog_error = str(exc)
    return f


def _verify(ctx, verifier, cred):
    start = ctx.clock.monotonic()
    try:
        res = verifier.check(cred.provider, cred.first)
    except Exception as exc:  # noqa: BLE001 - one provider's bug must not sink the others
        res = (None, f"unexpected {type(exc).__name__}: {exc}")
    return cred.provider, res, _ms(ctx, start)


def _ollama_version(ctx, cred) -> tuple:
    start = ctx.clock.monotonic()
    try:
        adapter = ctx.adapter("ollama", cred, sleep=lambda s: None)
        try:
            version = adapter.version()
        finally:
            adapter.close()
    except AimoError as exc:
        return None, exc.message, _ms(ctx, start)
    return version, None, _ms(ctx, start)


def _catalog_states(ctx, creds) -> dict[str, str]:
    from ..catalog import policy
    from ..catalog.cache import CatalogCache
    from ..core.secrets import fingerprint
    from ..providers import base_url_for

    states: dict[str, str] = {}
    cache = CatalogCache(ctx.cache_dir)
    try:
        now = ctx.clock.time()
        for cred in creds:
            if not cred.present:
                continue
            key = policy.cache_key(cred.provider, base_url_for(ctx, cred.provider, cred), fingerprint(cred.first))
            rec = cache.get(key)
            states[cred.provider] = policy.freshness(rec.get("checked_at") if rec else None, now)
    finally:
        cache.close()
    return states


# -- gathering one site's facts ----------------------------------------------------------------------------------------


def gather_site(
    ctx,
    site: SiteConfig,
    *,
    offline: bool,
    live: bool | None = None,
    want_settings: bool = False,
    catalog=None,
    password: str | None = None,
    rest_root: str | None = None,
    on_sent: Callable[[], None] | None = None,
) -> SiteFacts:
    """One site's facts (see the request budget above). `password`/`rest_root`: check a profile before storing it.
    `on_sent`: called once the site's first two requests are on their way."""
    from ..core.hosts import is_loopback_host

    f = SiteFacts(site, offline, is_loopback_host(urlsplit(site.url).hostname), not offline if live is None else live, want_settings)
    try:
        client = ctx.wordpress(site, timeout=15.0 if offline else 60.0, password=password, rest_root=rest_root)
    except SafetyError as exc:
        f.transport_error = exc
        return f
    except AuthError:
        f.password_missing = True
        return f
    with client:
        try:
            _gather_site(ctx, client, f, catalog, on_sent)
        finally:
            f.requests = client.request_count
    return f


def _read_me(ctx, client, f: SiteFacts) -> bool:
    """GET /wp/v2/users/me: reachable, the credentials, the user (False when the site refused or did not answer)."""
    start = ctx.clock.monotonic()
    try:
        me = client.get("/wp/v2/users/me", {"context": "edit"})
    except AuthError as exc:
        f.reach_ms = _ms(ctx, start)
        if "HTTP 403" in exc.message:
            f.auth_status, f.auth_error = 403, exc.message
        else:
            f.auth_status = 401
        return False
    except RemoteError as exc:
        f.reach_error, f.reach_ms = exc, _ms(ctx, start)
        return False
    f.reach_ms = _ms(ctx, start)
    f.me = me if isinstance(me, dict) else {}
    return True


def _gather_site(ctx, client, f: SiteFacts, catalog, on_sent: Callable[[], None] | None = None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def bridge_status():
        """The bridge's status (with the live checks, unless offline), timed."""
        begun = ctx.clock.monotonic()
        try:
            from ..wordpress import bridge as bridge_api

            # the doctor asks what holds now (check=fresh); an incompatible bridge is a check, not an error
            return bridge_api.status(client, check="fresh" if f.live else False, require_compatible=False), None, _ms(ctx, begun)
        except (RemoteError, AuthError) as exc:
            return None, exc, _ms(ctx, begun)

    # The status first, alone: the bridge names the user it answered, so users/me (a second WordPress boot on the
    # site's cores) is asked only when it cannot. Sent from a worker, so the local state is read while it is out.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aimo-doctor-status") as pool:
        pending = pool.submit(bridge_status)
        if on_sent is not None:
            on_sent()
        status, exc, bridge_ms = pending.result()
    user = status.current_user if status is not None else None
    if user is not None:
        f.me, f.reach_ms = user.as_me(), bridge_ms
    elif _unanswered(exc):  # no answer at all: the site is unreachable, and users/me would not be answered either
        f.reach_error, f.reach_ms = exc, bridge_ms
        return
    elif isinstance(exc, AuthError) and "HTTP 403" not in exc.message:  # 401: the credentials, as users/me would say
        f.auth_status, f.reach_ms = 401, bridge_ms
        return
    elif not _read_me(ctx, client, f):
        return
    if not f.admin:
        return
    f.local = _local_creds(ctx)
    from ..stores.state import SyncState

    f.base = SyncState(ctx.state_dir).load(f.name)
    f.status, f.bridge_ms = status, bridge_ms
    if isinstance(exc, RemoteError) and (getattr(exc, "status", None) == 404 or type(exc).__name__ == "BridgeMissing"):
        f.bridge_missing = True
    elif exc is not None:
        f.bridge_error = exc.message
    if f.status is not None:
        from .sync import remote_from_status

        f.remote = remote_from_status(f.status)
        f.rollbacks = _rollbacks(ctx, f.status, f.remote)
        for kind in ("text", "image"):
            ref = getattr(f.status.models, kind)
            ids, source = _catalog_ids(ctx, ref, offline=not f.live, catalog=catalog)
            f.models[kind] = (ref, ids, source)
        f.no_sampling_required = _no_sampling_required(ctx)
        if f.want_settings:
            _read_settings(client, f)
        return
    if f.offline:
        return
    if f.bridge_missing:
        try:
            f.plugin, f.plugin_searched = C.find_bridge_plugin(client.get("/wp/v2/plugins", {"search": "aimo"})), True
        except AimoError:
            f.plugin_searched = False
    _read_settings(client, f)
    from ..wordpress.discovery import fetch_wordpress_version

    f.feed_version = fetch_wordpress_version(client, f.site.url)
    if f.wp_settings is not None:
        from .sync import remote_from_settings

        f.remote = remote_from_settings(f.wp_settings)


def _unanswered(exc: AimoError | None) -> bool:
    """The request got no HTTP answer (refused, timed out, cut off, a name that does not resolve, TLS): the
    WordPress client raises its RemoteError while handling httpx's transport error."""
    import httpx

    return isinstance(exc, RemoteError) and isinstance(exc.__context__, httpx.TransportError)


def _read_settings(client, f: SiteFacts) -> None:
    try:
        got = client.get("/wp/v2/settings")
    except AimoError as exc:
        f.wp_settings_error = exc
        return
    if isinstance(got, dict):
        f.wp_settings = got
    else:
        f.wp_settings_error = RemoteError(f"{client.site}: /wp/v2/settings did not answer a JSON object", "Check the site's REST API.")


def _local_creds(ctx) -> dict:
    from . import credentials

    return {c.provider: c for c in credentials.resolve_all(ctx)}


def _rollbacks(ctx, status, remote: dict) -> dict:
    """provider → "rollback: …" for site keys that are keys aimo replaced earlier (services/rollback.py)."""
    from .rollback import rollbacks_of

    return {pid: rb.describe() for pid, rb in rollbacks_of(ctx, status, {p: remote[p] for p in PROVIDER_IDS}).items()}


def _no_sampling_required(ctx) -> tuple:
    from ..core.sampling import DEFAULT_NO_SAMPLING_PREFIXES

    try:
        configured = ctx.settings().provider("anthropic").no_sampling_prefixes
    except AimoError:
        configured = None
    return tuple(configured if configured is not None else DEFAULT_NO_SAMPLING_PREFIXES)


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


def site_checks(ctx, site: SiteConfig, *, offline: bool, catalog=None, groups: Iterable[str] | None = None, **kw) -> tuple[list[Check], int]:
    """Every check for one site (or only `groups` of them); returns (checks, WordPress requests made)."""
    facts = gather_site(ctx, site, offline=offline, catalog=catalog, **kw)
    return run_registry(facts, "site", groups), facts.requests


# -- the whole run -----------------------------------------------------------------------------------------------------


def select(ctx, names: list[str] | None, group: str | None, all_sites: bool, shard: str | None = None) -> list[SiteConfig]:
    """The sites to check; none when nothing is configured and none was asked for."""
    from .fleet import select_sites

    if not names and not group and not all_sites and not ctx.settings().site_names():
        return []
    return select_sites(ctx, names, group, all_sites, shard)


def run(ctx, *, names: list[str] | None = None, group: str | None = None, all_sites: bool = False, offline: bool = False, strict: bool = False, jobs: int = 8, shard: str | None = None) -> DoctorReport:
    from .fleet import run_fleet

    from .shard import parse

    report = DoctorReport(strict=strict)
    parse(shard)  # a bad --shard is a usage error even when no site is configured
    sites = select(ctx, names, group, all_sites, shard) if _settings_valid(ctx) else []
    # The local facts (every key verified) are gathered while the sites are checked, but only once the first site's
    # requests are out: the bridge's live checks take the longest, and one interpreter lock means that every import
    # and verification running beside the site's first steps would delay them.
    sent = threading.Event()

    def local_facts() -> LocalFacts:
        sent.wait()
        return gather_local(ctx, offline=offline)

    if sites:
        _load_site_path()
    else:
        sent.set()
    with ThreadPoolExecutor(max_workers=1) as pool:
        local = pool.submit(local_facts)
        try:
            outcomes = run_fleet(ctx, sites, lambda site: site_checks(ctx, site, offline=offline, on_sent=sent.set), jobs=jobs, label="doctor") if sites else []
        finally:
            sent.set()  # a site that failed before sending anything
        facts = local.result()
    report.checks += run_registry(facts, "local")
    if facts.backend_error is not None:
        report.notes.append("The secret store could not be read: the provider keys were not checked.")
    if facts.settings is None:
        report.notes.append("The settings file is invalid: site checks were not run.")
        return report
    if not sites and shard:
        report.notes.append(f"Shard {shard} holds none of the selected sites: only local checks ran.")
        return report
    if not sites:
        report.notes.append("No WordPress site is configured: only local checks ran. Add one: aimo site add NAME URL --user USER")
        return report
    report.sites = [s.name for s in sites]
    for outcome in outcomes:
        if outcome.ok:
            site_list, count = outcome.value
            report.checks += site_list
            report.requests[outcome.site] = count
        else:
            report.checks.append(
                C.check("site.error", C.FAIL, outcome.error or "failed", outcome.hint, group=f"site {outcome.site}", site=outcome.site, exit_class=outcome.exit_status)
            )
    return report


def _load_site_path() -> None:
    """Import what a site check needs to send its first request, before anything runs beside it (the key
    verifications, which use the same transport, import the rest once the request is out)."""
    from .. import transport  # noqa: F401
    from ..wordpress import bridge, client  # noqa: F401


def _settings_valid(ctx) -> bool:
    try:
        ctx.settings().validate()
    except AimoError:
        return False
    return True
