"""Host names: is this a loopback address (where plain http is allowed)? Pure, stdlib only."""

from __future__ import annotations

import functools
import ipaddress
import re

# a dotted-quad IPv4 address without leading zeros (as ipaddress reads it): a loopback address iff it is in 127.0.0.0/8
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}\Z")


@functools.lru_cache(maxsize=4096)  # a fleet asks for each site's host several times
def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    if DOTTED_QUAD.match(host):  # ipaddress's answer for these, without its parse (~10 us: a fleet of loopback sites asks per site)
        return host.startswith("127.")
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
