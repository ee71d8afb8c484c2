"""WordPress site profiles: add (discover + authenticate), list, remove, default, test; and REST clients for them."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..core.secrets import validate_url
from ..core.versions import MIN_WORDPRESS, parse_version
from ..errors import AimoError, AuthError, ConfigError, ExitCode, SafetyError, UsageError
from ..stores.secrets import site_entry
from ..stores.settings import SiteConfig, delete_in, set_in

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise UsageError(
            f"invalid site name {name!r}",
            "Use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit), e.g. blog or shop-eu.",
        )
    return name


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


def get_site(ctx, name: str | None = None) -> SiteConfig:
    settings = ctx.settings()
    sites = settings.sites()
    if not name:
        name = settings.default_site
        if not name:
            if len(sites) == 1:
                return next(iter(sites.values()))
            if not sites:
                raise ConfigError("no WordPress site is configured", "Add one: aimo site add NAME URL --user USER")
            raise UsageError("several sites are configured and none is the default", "Name the site, or set one: aimo site use NAME")
    if name not in sites:
        known = ", ".join(sorted(sites)) or "none"
        raise ConfigError(f"no site named {name!r} (configured: {known})", "See aimo site list, or add it: aimo site add NAME URL --user USER")
    return sites[name]


def credential_origin(site: SiteConfig) -> str:
    """Where this site's application password may go: its URL's origin, or the REST root the admin gave with --rest-root."""
    return site.rest_root if site.rest_root and site.extra.get("rest_root_explicit") is True else site.url


def check_transport(site: SiteConfig) -> None:
    """Refuse a site entry whose URL or REST root is malformed (exit 3), plain http to a non-loopback host (exit 6), or
    whose REST root is on another origin than its URL without the admin's explicit --rest-root (exit 6)."""
    _check_urls(site)
    from ..wordpress.client import origin_label, same_origin_or_upgrade

    if site.rest_root and not same_origin_or_upgrade(_origin(credential_origin(site)), site.rest_root):
        raise SafetyError(
            f"site {site.name}: its rest_root {site.rest_root} is on {origin_label(site.rest_root)}, not on the site's origin {origin_label(site.url)}"
            " (an older aimo took it from the site's Link header); refusing to send the application password there",
            f"Add the site again to rediscover its REST root on its own origin: aimo site add {site.name} {site.url} --user {site.user}"
            f" (or, if that other origin is right, accept it explicitly with --rest-root {site.rest_root}).",
        )


def _origin(url: str):
    from ..wordpress.client import origin_of

    return origin_of(url)


def _check_urls(site: SiteConfig) -> None:
    for what, url in (("URL", site.url), ("rest_root", site.rest_root)):
        reason = validate_url(url) if url is not None else None
        if reason:
            raise ConfigError(f"site {site.name}: its {what} {url!r} {reason}", f"Fix [sites.{site.name}] in the settings file, or add it again: aimo site add {site.name} URL --user USER")
        parts = urlsplit(url or "")
        # checked at every use, not only by `site add`: the settings file may have been edited by hand
        if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname) and not site.extra.get("allow_insecure_http"):
            raise SafetyError(
                f"site {site.name}: refusing plain http to {parts.hostname} ({what}): the application password would cross the network in clear text",
                f"Change its URL to https (aimo site add {site.name} https://… --user {site.user}).",
            )


def client_for(ctx, site: SiteConfig, *, timeout: float | None = None, transport=None):
    from ..wordpress.client import DEFAULT_TIMEOUT, RestRoot, WordPressClient

    check_transport(site)
    password = ctx.secrets.get(site_entry(site.name))
    if not password:
        raise AuthError(
            f"no application password is stored for site {site.name}",
            f"Store it again: aimo site add {site.name} {site.url} --user {site.user}",
        )
    root = RestRoot.parse(site.rest_root or site.url.rstrip("/") + "/wp-json/")
    return WordPressClient(
        root,
        site.user,
        password,
        origin=credential_origin(site),
        verify=ctx.tls_verify(site.ca_bundle),
        debug=ctx.debug_log if ctx.options.debug else None,
        timeout=ctx.http_timeout(timeout) or DEFAULT_TIMEOUT,
        transport=transport,
    )


@dataclass
class Check:
    id: str
    status: str  # ok | warn | fail | skip
    message: str
    hint: str | None = None


@dataclass
class SiteReport:
    site: str
    url: str
    checks: list[Check] = field(default_factory=list)
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

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "url": self.url,
            "wordpress_version": self.wordpress_version,
            "bridge": self.bridge,
            "rest_root": self.rest_root,
            "connector_settings": self.connector_settings,
            "checks": [c.__dict__ for c in self.checks],
        }


def _whoami(client) -> dict:
    """users/me tells 'not logged in' (401) apart from 'not allowed' (403), which /wp/v2/settings cannot."""
    try:
        me = client.get("/wp/v2/users/me", {"context": "edit"})
    except AuthError as exc:
        raise AuthError(
            f"{client.site} does not accept the credentials of this site profile ({exc.message.split('(')[-1].rstrip(')')})",
            "Check the user name and create a new application password in wp-admin → Users → Profile, then run aimo site add again.",
        ) from None
    return me if isinstance(me, dict) else {}


def _require_admin(client, me: dict) -> None:
    caps = me.get("capabilities") or {}
    if not caps.get("manage_options"):
        roles = ", ".join(me.get("roles") or []) or "no role"
        raise AuthError(
            f"user {me.get('slug') or me.get('name') or '?'} ({roles}) on {client.site} lacks the manage_options capability",
            "aimo needs an Administrator's application password: use an admin user, or grant manage_options.",
        )


