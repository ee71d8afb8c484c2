"""Find a site's REST root and what it offers, the way WordPress documents it.

Order: the `Link: <…>; rel="https://api.w.org/"` header of the site URL, then `/wp-json/`, then `?rest_route=/`
(sites without pretty permalinks). A candidate counts only when it answers the REST index (JSON with `namespaces`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import RemoteError
from .client import RestRoot, WordPressClient

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


def discover(url: str, *, verify: bool | str = True, debug=None, transport=None, timeout: float = 10.0) -> SiteIndex:
    """Find the REST root of the WordPress site at `url` (no credentials needed)."""
    import httpx

    from ..tls import ssl_context

    base = url.rstrip("/")
    candidates: list[RestRoot] = []
    first_error: RemoteError | None = None
    try:
        with httpx.Client(verify=ssl_context(verify), timeout=timeout, follow_redirects=True, transport=transport) as http:
            resp = http.head(base + "/")
            if resp.status_code == 405:
                resp = http.get(base + "/")
            found = link_header_root(resp.headers.get("link"))
            if found:
                candidates.append(RestRoot.parse(found))
    except httpx.HTTPError as exc:
        from .client import _connect_error

        if isinstance(exc, httpx.TimeoutException):
            raise RemoteError(f"{base} did not answer in time", "Check that the site is up and the URL is right.") from None
        raise _connect_error(base, exc) from None
    candidates += [RestRoot.parse(base + "/wp-json/"), RestRoot(base + "/", True)]
    seen: set[str] = set()
    for root in candidates:
        if str(root) in seen:
            continue
        seen.add(str(root))
        client = WordPressClient(root, verify=verify, retries=0, debug=debug, transport=transport, timeout=timeout)
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
    if first_error is not None and "instead of JSON" in first_error.message:
        raise RemoteError(
            f"{base} answered HTML instead of JSON where the WordPress REST API should be",
            "Check the URL (is it the WordPress home?), and whether a firewall, login wall or maintenance page blocks /wp-json/.",
        )
    raise RemoteError(
        f"no WordPress REST API found at {base}",
        "Check the URL; the site must expose /wp-json/ or ?rest_route=/ (REST API not disabled by a plugin).",
    )


def fetch_wordpress_version(client: WordPressClient, home: str) -> str | None:
    """WordPress's own generator tag, from the RSS feed (sites may remove it; then None)."""
    import httpx

    try:
        resp = client._http.get(home.rstrip("/") + "/", params={"feed": "rss2"})
    except httpx.HTTPError:
        return None
    client.request_count += 1
    return parse_generator_version(resp.text) if resp.status_code == 200 else None
