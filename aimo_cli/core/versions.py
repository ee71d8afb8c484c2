"""Version numbers: WordPress's minimum for the Connectors API, and a tolerant parser. Pure."""

from __future__ import annotations

import functools
import re

MIN_WORDPRESS = (7, 0)  # Settings → Connectors arrived in WordPress 7.0

# The bridge versions this aimo speaks to: same major.minor (the one place this is defined; see wordpress/bridge.py).
BRIDGE_COMPAT = "0.1"


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """'7.1.4' → (7, 1, 4); '7.0-RC1' → (7, 0); None when there is no number."""
    if not text:
        return None
    return _parse(str(text))


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> tuple[int, ...] | None:
    """(each text once per process: a fleet's sites report a handful of versions, and each is compared per site)"""
    nums = re.findall(r"\d+", text.split("-")[0])
    return tuple(int(n) for n in nums[:3]) if nums else None