def connector_settings(settings: dict) -> list[str]:
    return sorted(k for k in settings if k.startswith("connectors_") and k.endswith("_api_key"))


def test_site(ctx, name: str | None = None, *, site: SiteConfig | None = None, password: str | None = None) -> SiteReport:
    """Reachability, REST root, credentials, manage_options, WordPress ≥ 7.0, visible connector settings."""
    from ..wordpress.discovery import discover, fetch_wordpress_version

    site = site or get_site(ctx, name)
    check_transport(site)  # before anything goes out, even the credential-free discovery
    report = SiteReport(site.name, site.url)
    verify = ctx.tls_verify(site.ca_bundle)
    timeout = ctx.http_timeout()
    explicit = credential_origin(site) != site.url
    index = discover(
        site.url,
        verify=verify,
        debug=ctx.debug_log if ctx.options.debug else None,
        rest_root=site.rest_root if explicit else None,
        **({"timeout": timeout} if timeout else {}),
    )
    report.checks.append(Check("reachable", "ok", f"{site.url} answers; REST root {index.root}"))
    report.bridge = index.has_bridge
    report.rest_root = str(index.root)
    report.home = index.home
    if password is not None:
        from ..wordpress.client import WordPressClient

        client = WordPressClient(
            index.root,
            site.user,
            password,
            verify=verify,
            debug=ctx.debug_log if ctx.options.debug else None,
            origin=credential_origin(site),
            **({"timeout": timeout} if timeout else {}),
        )
    else:
        client = client_for(ctx, SiteConfig(**{**site.__dict__, "rest_root": str(index.root)}))
    with client:
        me = _whoami(client)
        report.user = {"id": me.get("id"), "slug": me.get("slug"), "roles": me.get("roles") or []}
        report.checks.append(Check("credentials", "ok", f"logged in as {me.get('slug') or site.user}"))
        _require_admin(client, me)
        report.checks.append(Check("manage_options", "ok", "the user can manage options"))
        settings = client.get("/wp/v2/settings")
        if not isinstance(settings, dict):
            raise AimoError(f"{client.site}: /wp/v2/settings did not answer a JSON object", "Check the site's REST API.", code=ExitCode.REMOTE)
        version = fetch_wordpress_version(client, site.url)  # the URL the admin gave, not the index's `home`
        if report.bridge:
            report.site_id = _bridge_site_id(client)
    report.wordpress_version = version
    parsed = parse_version(version)
    if parsed is None:
        report.checks.append(Check("wordpress_version", "warn", "WordPress version not published by the site (generator tag removed)", "aimo bridge status reports it once the bridge is active."))
    elif parsed < MIN_WORDPRESS:
        report.checks.append(Check("wordpress_version", "fail", f"WordPress {version} has no Connectors API (7.0 or later is needed)", "Update WordPress to 7.0 or later."))
    else:
        report.checks.append(Check("wordpress_version", "ok", f"WordPress {version}"))
    report.connector_settings = connector_settings(settings)
    if report.connector_settings:
        report.checks.append(Check("connectors", "ok", f"{len(report.connector_settings)} connector setting(s) visible: " + ", ".join(report.connector_settings)))
    else:
        report.checks.append(
            Check(
                "connectors",
                "warn",
                "no connector settings are visible over REST (no AI provider is registered in the AI Client)",
                "Install and activate the aimo bridge: aimo bridge install / aimo bridge activate, then aimo mode managed.",
            )
        )
    report.checks.append(
        Check("bridge", "ok" if report.bridge else "warn", "aimo bridge active (aimo/v1)" if report.bridge else "aimo bridge not active", None if report.bridge else "aimo bridge zip, upload it in wp-admin → Plugins, then aimo bridge activate")
    )
    return report


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
) -> SiteReport | None:
    """Discover and authenticate first; only then store the profile and the application password.

    `rest_root` is the admin's explicit REST root (`--rest-root`), possibly on another origin: the application password
    then goes to that origin (and only there); it obeys the same https rule as the site URL. An existing profile of
    the same name is replaced only with `force` (its old settings are appended to `replaced`).
    """
    import tomlkit

    check_name(name)
    existing = ctx.settings().sites().get(name)
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
        previous = settings.sites().get(name)
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


def _bridge_site_id(client) -> str | None:
    from ..wordpress import bridge as bridge_api

    try:
        status = bridge_api.status(client)
    except AimoError:
        return None
    value = status.get("site_id") if isinstance(status, dict) else None
    return str(value) if isinstance(value, str) and value else None


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
    """Other profiles that point at the same WordPress as profile `name`."""
    sites = ctx.settings().sites()
    me = sites.get(name)
    if me is None:
        return []
    mine = identities(me)
    return sorted(n for n, s in sites.items() if n != name and identities(s) & mine)


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
        if name not in settings.sites():
            raise ConfigError(f"no site named {name!r}", "See aimo site list.")
        delete_in(settings.doc, ("sites", name))
        if settings.default_site == name:
            del settings.doc["default_site"]
    ctx.secrets.delete(site_entry(name))
    from ..stores.state import SyncState

    SyncState(ctx.state_dir).forget_site(name)


def use_site(ctx, name: str) -> None:
    with ctx.settings_store.edit(scope=(("default_site",),)) as settings:
        if name not in settings.sites():
            known = ", ".join(sorted(settings.sites())) or "none"
            raise ConfigError(f"no site named {name!r} (configured: {known})", "See aimo site list.")
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
