"""WordPress site profiles: add (discover + authenticate), list, remove, default, test; and REST clients for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..core.hosts import is_loopback_host  # noqa: F401  (re-exported: sites.is_loopback_host)
from ..core.secrets import validate_url
from ..errors import AimoError, ConfigError, ExitStatus, SafetyError, UsageError
from ..stores.secrets import site_entry
from ..stores.settings import SiteConfig, delete_in, set_in
from ..wordpress.client import origin_label, origin_of, plain_url, same_origin_or_upgrade, under
from .fleet import get_site, unknown_site  # noqa: F401  (re-exported: sites.get_site)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise UsageError(
            f"invalid site name {name!r}",
            "Use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit), e.g. blog or shop-eu.",
        )
    return name


def normalise_url(url: str, *, allow_insecure_http: bool = False) -> str:
    url = (url or "").strip()
    reason = validate_url(url)
    if reason:
        raise UsageError(f"site URL {url!r} {reason}", "Give the site's home URL, e.g. https://blog.example.com.")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise UsageError("the site URL must not contain a user name or password", "Give the user with --user; the application password is prompted for.")
    if parts.query or parts.fragment:
        raise UsageError(f"the site URL must not carry a query or fragment ({url})", "Give the site's home URL only.")
    if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise SafetyError(
            f"refusing plain http for {parts.hostname}: the application password would cross the network in clear text",
            "Use https://, or pass --allow-insecure-http if you really mean it (a loopback host is always allowed).",
        )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def normalise_rest_root(value: str, *, allow_insecure_http: bool = False) -> str:
    """An explicit REST root (`--rest-root`): a full http(s) URL, https unless loopback or --allow-insecure-http."""
    value = (value or "").strip()
    reason = validate_url(value)
    if reason:
        raise UsageError(f"--rest-root {value!r} {reason}", "Give the REST root URL, e.g. https://api.blog.example.com/wp-json/.")
    parts = urlsplit(value)
    if parts.username or parts.password or parts.fragment:
        raise UsageError("--rest-root must not contain a user name, password or fragment", "Give the REST root URL only.")
    if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise SafetyError(
            f"refusing plain http for the REST root on {parts.hostname}: the application password would cross the network in clear text",
            "Use an https:// REST root, or pass --allow-insecure-http if you really mean it (a loopback host is always allowed).",
        )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def credential_origin(site: SiteConfig) -> str:
    """Where this site's application password may go: its URL's origin, or the REST root the admin gave with --rest-root."""
    return site.rest_root if site.rest_root and site.extra.get("rest_root_explicit") is True else site.url


def check_transport(site: SiteConfig) -> None:
    """Refuse a site entry whose URL or REST root is malformed (exit 3), plain http to a non-loopback host (exit 6), or
    whose REST root is on another origin than its URL without the admin's explicit --rest-root (exit 6)."""
    _check_urls(site)
    pin = credential_origin(site)
    if site.rest_root and not under(site.rest_root, pin) and not same_origin_or_upgrade(origin_of(pin), site.rest_root):
        raise SafetyError(
            f"site {site.name}: its rest_root {site.rest_root} is on {origin_label(site.rest_root)}, not on the site's origin {origin_label(site.url)}"
            " (an older aimo took it from the site's Link header); refusing to send the application password there",
            f"Add the site again to rediscover its REST root on its own origin: aimo site add {site.name} {site.url} --user {site.user}"
            f" (or, if that other origin is right, accept it explicitly with --rest-root {site.rest_root}).",
        )


def _check_urls(site: SiteConfig) -> None:
    for what, url in (("URL", site.url), ("rest_root", site.rest_root)):
        plain = plain_url(url) if isinstance(url, str) else None
        if plain is not None:  # a plain URL (the client's parse, kept for it): valid, with its scheme and host as urlsplit's
            scheme, hostname = plain.scheme, plain.host
        else:
            reason = validate_url(url) if url is not None else None
            if reason:
                raise ConfigError(f"site {site.name}: its {what} {url!r} {reason}", f"Fix [sites.{site.name}] in the settings file, or add it again: aimo site add {site.name} URL --user USER")
            parts = urlsplit(url or "")
            scheme, hostname = parts.scheme.lower(), parts.hostname
        # checked at every use, not only by `site add`: the settings file may have been edited by hand
        if scheme == "http" and not is_loopback_host(hostname) and not site.extra.get("allow_insecure_http"):
            raise SafetyError(
                f"site {site.name}: refusing plain http to {hostname} ({what}): the application password would cross the network in clear text",
                f"Change its URL to https (aimo site add {site.name} https://… --user {site.user}).",
            )


