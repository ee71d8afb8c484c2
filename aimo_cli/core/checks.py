"""The doctor's check model and every check's verdict, as pure functions of what was observed.

Pure: no I/O, no clock. The service (`services/doctor.py`) gathers the facts (settings, secret backend, provider
answers, the bridge's status document, the sync base) and times them; each function here turns facts into one
`Check` (or a few). Exit codes and the JUnit report are derived here too, so they are tested without a network.
"""

from __future__ import annotations

import re
from dataclasses import field, fields, replace
from typing import Iterable, Mapping, Sequence

from .exits import ExitCode, ExitStatus
from .exits import exit_code as _exit_code
from .records import record
from .sync import DRIFT, BaseRecord, RemoteKey, Status, classify
from .versions import BRIDGE_COMPAT, MIN_WORDPRESS, parse_version  # noqa: F401  (re-exported for the doctor service)

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
STATUSES = (OK, WARN, FAIL, SKIP)

WPAI_BASENAME = "ai/ai.php"


@record(frozen=True)
class Check:
    id: str
    status: str  # ok | warn | fail | skip
    message: str
    hint: str | None = None
    duration_ms: float = 0.0
    group: str = "local"
    site: str | None = None
    # what its failure exits with: declared by the check's registration (services/doctor.py REGISTRY)
    exit_class: ExitStatus = field(default=ExitStatus.DRIFT, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")

    def exit_status(self, strict: bool = False) -> ExitStatus:
        """OK unless the check fails (warnings too with strict); then its exit class."""
        return self.exit_class if self.fails(strict) else ExitStatus.OK

    def timed(self, ms: float) -> "Check":
        return replace(self, duration_ms=round(ms, 1))

    def fails(self, strict: bool = False) -> bool:
        return self.status == FAIL or (strict and self.status == WARN)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in _CHECK_FIELDS}


_CHECK_FIELDS = tuple(f.name for f in fields(Check) if f.name != "exit_class")  # what a report shows, in order


def check(
    id: str, status: str, message: str, hint: str | None = None, *, group: str = "local", site: str | None = None, exit_class: ExitStatus | None = None
) -> Check:
    return Check(id, status, message, hint, 0.0, group, site, exit_class or ExitStatus.DRIFT)


# -- outcome ---------------------------------------------------------------------------------------------------------


def exit_code(checks: Iterable[Check], strict: bool = False) -> ExitCode:
    """The most severe failing check's exit class (core/exits.py): 3 settings invalid · 4 a site refused the
    credentials · 6 a safety rule refused a site (plain http) · 7 any other failure (warnings too with strict) · 0."""
    return _exit_code(c.exit_status(strict) for c in checks)


def counts(checks: Iterable[Check]) -> dict[str, int]:
    out = {s: 0 for s in STATUSES}
    for c in checks:
        out[c.status] += 1
    return out


