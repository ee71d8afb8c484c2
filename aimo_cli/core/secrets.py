"""Pure helpers for secret values: pools, masks, fingerprints, WordPress masks.

Nothing here prints or stores a secret; these functions exist so nothing else has to look at one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

BULLET = "\u2022"


def parse_pool(text: str) -> list[str]:
    """Split a credential pool: one value per line, surrounding whitespace trimmed, blank lines dropped."""
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def mask(value: str | None) -> str:
    """Our display mask: four bullets and the last 4 characters (nothing of a short value)."""
    if not value:
        return ""
    if len(value) <= 8:
        return BULLET * 4
    return BULLET * 4 + value[-4:]


def fingerprint(value: str | None) -> str:
    """A short stable fingerprint of a secret (sha256 prefix), safe to print and to compare."""
    if not value:
        return ""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def wp_mask(value: str) -> str:
    """The mask WordPress 7 returns for a stored connector key (measured on 7.1.4)."""
    if len(value) <= 4:
        return value
    return BULLET * min(len(value) - 4, 16) + value[-4:]


def looks_masked(value: str) -> bool:
    """True when a value contains mask bullets: such a value must never be sent anywhere."""
    return BULLET in value


def mask_tail(value: str) -> str:
    """The clear tail of a WordPress mask ('' for an empty value)."""
    return value.replace(BULLET, "")[-4:] if value else ""


def matches_wp_mask(local: str, remote_mask: str) -> bool:
    """Could `remote_mask` (as WordPress shows it) be the mask of `local`?"""
    return bool(local) and bool(remote_mask) and wp_mask(local) == remote_mask


_URL_RE = re.compile(r"^https?://", re.IGNORECASE)


def validate_url(value: str) -> str | None:
    """Return a reason when `value` is not an absolute http(s) URL with a host, else None."""
    if not _URL_RE.match(value):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if not parts.hostname:
        return "has no host name"
    if any(c.isspace() for c in value):
        return "contains white space"
    del port
    return None


@dataclass(frozen=True)
class CredentialView:
    """What may be shown of a credential: never the value itself."""

    present: bool
    masked: str
    fingerprint: str
    pool_size: int

    @classmethod
    def of(cls, pool: list[str]) -> "CredentialView":
        first = pool[0] if pool else ""
        return cls(bool(first), mask(first), fingerprint(first), len(pool))