@dataclass
class SiteReport:
    """`aimo site test`: the `site` group of the doctor's check registry (services/doctor.py), plus what was found."""

    site: str
    url: str
    checks: list = field(default_factory=list)  # core.checks.Check
    user: dict = field(default_factory=dict)
    connector_settings: list[str] = field(default_factory=list)
    wordpress_version: str | None = None
    bridge: bool = False
    rest_root: str | None = None
    home: str | None = None  # the home URL as WordPress reports it (REST index)
    site_id: str | None = None  # the id the bridge keeps for the site (when the bridge is active)

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    @property
    def exit_status(self) -> ExitStatus:
        from ..core.exits import worst

        return worst(c.exit_status() for c in self.checks)

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "url": self.url,
            "wordpress_version": self.wordpress_version,
            "bridge": self.bridge,
            "rest_root": self.rest_root,
            "connector_settings": self.connector_settings,
            "checks": [c.as_dict() for c in self.checks],
        }


def connector_settings(settings: dict) -> list[str]:
    return sorted(k for k in settings if k.startswith("connectors_") and k.endswith("_api_key"))


def test_site(ctx, name: str | None = None, *, site: SiteConfig | None = None, password: str | None = None) -> SiteReport:
    """The doctor's `site` checks for one site (reachable, HTTPS, credentials, manage_options, WordPress ≥ 7.0, AI
    support, the bridge, its version, mode, other managers), after discovering its REST root. No live key checks."""
    from ..wordpress.discovery import discover
    from . import doctor

    site = site or get_site(ctx, name)
    check_transport(site)  # before anything goes out, even the credential-free discovery
    report = SiteReport(site.name, site.url)
    timeout = ctx.http_timeout()
    explicit = credential_origin(site) != site.url
    index = discover(
        site.url,
        verify=ctx.tls_verify(site.ca_bundle),
        debug=ctx.debug_log if ctx.options.debug else None,
        transport=ctx.transport,
        rest_root=site.rest_root if explicit else None,
        **({"timeout": timeout} if timeout else {}),
    )
    report.rest_root = str(index.root)
    report.home = index.home
    facts = doctor.gather_site(ctx, site, offline=False, live=False, want_settings=True, password=password, rest_root=report.rest_root)
    report.checks = doctor.run_registry(facts, "site", groups=("site",))
    me = facts.me or {}
    report.user = {"id": me.get("id"), "slug": me.get("slug"), "roles": me.get("roles") or []} if facts.me is not None else {}
    report.bridge = facts.status is not None or index.has_bridge
    report.wordpress_version = (facts.status.wordpress_version if facts.status is not None else None) or facts.feed_version
    report.connector_settings = connector_settings(facts.wp_settings or {})
    if facts.status is not None:
        report.site_id = facts.status.site_id or None
    return report


def _refusal(report: SiteReport) -> AimoError | None:
    """The error that keeps `site add` from storing a profile: the most severe failing check that is not mere drift."""
    from ..core.exits import SEVERITY

    failing = [c for c in report.checks if c.status == "fail" and c.exit_class not in (ExitStatus.DRIFT, ExitStatus.OK)]
    if not failing:
        return None
    worst = min(failing, key=lambda c: SEVERITY.index(c.exit_class))
    return AimoError(worst.message, worst.hint, status=worst.exit_class)


