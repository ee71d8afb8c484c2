"""Find a site's REST root and what it offers, the way WordPress documents it.

Order: the `Link: <…>; rel="https://api.w.org/"` header of the site URL, then `/wp-json/`, then `?rest_route=/`
(sites without pretty permalinks). A candidate counts only when it answers the REST index (JSON with `namespaces`)
and is on the origin of the URL the admin gave (docs/security.md: origin pinning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import RemoteError, SafetyError
from ..ui.sanitize import plain
from .client import MAX_REDIRECTS, RestRoot, WordPressClient, origin_label, origin_of, same_origin_or_upgrade

_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?https://api\.w\.org/"?')
_GENERATOR_RE = re.compile(r"wordpress\.org/\?v=([0-9][0-9a-zA-Z.\-]*)|content=\"WordPress ([0-9][0-9a-zA-Z.\-]*)\"")


@dataclass(frozen=True)
class SiteIndex:
    root: RestRoot
    name: str
    home: str
    namespaces: tuple[str, ...]
    application_passwords: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_bridge(self) -> bool:
        return "aimo/v1" in self.namespaces


def link_header_root(link_header: str | None) -> str | None:
    if not link_header:
        return None
    match = _LINK_RE.search(link_header)
    return match.group(1) if match else None


def parse_generator_version(text: str) -> str | None:
    match = _GENERATOR_RE.search(text or "")
    if not match:
        return None
    return match.group(1) or match.group(2)


def _index(client: WordPressClient) -> dict[str, Any] | None:
    resp = client.request("GET", "/", expect_json=True)
    data = resp.data
    if isinstance(data, dict) and isinstance(data.get("namespaces"), list):
        return data
    return None


def _head_link(http, base: str, pin) -> tuple[str | None, str | None]:
    """The REST root named by the site URL's `Link` header, and where the site redirects to when that is another origin.

    Redirects are followed only on the site's own origin (or http → https on the same host), like every aimo read.
    """
    url = base + "/"
    for _ in range(MAX_REDIRECTS + 1):
        resp = http.head(url)
        if resp.status_code == 405:
            resp = http.get(url)
        if not resp.has_redirect_location:
            return link_header_root(resp.headers.get("link")), None
        target = resp.next_request.url if resp.next_request is not None else None
        if target is None or not same_origin_or_upgrade(pin, target):
            return None, str(target) if target is not None else None
        url = str(target)
    return None, None


def discover(
    url: str, *, verify: bool | str = True, debug=None, transport=None, timeout: float = 10.0, rest_root: str | None = None
) -> SiteIndex:
    """Find the REST root of the WordPress site at `url` (no credentials needed), on `url`'s own origin only.

    A `Link` header naming another origin is refused (SafetyError) with both origins and the way to accept it:
    `rest_root` (from `aimo site add --rest-root URL`) is the admin's explicit choice and is probed as it is.
    """
    import httpx

    from ..tls import ssl_context

    base = url.rstrip("/")
    pin = origin_of(base)
    candidates: list[RestRoot] = []
    first_error: RemoteError | None = None
    moved_to: str | None = None
    if rest_root:
        candidates.append(RestRoot.parse(rest_root))
    else:
        try:
            with httpx.Client(verify=ssl_context(verify), timeout=timeout, follow_redirects=False, transport=transport) as http:
                found, moved_to = _head_link(http, base, pin)
        except httpx.HTTPError as exc:
            from .client import _connect_error

            if isinstance(exc, httpx.TimeoutException):
                raise RemoteError(f"{base} did not answer in time", "Check that the site is up and the URL is right.") from None
            raise _connect_error(base, exc) from None
        if found:
            if not same_origin_or_upgrade(pin, found):
                shown = plain(found)
                raise SafetyError(
                    f"{base} names its REST API on another origin: {shown} is on {origin_label(found)}, the site on {origin_label(base)}",
                    "aimo sends the application password only to the origin of the URL you gave. If that REST root is right (a headless "
                    f"site, an API host), accept it explicitly: aimo site add NAME {base} --user USER --rest-root {shown}; otherwise fix the "
                    "site's home/siteurl or the proxy that rewrites its Link header.",
                )
            candidates.append(RestRoot.parse(found))
        candidates += [RestRoot.parse(base + "/wp-json/"), RestRoot(base + "/", True)]
    seen: set[str] = set()
    for root in candidates:
        if str(root) in seen:
            continue
        seen.add(str(root))
        client = WordPressClient(root, verify=verify, retries=0, debug=debug, transport=transport, timeout=timeout, origin=rest_root or base)
        try:
            data = _index(client)
        except RemoteError as exc:
            first_error = first_error or exc
            continue
        finally:
            client.close()
        if data is not None:
            auth = data.get("authentication") or {}
            return SiteIndex(
                root=root,
                name=str(data.get("name") or ""),
                home=str(data.get("home") or data.get("url") or base),
                namespaces=tuple(str(n) for n in data.get("namespaces") or ()),
                application_passwords=isinstance(auth, dict) and "application-passwords" in auth,
                raw=data,
            )
    if rest_root:
        raise RemoteError(
            f"no WordPress REST API answers at {plain(rest_root)}" + (f" ({first_error.message})" if first_error else ""),
            "Check the --rest-root URL: it must answer the REST index (e.g. https://api.example.com/wp-json/).",
        )
    if moved_to:
        raise RemoteError(
            f"{base} redirects to another origin ({plain(moved_to)}); aimo does not follow it",
            f"Add the site with the URL it redirects to (aimo site add NAME {origin_label(moved_to)} --user USER), or give --rest-root URL.",
        )
    if first_error is not None and "instead of JSON" in first_error.message:
        raise RemoteError(
            f"{base} answered HTML instead of JSON where the WordPress REST API should be",
            "Check the URL (is it the WordPress home?), and whether a firewall, login wall or maintenance page blocks /wp-json/.",
        )
    raise RemoteError(
        f"no WordPress REST API found at {base}",
        "Check the URL; the site must expose /wp-json/ or ?rest_route=/ (REST API not disabled by a plugin).",
    )


def fetch_wordpress_version(client: WordPressClient, site_url: str) -> str | None:
    """WordPress's own generator tag, from the RSS feed of the site URL the admin gave (sites may remove it; then None).

    A public read: sent without credentials, and only on the client's pinned origin (else not at all).
    """
    resp = client.public_get(site_url.rstrip("/") + "/", params={"feed": "rss2"})
    if resp is None or resp.status_code != 200:
        return None
    return parse_generator_version(resp.text)
