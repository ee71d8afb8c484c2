"""Host names: is this a loopback address (where plain http is allowed)? Pure, stdlib only."""

from __future__ import annotations

import functools
import ipaddress


@functools.lru_cache(maxsize=4096)  # a fleet asks for each site's host several times
def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