def add_site(
    ctx,
    name: str,
    url: str,
    user: str,
    password: str,
    *,
    group: str | None = None,
    allow_insecure_http: bool = False,
    make_default: bool = False,
    verify: bool = True,
    rest_root: str | None = None,
    force: bool = False,
    replaced: list | None = None,
    dry_run: bool = False,
) -> SiteReport | None:
    """Discover and authenticate first; only then store the profile and the application password.

    `rest_root` is the admin's explicit REST root (`--rest-root`), possibly on another origin: the application password
    then goes to that origin (and only there); it obeys the same https rule as the site URL. An existing profile of
    the same name is replaced only with `force` (its old settings are appended to `replaced`). `dry_run`: every check
    (the site is contacted unless `verify` is false), nothing stored.
    """
    import tomlkit

    check_name(name)
    existing = ctx.settings().site(name)
    if existing is not None and not force:
        raise SafetyError(
            f"a site named {name} already exists ({existing.url} as {existing.user}); adding it again would replace it",
            "Pass --force to replace it, or pick another name (aimo site list shows the names in use).",
        )
    url = normalise_url(url, allow_insecure_http=allow_insecure_http)
    if rest_root is not None:
        rest_root = normalise_rest_root(rest_root, allow_insecure_http=allow_insecure_http)
    user = (user or "").strip()
    if not user:
        raise UsageError("no user given", "Pass --user USER (the WordPress login or email of an Administrator).")
    password = " ".join(password.split()) if password else ""
    if not password:
        raise UsageError("no application password given", "Create one in wp-admin → Users → Profile → Application Passwords.")
    if group is not None:
        check_name(group)
    extra = {"allow_insecure_http": True} if allow_insecure_http else {}
    if rest_root:
        extra["rest_root_explicit"] = True
    site = SiteConfig(name=name, url=url, user=user, group=group, rest_root=rest_root, extra=extra)
    report = None
    if verify:
        report = test_site(ctx, site=site, password=password)
        refusal = _refusal(report)
        if refusal is not None:
            raise refusal  # nothing is stored
    if dry_run:
        return report
    explicit_root = rest_root
    rest_root = report.rest_root if report is not None else rest_root
    table = tomlkit.table()
    table["url"] = url
    table["user"] = user
    if group:
        table["group"] = group
    if rest_root:
        table["rest_root"] = rest_root
    if explicit_root:
        table["rest_root_explicit"] = True
    if allow_insecure_http:
        table["allow_insecure_http"] = True
    if report is not None and report.home:
        table["home"] = report.home  # identity: two profiles of one WordPress are told apart by home and site_id
    if report is not None and report.site_id:
        table["site_id"] = report.site_id
    with ctx.settings_store.edit(scope=(("sites", name), ("default_site",))) as settings:
        previous = settings.site(name)
        if previous is not None and not force:
            raise SafetyError(f"a site named {name} was added meanwhile ({previous.url})", "Pass --force to replace it.")
        if previous is not None and replaced is not None:
            replaced.append(previous)
        if previous is not None and previous.url != url:
            from ..stores.state import SyncState

            SyncState(ctx.state_dir).forget_site(name)  # what was synced with the old URL says nothing about the new one
        if "sites" not in settings.doc:
            settings.doc["sites"] = tomlkit.table(is_super_table=True)
        from tomlkit.items import InlineTable

        if isinstance(settings.doc["sites"], InlineTable):
            inline = tomlkit.inline_table()
            inline.update(table.unwrap())
            table = inline  # an inline table can only hold inline tables
        settings.doc["sites"][name] = table
        if make_default or not settings.default_site:
            settings.doc["default_site"] = name
            _move_default_first(settings.doc)
    ctx.secrets.set(site_entry(name), password)  # after the settings write: a refused write stores nothing
    return report


def identity(site: SiteConfig) -> str:
    """What makes two profiles the same WordPress: the bridge's site id, else the home URL WordPress reported, else
    the profile's URL (scheme and host case, `www.` and a trailing slash do not matter)."""
    site_id = site.extra.get("site_id")
    if isinstance(site_id, str) and site_id:
        return "id:" + site_id
    home = site.extra.get("home")
    url = home if isinstance(home, str) and home else site.url
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed URL is reported when the site is used (check_transport), not here
        return "raw:" + url
    return f"url:{host}{port}{parts.path.rstrip('/')}"


