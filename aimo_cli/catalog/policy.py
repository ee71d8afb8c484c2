"""Catalog cache rules. Pure: no I/O, no clock (the caller passes `now`).

- A cached list is fresh for `ttl` seconds after it was last confirmed, then stale: a stale list is still served
  while a refresh runs (stale-while-revalidate).
- A refresh never replaces a good list with an empty one or one much smaller (< `MIN_KEEP_RATIO` of it) unless forced.
- A list of more than `MAX_MODELS` entries is not a plausible model list (the largest real ones, OpenRouter's and
  Hugging Face's, hold hundreds): it is refused like garbage, so it never reaches the cache or the completion index.
- Live entries are enriched with curated metadata; curated entries stand in when there is no live list.
"""

from __future__ import annotations

import hashlib

from ..core.models import ModelEntry

DEFAULT_TTL = 6 * 3600.0
MIN_KEEP_RATIO = 0.5
OLLAMA_COOLDOWN = 180.0
MAX_MODELS = 5000


def plausible_size(count: int, limit: int = MAX_MODELS) -> bool:
    return count <= limit


def freshness(checked_at: float | None, now: float, ttl: float = DEFAULT_TTL) -> str:
    """'missing', 'fresh' or 'stale'."""
    if checked_at is None:
        return "missing"
    return "fresh" if 0 <= now - checked_at < ttl else "stale"


def accept_refresh(old_count: int, new_count: int, *, force: bool = False, min_ratio: float = MIN_KEEP_RATIO) -> bool:
    """May a freshly fetched list of `new_count` models replace a cached one of `old_count`?"""
    if new_count <= 0:
        return False
    if force or old_count <= 0:
        return True
    return new_count >= old_count * min_ratio


def merge(live: list[ModelEntry] | None, curated: list[ModelEntry]) -> list[ModelEntry]:
    """The catalog for one provider: live entries enriched by curated ones, or the curated list alone."""
    if not live:
        return list(curated)
    by_id = {c.id: c for c in curated}
    return [entry.enriched(by_id.get(entry.id)) for entry in live]


def cache_key(provider: str, endpoint: str, key_fingerprint: str) -> str:
    """Provider + endpoint + key fingerprint: a different key (or gateway) may see a different list."""
    ep = hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:10]
    return f"models:{provider}:{ep}:{key_fingerprint or 'nokey'}"
