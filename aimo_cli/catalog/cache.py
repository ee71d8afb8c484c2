"""Catalog storage on diskcache under `ctx.cache_dir / "catalog"`, plus the plain-text completion index.

Records: `{"provider", "endpoint", "fetched_at", "checked_at", "entries": [...]}` under `policy.cache_key(...)`;
cooldown marks `cooldown:{name}` → until (seconds since the epoch, compared with the injected clock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.models import ModelEntry
from ..stores.fileio import atomic_write, ensure_private_dir

INDEX_NAME = "completion-models.txt"


class CatalogCache:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._cache = None

    @property
    def cache(self):
        if self._cache is None:
            import diskcache

            ensure_private_dir(self.cache_dir)
            self._cache = diskcache.Cache(str(self.cache_dir / "catalog"))
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def get(self, key: str) -> dict[str, Any] | None:
        rec = self.cache.get(key)
        return rec if isinstance(rec, dict) else None

    def put(self, key: str, provider: str, endpoint: str, entries: list[ModelEntry], now: float) -> None:
        self.cache.set(key, {"provider": provider, "endpoint": endpoint, "fetched_at": now, "checked_at": now, "entries": [e.to_dict() for e in entries]})
        self.write_index()

    def touch(self, key: str, now: float) -> None:
        rec = self.get(key)
        if rec is not None:
            rec["checked_at"] = now
            self.cache.set(key, rec)

    def cooldown_until(self, name: str) -> float:
        value = self.cache.get(f"cooldown:{name}")
        return float(value) if isinstance(value, (int, float)) else 0.0

    def set_cooldown(self, name: str, until: float) -> None:
        self.cache.set(f"cooldown:{name}", until)

    def clear_cooldown(self, name: str) -> None:
        self.cache.delete(f"cooldown:{name}")

    def records(self) -> list[dict[str, Any]]:
        out = []
        for key in list(self.cache.iterkeys()):
            if isinstance(key, str) and key.startswith("models:"):
                rec = self.get(key)
                if rec:
                    out.append(rec)
        return out

    def write_index(self) -> None:
        """`provider:model` per line, newest record per provider: shell completion reads it without importing aimo."""
        newest: dict[str, dict] = {}
        for rec in self.records():
            p = rec.get("provider", "")
            if p not in newest or rec.get("fetched_at", 0) > newest[p].get("fetched_at", 0):
                newest[p] = rec
        lines = sorted({f"{p}:{e['id']}" for p, rec in newest.items() for e in rec.get("entries", []) if isinstance(e, dict) and e.get("id")})
        atomic_write(self.cache_dir / INDEX_NAME, "".join(line + "\n" for line in lines))