def identities(site: SiteConfig) -> set[str]:
    """Every identity a profile can be matched by (site id and URL)."""
    out = {identity(site), identity(SiteConfig(site.name, site.url, site.user))}
    home = site.extra.get("home")
    if isinstance(home, str) and home:
        out.add(identity(SiteConfig(site.name, home, site.user)))
    return out


def same_site_profiles(ctx, name: str) -> list[str]:
    """Other profiles that point at the same WordPress as profile `name`. Only the entries that mention one of its
    hosts or its site id are read (in a big fleet, a few): no other entry can have one of its identities."""
    settings = ctx.settings()
    me = settings.site(name)
    if me is None:
        return []
    mine = identities(me)
    candidates = settings.site_names_mentioning(_identity_needles(me))
    return sorted(n for n in candidates if n != name and identities(settings.site(n)) & mine)


def _identity_needles(site: SiteConfig) -> list[tuple[str, ...]]:
    """What an entry sharing an identity with `site` (see identity) must contain: its site id; or the host (without
    `www.`) and the path of its URL or home, both in one value; or the URL itself when it does not parse."""
    out: list[tuple[str, ...]] = []
    site_id = site.extra.get("site_id")
    if isinstance(site_id, str) and site_id:
        out.append((site_id,))
    home = site.extra.get("home")
    for url in (site.url, home if isinstance(home, str) and home else None):
        if url is None:
            continue
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError as identity() does: then its identity is the raw URL
            path = parts.path.rstrip("/")
            out.append(((parts.hostname or "").lower().removeprefix("www."),) + ((path,) if path else ()))
        except ValueError:
            out.append((url,))
    return out


def dedupe_sites(sites: list[SiteConfig]) -> tuple[list[SiteConfig], list[tuple[str, str]]]:
    """Keep the first profile of each WordPress; return the kept list and (skipped, kept) name pairs."""
    kept: list[SiteConfig] = []
    skipped: list[tuple[str, str]] = []
    for site in sites:
        ids = identities(site)
        twin = next((k for k in kept if identities(k) & ids), None)
        if twin is not None:
            skipped.append((site.name, twin.name))
        else:
            kept.append(site)
    return kept, skipped


def once_per_wordpress(ctx, sites: list[SiteConfig]) -> list[SiteConfig]:
    """For commands that write: each WordPress once, however many profiles point at it (home URL / bridge site id)."""
    kept, twins = dedupe_sites(sites)
    for skipped, first in twins:
        ctx.out.info(f"Site {skipped} is the same WordPress as site {first}: handled once, as {first}.")
    return kept


def _move_default_first(doc) -> None:
    """Keep `default_site` above the tables (TOML requires top-level keys before any table)."""
    if list(doc.keys())[0] == "default_site":
        return
    value = doc["default_site"]
    del doc["default_site"]
    items = [(k, doc[k]) for k in list(doc.keys())]
    for k, _ in items:
        del doc[k]
    doc["default_site"] = value
    for k, v in items:
        doc[k] = v


def remove_site(ctx, name: str) -> None:
    with ctx.settings_store.edit(scope=(("sites", name), ("default_site",))) as settings:
        if name not in settings.site_names():
            raise unknown_site(name, settings.site_names())
        delete_in(settings.doc, ("sites", name))
        if settings.default_site == name:
            del settings.doc["default_site"]
    ctx.secrets.delete(site_entry(name))
    from ..stores.state import SyncState

    SyncState(ctx.state_dir).forget_site(name)


def use_site(ctx, name: str) -> None:
    with ctx.settings_store.edit(scope=(("default_site",),)) as settings:
        if name not in settings.site_names():
            raise unknown_site(name, settings.site_names())
        set_in(settings.doc, ("default_site",), name)
        _move_default_first(settings.doc)


def list_sites(ctx) -> list[dict]:
    settings = ctx.settings()
    default = settings.default_site
    out = []
    for site in settings.sites().values():
        out.append(
            {
                "name": site.name,
                "url": site.url,
                "user": site.user,
                "group": site.group,
                "default": site.name == default,
                "password_stored": bool(ctx.secrets.get(site_entry(site.name))),
            }
        )
    return out