def to_junit(checks: Sequence[Check], *, strict: bool = False, name: str = "aimo doctor") -> str:
    """JUnit XML: one testsuite per group, one testcase per check; failure for fail (and warn with strict)."""
    groups: dict[str, list[Check]] = {}
    for c in checks:
        groups.setdefault(c.group, []).append(c)
    from xml.etree import ElementTree as ET  # only a --junit report needs it (start-up time)

    root = ET.Element("testsuites", name=name)
    total = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for group, items in groups.items():
        failures = sum(1 for c in items if c.fails(strict))
        skipped = sum(1 for c in items if c.status == SKIP)
        secs = sum(c.duration_ms for c in items) / 1000
        suite = ET.SubElement(
            root, "testsuite", name=group, tests=str(len(items)), failures=str(failures), errors="0", skipped=str(skipped), time=f"{secs:.3f}"
        )
        for c in items:
            case = ET.SubElement(suite, "testcase", classname=group, name=c.id, time=f"{c.duration_ms / 1000:.3f}")
            body = c.message + (f"\nHint: {c.hint}" if c.hint else "")
            if c.fails(strict):
                el = ET.SubElement(case, "failure", message=_xml_safe(c.message), type=c.status)
                el.text = _xml_safe(body)
            elif c.status == SKIP:
                ET.SubElement(case, "skipped", message=_xml_safe(c.message))
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_safe(f"[{c.status}] " + body)
        total["tests"] += len(items)
        total["failures"] += failures
        total["skipped"] += skipped
        total["time"] += secs
    root.set("tests", str(total["tests"]))
    root.set("failures", str(total["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(total["skipped"]))
    root.set("time", f"{total['time']:.3f}")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_BAD.sub("?", text or "")


# -- local -----------------------------------------------------------------------------------------------------------


def settings_check(path: str, error: str | None, hint: str | None = None, *, exists: bool = True) -> Check:
    if error:
        return check("local.settings", FAIL, error, hint or f"Fix {path}; aimo left it untouched.")
    if not exists:
        return check("local.settings", OK, f"no settings file yet at {path} (defaults apply)")
    return check("local.settings", OK, f"{path} is valid")


def backend_check(backend: str, forced: str, description: str = "") -> Check:
    """`forced` is AIMO_KEYRING as set ("" when unset)."""
    forced = (forced or "").strip().lower()
    where = f": {description}" if description else ""
    if backend == "keyring":
        return check("local.secret_backend", OK, f"OS keyring{where}")
    if backend == "file":
        if forced == "file":
            return check("local.secret_backend", OK, f"file fallback, chosen with AIMO_KEYRING=file{where}")
        return check(
            "local.secret_backend",
            WARN,
            f"no usable OS keyring here: aimo fell back to its 0600 secret file{where}",
            "Install and unlock a keyring (Secret Service, KWallet, Keychain), or make the choice explicit with AIMO_KEYRING=file.",
        )
    if backend == "memory":
        return check("local.secret_backend", WARN, "in-memory secret store (AIMO_KEYRING=memory): nothing is kept after aimo exits", "Unset AIMO_KEYRING for real use.")
    return check("local.secret_backend", WARN, f"unknown secret backend {backend!r}")


def credential_check(provider: str, name: str, present: bool, source: str, display: str, env_var: str) -> Check:
    cid = f"local.{provider}.credential"
    if not present:
        return check(cid, SKIP, f"{name}: no credential (set one with aimo keys set {provider}, or {env_var})")
    where = f"from {env_var}" if source == "env" else f"in the {source} store"
    return check(cid, OK, f"{name}: {display} {where}".replace("  ", " "))


def verify_check(provider: str, name: str, result: tuple[bool | None, str] | None, *, offline: bool, present: bool) -> Check:
    """`result` is `Verifier.check`'s answer: (True, '') valid, (False, why) rejected, (None, why) could not tell."""
    cid = f"local.{provider}.verified"
    if not present:
        return check(cid, SKIP, f"{name}: nothing to verify")
    if offline:
        return check(cid, SKIP, f"{name}: not verified (--offline)")
    if result is None:
        return check(cid, SKIP, f"{name}: not verified")
    ok, why = result
    if ok:
        return check(cid, OK, f"{name} accepts the key")
    if ok is False:
        return check(cid, FAIL, f"{name} rejects the key: {why}", f"Paste a working key: aimo keys set {provider} (see aimo keys verify {provider}).")
    return check(cid, WARN, f"{name}: could not verify the key from here ({why})", "Check the network or the provider's base URL ([providers." + provider + "] base_url).")


def duplicates_check(pairs: Sequence[tuple[str, str]], names: Mapping[str, str] | None = None) -> Check:
    if not pairs:
        return check("local.duplicate_keys", OK, "every provider has its own key")
    names = names or {}
    text = ", ".join(f"{names.get(a, a)} = {names.get(b, b)}" for a, b in pairs)
    return check(
        "local.duplicate_keys",
        FAIL,
        f"the same key is stored for two providers ({text}): requests get attributed to the wrong provider",
        "Give each provider its own key: aimo keys set PROVIDER (at most one of them can be right).",
    )


def ollama_local_check(url_display: str, present: bool, *, offline: bool, version: str | None = None, error: str | None = None) -> Check:
    cid = "features.ollama.aimo"
    if not present:
        return check(cid, SKIP, "Ollama: no server URL configured", group="features")
    if offline:
        return check(cid, SKIP, f"Ollama at {url_display}: not contacted (--offline)", group="features")
    if error:
        return check(
            cid,
            FAIL,
            f"Ollama at {url_display} is not reachable from aimo ({error})",
            "Start it (ollama serve) or fix the URL: aimo keys set ollama (or OLLAMA_HOST).",
            group="features",
        )
    return check(cid, OK, f"Ollama {version or ''} answers at {url_display}".replace("  ", " "), group="features")


def catalog_cache_check(states: Mapping[str, str]) -> Check:
    """`states`: provider → 'fresh' | 'stale' | 'missing' for providers with a credential."""
    cid = "features.catalog_cache"
    if not states:
        return check(cid, SKIP, "model catalog: no provider credential, nothing cached to check", group="features")
    stale = sorted(p for p, s in states.items() if s == "stale")
    missing = sorted(p for p, s in states.items() if s == "missing")
    later = f"; not fetched yet for {', '.join(missing)} (fetched on first use)" if missing else ""
    if not stale:
        fresh = len(states) - len(missing)
        return check(cid, OK, f"model catalog cache fresh for {fresh} provider(s){later}", group="features")
    return check(cid, WARN, "model catalog cache stale for " + ", ".join(stale) + later, "Refresh it: aimo models refresh", group="features")


# -- site ------------------------------------------------------------------------------------------------------------


def reachable_check(site: str, url: str, error: str | None = None, hint: str | None = None) -> Check:
    g = f"site {site}"
    if error:
        return check("site.reachable", FAIL, error, hint or "Check that the site is up and the URL is right (aimo site list).", group=g, site=site)
    return check("site.reachable", OK, f"{url} answers", group=g, site=site)


def https_check(site: str, url: str, loopback: bool, environment_type: str | None = None) -> Check:
    g = f"site {site}"
    if url.lower().startswith("https://"):
        return check("site.https", OK, "HTTPS", group=g, site=site)
    if loopback:
        note = ""
        if environment_type and environment_type != "local":
            return check(
                "site.https",
                WARN,
                f"plain http on loopback, but WP_ENVIRONMENT_TYPE is {environment_type!r}: application passwords need 'local' over http",
                "define('WP_ENVIRONMENT_TYPE', 'local') in wp-config.php, or serve the site over https.",
                group=g,
                site=site,
            )
        return check("site.https", OK, "plain http on a loopback address (allowed)" + note, group=g, site=site)
    return check(
        "site.https",
        FAIL,
        "plain http to a non-loopback host: the application password crosses the network in clear text",
        f"Serve the site over https and update the profile: aimo site add {site} https://… --user USER",
        group=g,
        site=site,
    )


def credentials_check(site: str, user: str, url: str, *, status: int | None = None, missing: bool = False, error: str | None = None, slug: str | None = None) -> Check:
    """`status` is the HTTP status of GET /wp/v2/users/me (200, 401, …)."""
    g = f"site {site}"
    new_pw = f"Create a new application password in wp-admin → Users → Profile → Application Passwords, then: aimo site add {site} {url} --user {user}"
    if missing:
        return check("site.credentials", FAIL, f"no application password is stored for site {site}", new_pw, group=g, site=site)
    if status == 401:
        return check("site.credentials", FAIL, f"{url} refused the credentials of user {user} (HTTP 401: wrong or revoked application password, or unknown user)", new_pw, group=g, site=site)
    if error:
        return check("site.credentials", FAIL, error, new_pw, group=g, site=site)
    return check("site.credentials", OK, f"logged in as {slug or user}", group=g, site=site)


def manage_options_check(site: str, me: Mapping) -> Check:
    g = f"site {site}"
    caps = me.get("capabilities") or {}
    if isinstance(caps, Mapping) and caps.get("manage_options"):
        return check("site.manage_options", OK, "the user can manage options (Administrator)", group=g, site=site)
    roles = ", ".join(me.get("roles") or []) or "no role"
    who = me.get("slug") or me.get("name") or "?"
    return check(
        "site.manage_options",
        FAIL,
        f"user {who} ({roles}) lacks the manage_options capability",
        f"aimo needs an Administrator's application password: aimo site add {site} URL --user ADMIN",
        group=g,
        site=site,
    )


def wordpress_version_check(site: str, version: str | None) -> Check:
    g = f"site {site}"
    parsed = parse_version(version)
    if parsed is None:
        return check("site.wordpress_version", WARN, "WordPress version unknown (the site hides its generator tag)", "The aimo bridge reports it: aimo bridge install.", group=g, site=site)
    if parsed < MIN_WORDPRESS:
        return check("site.wordpress_version", FAIL, f"WordPress {version} has no Connectors API (7.0 or later is needed)", "Update WordPress to 7.0 or later.", group=g, site=site)
    return check("site.wordpress_version", OK, f"WordPress {version}", group=g, site=site)


def ai_support_check(site: str, supported: bool | None) -> Check:
    g = f"site {site}"
    if supported is None:
        return check("site.ai_support", SKIP, "AI support unknown without the aimo bridge (no connector setting is visible over REST)", group=g, site=site)
    if supported:
        return check("site.ai_support", OK, "AI support is enabled (wp_supports_ai)", group=g, site=site)
    return check(
        "site.ai_support",
        FAIL,
        "AI support is disabled on the site (WP_AI_SUPPORT false or the wp_supports_ai filter): no AI connector is registered",
        "Remove define('WP_AI_SUPPORT', false) from wp-config.php, or the plugin filtering wp_supports_ai.",
        group=g,
        site=site,
    )


def bridge_check(site: str, *, active: bool, plugin: Mapping | None = None, searched: bool = False, offline: bool = False, error: str | None = None) -> Check:
    """`plugin` is the aimo bridge's entry from /wp/v2/plugins?search=aimo (None when not found or not searched)."""
    g = f"site {site}"
    if active:
        return check("site.bridge", OK, "aimo bridge active (aimo/v1)", group=g, site=site)
    if error:
        return check("site.bridge", FAIL, f"the aimo bridge's status route failed: {error}", "Check the site's PHP error log; reinstall: aimo bridge install.", group=g, site=site)
    if plugin is not None:
        return check(
            "site.bridge",
            FAIL,
            f"the aimo bridge is installed ({plugin.get('plugin', 'aimo-bridge')}, version {plugin.get('version') or '?'}) but not active",
            f"Activate it: aimo bridge activate {site}",
            group=g,
            site=site,
        )
    if not searched:
        why = "not contacted further with --offline" if offline else "the plugin list could not be read"
        return check(
            "site.bridge",
            WARN,
            f"the aimo bridge does not answer (aimo/v1 missing: not installed, or inactive; {why})",
            f"Install or activate it: aimo bridge zip (upload), then aimo bridge activate {site}",
            group=g,
            site=site,
        )
    return check(
        "site.bridge",
        WARN,
        "the aimo bridge is not installed: aimo works on core's built-in connectors only (degraded)",
        f"Install it: aimo bridge zip (upload it in wp-admin → Plugins) or aimo bridge install --wp-path DIR, then aimo bridge activate {site}",
        group=g,
        site=site,
    )


def find_bridge_plugin(plugins) -> Mapping | None:
    for p in plugins if isinstance(plugins, list) else []:
        if not isinstance(p, Mapping):
            continue
        basename = str(p.get("plugin") or "")
        name = p.get("name")
        if isinstance(name, Mapping):
            name = name.get("raw") or name.get("rendered")
        if basename.startswith("aimo-bridge/") or str(name or "").strip().lower() == "aimo bridge":
            return p
    return None


def bridge_version_check(site: str, version: str | None, compat: str = BRIDGE_COMPAT) -> Check:
    g = f"site {site}"
    got = parse_version(version)
    want = parse_version(compat)
    if got is None:
        return check("site.bridge_version", WARN, "the bridge did not report its version", "Reinstall it: aimo bridge install.", group=g, site=site)
    if want is not None and got[:2] == want[:2]:
        return check("site.bridge_version", OK, f"bridge {version} (compatible with {compat}.x)", group=g, site=site)
    newer = want is not None and got[:2] > want[:2]
    return check(
        "site.bridge_version",
        FAIL,
        f"bridge {version} is not compatible with this aimo (expects {compat}.x)",
        "Upgrade aimo (pip install -U aimo)." if newer else f"Update the bridge: aimo bridge install (or aimo bridge zip), then aimo bridge activate {site}",
        group=g,
        site=site,
    )


def mode_check(site: str, mode: str | None) -> Check:
    g = f"site {site}"
    if mode == "managed":
        return check("site.mode", OK, "managed: aimo runs the Connectors", group=g, site=site)
    what = {"observe": "observe: aimo only reports; its connectors are not registered", "off": "off: the bridge does nothing but answer aimo"}.get(
        str(mode), f"unknown mode {mode!r}"
    )
    return check("site.mode", WARN, what, f"aimo connectors enable {site}", group=g, site=site)


def managers_check(site: str, managers: Sequence | None) -> Check:
    """`managers`: the bridge status's Manager objects (name, slug, mode, active, source)."""
    g = f"site {site}"
    rivals = [m for m in managers or [] if m.is_managing]
    if rivals:
        names = ", ".join(m.label for m in rivals)
        return check(
            "site.managers",
            FAIL,
            f"another plugin manages the Connectors in managed mode: {names}",
            f"aimo connectors takeover {site} (it is switched to observe; its keys are untouched)",
            group=g,
            site=site,
        )
    others = [m.label + (" (installed, inactive)" if not m.active else f" ({m.mode})") for m in managers or []]
    if others:
        return check("site.managers", OK, "other connector managers present, none in managed mode: " + ", ".join(others), group=g, site=site)
    return check("site.managers", OK, "no other connector manager", group=g, site=site)


# -- connectors ------------------------------------------------------------------------------------------------------
# `conn` is the bridge status's Connector object (wordpress/bridge.py): id, name, registered_by, manager,
# provider_registered, key_source, connected (True/False/None), connected_reason, … — or None when the site has none.


def connector_relevant(conn, local_present: bool) -> bool:
    if local_present:
        return True
    return conn is not None and (conn.key_source or "none") != "none"


def registered_check(site: str, pid: str, name: str, conn, mode: str | None) -> Check:
    g = f"connectors {site}"
    cid = f"connector.{pid}.registered"
    if conn is not None and conn.provider_registered:
        by = conn.registered_by or "?"
        registrant, served = conn.registrant, conn.served_by
        if by == "manager" and conn.manager:
            by = f"another manager ({(registrant.label if registrant else '') or conn.manager})"
        elif registrant is not None and registrant.label and registrant.kind != "core":
            by = registrant.label
        serving = f"; served by {served.label}" if served is not None and served.label else ""
        if conn.name.endswith(" via aimo") and served is not None and served.kind != "aimo":
            return check(
                cid,
                FAIL,
                f"{name}: the card says aimo, but {served.label or 'another plugin'} serves it (class {served.class_name})",
                f"aimo connectors takeover {site} (the other manager is switched to observe), or hand over: aimo mode observe {site}",
                group=g,
                site=site,
            )
        return check(cid, OK, f"{name}: registered by {by}{serving}", group=g, site=site)
    if mode in ("observe", "off"):
        return check(cid, WARN, f"{name}: no AI provider registered (the bridge is in {mode} mode)", f"aimo connectors enable {site}", group=g, site=site)
    return check(
        cid,
        FAIL,
        f"{name}: no AI provider is registered for this connector on the site",
        f"aimo connectors enable {site} (the bridge registers it), or install the provider's plugin",
        group=g,
        site=site,
    )


def base_url_override(conn, default: str) -> tuple[str, str] | None:
    """(host, where it was set) when a site's connector (the bridge status's Connector) talks to a base URL other than
    the provider's own, else None. The bridge says where its base URL comes from (base_url_source); an older bridge
    only gives the URL."""
    from urllib.parse import urlsplit

    if conn is None or not conn.base_url:
        return None
    url = str(conn.base_url)
    source = conn.base_url_source
    if source is None:
        if conn.id == "ollama" or not default or url.rstrip("/") == default.rstrip("/"):
            return None
        source = "override"
    elif source not in ("option", "constant"):
        return None
    where = {"option": "set with aimo bridge base-url", "constant": "set in wp-config.php"}.get(str(source), "overridden")
    return urlsplit(url).netloc or url, where


def base_url_check(site: str, pid: str, name: str, conn, default: str) -> Check | None:
    found = base_url_override(conn, default)
    if found is None:
        return None
    host, where = found
    return check(
        f"connector.{pid}.base_url",
        WARN,
        f"{name}: requests (and keys) go to {host}, not the provider's own endpoint ({where})",
        f"If you did not mean it: aimo bridge base-url {pid} --clear {site}",
        group=f"connectors {site}",
        site=site,
    )


def key_source_check(site: str, pid: str, name: str, key_source: str, env_var: str) -> Check | None:
    if key_source not in ("env", "constant"):
        return None
    what = "an environment variable" if key_source == "env" else "a PHP constant"
    return check(
        f"connector.{pid}.key_source",
        WARN,
        f"{name}: the site reads its key from {what} ({env_var}), which beats the database: a push from aimo would change nothing",
        f"Change it where it is defined (wp-config.php or the server environment), or remove {env_var} there to let aimo manage it.",
        group=f"connectors {site}",
        site=site,
    )


def sync_check(
    site: str, pid: str, name: str, local: str, remote: RemoteKey, base: BaseRecord | None, *, mode: str | None = None, changed: str | None = None,
    rollback: str | None = None,
) -> Check:
    """`mode`: the bridge's mode (observe/off: aimo writes nothing, so the hint is to enable it); `changed`: who
    changed the site's key and when, from the bridge's change log ("changed in wp-admin by alice, 2 h ago")."""
    g = f"connectors {site}"
    cid = f"connector.{pid}.sync"
    if remote.key_source in ("env", "constant"):
        return check(cid, SKIP, f"{name}: not compared (the site's key comes from {remote.key_source})", group=g, site=site)
    status = classify(local, remote, base)
    if rollback and status in (Status.REMOTE_CHANGED, Status.CONFLICT):
        return check(
            cid,
            FAIL,
            f"{name}: {rollback}",
            f"aimo sync push {site} --prefer local (puts aimo's key back; a pull would store the old key)",
            group=g,
            site=site,
        )
    if status is Status.IN_SYNC:
        return check(cid, OK, f"{name}: the site holds the local key", group=g, site=site)
    if status is Status.BOTH_EMPTY:
        return check(cid, SKIP, f"{name}: no key on either side", group=g, site=site)
    if status is Status.NOT_REGISTERED:
        if mode in ("observe", "off"):
            return check(
                cid, SKIP, f"{name}: not compared: the site is in {mode} mode (aimo only reports; its connectors are not registered)",
                f"aimo connectors enable {site}", group=g, site=site,
            )
        return check(cid, SKIP, f"{name}: cannot compare (no connector setting on the site)", group=g, site=site)
    if status not in DRIFT:  # pragma: no cover - every other status is drift
        return check(cid, OK, f"{name}: {status.value}", group=g, site=site)
    hints = {
        Status.REMOTE_EMPTY: f"aimo sync push {site}",
        Status.DIFFERS: f"aimo sync push {site} --prefer local --yes (replace the site's key) or aimo sync pull {site} --prefer remote (adopt it)",
        Status.LOCAL_CHANGED: f"aimo sync push {site}",
        Status.REMOTE_CHANGED: f"aimo sync pull {site}",
        Status.LOCAL_EMPTY: f"aimo sync pull {site}",
        Status.CONFLICT: f"aimo sync push {site} --prefer local, or aimo sync pull {site} --prefer remote",
    }
    what = {
        Status.REMOTE_EMPTY: "the site has no key (never pushed, or WordPress wiped it)",
        Status.DIFFERS: "first contact: the site's key differs from the local one and aimo never synced with this site",
        Status.LOCAL_CHANGED: "the local key changed since the last sync",
        Status.REMOTE_CHANGED: "the key was changed on the site since the last sync",
        Status.LOCAL_EMPTY: "the site has a key aimo does not hold locally",
        Status.CONFLICT: "both sides changed since the last sync",
    }[status]
    if changed and status in (Status.REMOTE_CHANGED, Status.CONFLICT, Status.REMOTE_EMPTY, Status.DIFFERS):
        what += f" ({changed})"
    hint = hints[status]
    if mode in ("observe", "off"):
        what += f"; the site is in {mode} mode, so aimo only reports here"
        hint = f"aimo connectors enable {site} (managed mode), then {hint}"
    return check(cid, WARN, f"{name}: {what}", hint, group=g, site=site)


def connected_check(site: str, pid: str, name: str, conn) -> Check:
    g = f"connectors {site}"
    cid = f"connector.{pid}.connected"
    value = conn.connected if conn is not None else None
    page = conn.page if conn is not None else None
    if page is not None and value is not None and page.connected != value:
        return check(
            cid,
            FAIL,
            f"{name}: the Connectors page shows it {page.shown}, but the live check says {'connected' if value else 'not connected'}"
            + (f" ({conn.connected_reason})" if conn.connected_reason else ""),
            f"See who serves it: aimo bridge status {site}",
            group=g,
            site=site,
        )
    if conn is not None and not conn.provider_registered:
        return check(cid, SKIP, f"{name}: not registered on the site, so it cannot be connected (see its registered check)", group=g, site=site)
    if value is True:
        return check(cid, OK, f"{name}: WordPress reports it connected", group=g, site=site)
    if value is None:
        return check(cid, SKIP, f"{name}: connection not checked (run without --offline for a live check)", group=g, site=site)
    reason = (conn.connected_reason if conn is not None else "") or "no reason given"
    hint = f"Check the key: aimo keys verify {pid}; then aimo sync push {site}"
    if pid == "ollama":
        hint = "The site must reach the Ollama server itself: check the URL from the site's point of view (aimo keys set ollama) and that Ollama is running."
    return check(cid, FAIL, f"{name}: WordPress reports it not connected ({reason})", hint, group=g, site=site)


def approval_check(site: str, pid: str, name: str, approval) -> Check | None:
    """`approval`: the bridge status's Approval object (active, approved: basename → connector ids), or None."""
    if approval is None or not approval.active:
        return None
    ids = approval.approved.get(WPAI_BASENAME)
    g = f"connectors {site}"
    cid = f"connector.{pid}.approval"
    if isinstance(ids, (list, tuple)) and pid in ids:
        return check(cid, OK, f"{name}: approved for the WordPress AI plugin ({WPAI_BASENAME})", group=g, site=site)
    return check(
        cid,
        FAIL,
        f"{name}: Connector Approval is active and {WPAI_BASENAME} is not approved for this connector (requests fail with 'has not been approved')",
        f"aimo connectors enable {site} (managed mode pre-approves {WPAI_BASENAME} and the bridge), or approve it in wp-admin",
        group=g,
        site=site,
    )


# -- features --------------------------------------------------------------------------------------------------------


def wpai_check(site: str, active: bool | None) -> Check:
    g = f"features {site}"
    if active is None:
        return check("features.wpai", SKIP, "WordPress AI plugin state unknown without the bridge", group=g, site=site)
    if active:
        return check("features.wpai", OK, f"the WordPress AI plugin ({WPAI_BASENAME}) is active", group=g, site=site)
    return check(
        "features.wpai",
        WARN,
        f"the WordPress AI plugin ({WPAI_BASENAME}) is not active: the editor's AI features and model preferences need it",
        "Install and activate it in wp-admin → Plugins (WordPress AI).",
        group=g,
        site=site,
    )


def approval_summary_check(site: str, approval) -> Check:
    g = f"features {site}"
    if approval is not None and approval.active:
        return check("features.approval", OK, "Connector Approval is active (see each connector's approval check)", group=g, site=site)
    return check("features.approval", OK, "Connector Approval is not active", group=g, site=site)


def model_check(
    site: str,
    kind: str,
    ref: str | None,
    connectors: Mapping[str, object],
    catalog_ids: Iterable[str] | None,
    catalog_source: str = "",
) -> Check:
    """`ref` is the site's preference ('provider:model', '' = Automatic); `catalog_ids` the provider's known model ids
    (None when no list could be had); `catalog_source` where they came from (live, cache, stale, curated)."""
    g = f"features {site}"
    cid = f"features.model.{kind}"
    if not ref:
        return check(cid, OK, f"preferred {kind} model: Automatic", group=g, site=site)
    provider, _, model = str(ref).partition(":")
    if not model:
        return check(cid, FAIL, f"preferred {kind} model {ref!r} is not provider:model", "Set it as provider:model (e.g. groq:openai/gpt-oss-120b), or '' for Automatic.", group=g, site=site)
    conn = connectors.get(provider)
    fix = f"Pick a model of a connected provider (aimo models list), and set it for {site}, or connect {provider} (aimo sync push {site})"
    if conn is None or not conn.provider_registered:
        return check(cid, FAIL, f"preferred {kind} model {ref}: provider {provider} is not registered on the site (unsupported_model)", fix, group=g, site=site)
    if conn.connected is False:
        return check(
            cid,
            FAIL,
            f"preferred {kind} model {ref} belongs to {provider}, which is not connected ({conn.connected_reason or 'no reason given'}): the editor answers unsupported_model",
            fix,
            group=g,
            site=site,
        )
    if conn.connected is None and (conn.key_source or "none") == "none":
        return check(cid, FAIL, f"preferred {kind} model {ref} belongs to {provider}, which has no key on the site (unsupported_model)", fix, group=g, site=site)
    if catalog_ids is None:
        return check(cid, SKIP, f"preferred {kind} model {ref}: no model list for {provider} to check against", group=g, site=site)
    ids = set(catalog_ids)
    if model in ids:
        return check(cid, OK, f"preferred {kind} model {ref} exists ({catalog_source or 'catalog'})", group=g, site=site)
    if catalog_source == "curated":
        return check(
            cid,
            WARN,
            f"preferred {kind} model {ref} is not in aimo's curated list (no live list for {provider} here)",
            f"aimo models refresh {provider}, then aimo models list --provider {provider}",
            group=g,
            site=site,
        )
    return check(
        cid,
        FAIL,
        f"preferred {kind} model {ref} is not in {provider}'s model list ({catalog_source or 'catalog'}): the editor answers unsupported_model",
        f"Choose one from aimo models list --provider {provider}",
        group=g,
        site=site,
    )


def prefix_covered(prefix: str, site_prefixes: Iterable[str]) -> bool:
    """Does the site's list (where `*` is one word of letters, as in the bridge) cover aimo's `prefix`?"""
    p = prefix.strip().lower()
    for q in site_prefixes:
        q = str(q).strip().lower()
        if not q:
            continue
        regex = "^" + re.escape(q).replace(r"\*", "[a-z]+")
        if re.match(regex, p):
            return True
    return False


def no_sampling_check(site: str, site_prefixes: Sequence[str] | None, required: Sequence[str]) -> Check:
    g = f"features {site}"
    if site_prefixes is None:
        return check("features.no_sampling", SKIP, "sampling rules unknown without the bridge", group=g, site=site)
    missing = [p for p in required if not prefix_covered(p, site_prefixes)]
    if not missing:
        return check("features.no_sampling", OK, f"the site strips sampling parameters for the newer Claude models ({len(required)} prefixes covered)", group=g, site=site)
    return check(
        "features.no_sampling",
        WARN,
        "the site does not strip temperature/top_p for " + ", ".join(missing) + " (Anthropic answers 400 'temperature is deprecated')",
        "Update the bridge (aimo bridge install), or remove the aimo_no_sampling_model_prefixes filter that drops them.",
        group=g,
        site=site,
    )


def ollama_site_check(site: str, conn, local_present: bool) -> Check | None:
    if not connector_relevant(conn, local_present):
        return None
    g = f"features {site}"
    value = conn.connected if conn is not None else None
    if conn is None or not conn.provider_registered:
        return check("features.ollama.site", SKIP, "Ollama: no Ollama connector on the site", group=g, site=site)
    host = conn.ollama_host
    if host is not None:
        where = {
            "env": "the OLLAMA_HOST environment variable on the site (it wins; change it there)",
            "setting": f"its Settings → Ollama host ({host.setting}), where aimo pushes its server URL",
            "default": "its default, http://localhost:11434 (aimo sync push sets its host)",
        }.get(host.source, "?")
        status = OK if value is not False else FAIL
        return check(
            "features.ollama.site",
            status,
            f"{host.label} serves Ollama; its server ({host.host}) comes from {where}; the connector key is its Ollama Cloud API key"
            + ("" if value is not False else f" — not reachable ({conn.connected_reason or 'no reason given'})"),
            None if value is not False else "The server must be reachable from the WordPress server.",
            group=g,
            site=site,
        )
    if value is True:
        return check("features.ollama.site", OK, "the site reaches its Ollama server", group=g, site=site)
    if value is None:
        return check("features.ollama.site", SKIP, "Ollama from the site: not checked (--offline)", group=g, site=site)
    return check(
        "features.ollama.site",
        FAIL,
        f"the site cannot reach its Ollama server ({conn.connected_reason or 'no reason given'})",
        "The URL must work from the WordPress server (not only from this machine); check it and that Ollama is running.",
        group=g,
        site=site,
    )
