"""Catalog storage on diskcache under `ctx.cache_dir / "catalog"`, plus the plain-text completion index.

Records: `{"provider", "endpoint", "fetched_at", "checked_at", "entries": [...]}` under `policy.cache_key(...)`;
cooldown marks `cooldown:{name}` → until (seconds since the epoch, compared with the injected clock).

Values are stored as JSON, never pickled (`JSONOnlyDisk`): a value in pickle form (an older aimo's cache, or one
planted by someone who could write the cache) is never unpickled — it reads as missing and is fetched again. Model ids
are checked on ingest (docs/security.md): an id with a control character, an escape sequence or a bidi override is
dropped (no provider has such ids), names are made inert, so neither reaches a terminal or the completion index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.models import ModelEntry
from ..stores.fileio import atomic_write, ensure_private_dir
from ..ui.sanitize import is_clean, plain

INDEX_NAME = "completion-models.txt"
_IN_DB_LIMIT = 1 << 26  # values up to 64 MiB stay inside SQLite: no side files


def _json_disk():
    """A diskcache Disk that stores JSON bytes and refuses to unpickle anything (keys or values)."""
    import json

    import diskcache
    from diskcache.core import MODE_BINARY, MODE_RAW

    class JSONOnlyDisk(diskcache.Disk):
        def put(self, key):
            if not isinstance(key, str):
                raise TypeError("catalog cache keys are strings")
            return super().put(key)

        def get(self, key, raw):
            return super().get(key, raw) if raw else None  # a pickled key is never loaded

        def store(self, value, read, key=diskcache.core.UNKNOWN):
            if read:
                raise TypeError("the catalog cache stores JSON values only")
            return super().store(json.dumps(value, ensure_ascii=False).encode("utf-8"), False, key=key)

        def fetch(self, mode, filename, value, read):
            if mode not in (MODE_RAW, MODE_BINARY):
                return None  # pickled or text values: never loaded
            data = super().fetch(mode, filename, value, False)
            if not isinstance(data, bytes):
                return None  # an older aimo's raw number or string
            try:
                return json.loads(data.decode("utf-8"))
            except ValueError:
                return None

    return JSONOnlyDisk


def _clean_entries(entries: list) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        d = e.to_dict() if isinstance(e, ModelEntry) else e
        if not isinstance(d, dict) or not isinstance(d.get("id"), str) or not d["id"].strip() or not is_clean(d["id"]):
            continue
        if d.get("name") is not None:
            d = {**d, "name": plain(d["name"])}
        out.append(d)
    return out


class CatalogCache:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._cache = None

    @property
    def cache(self):
        if self._cache is None:
            import diskcache

            ensure_private_dir(self.cache_dir)
            ensure_private_dir(self.cache_dir / "catalog")
            self._cache = diskcache.Cache(str(self.cache_dir / "catalog"), disk=_json_disk(), disk_min_file_size=_IN_DB_LIMIT)
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def _absent(self) -> bool:
        """Nothing was ever cached here: a read needs neither diskcache nor its database (both cost start-up time)."""
        return self._cache is None and not (self.cache_dir / "catalog").is_dir()

    def get(self, key: str) -> dict[str, Any] | None:
        if self._absent():
            return None
        rec = self.cache.get(key)
        if not isinstance(rec, dict) or not isinstance(rec.get("entries"), list):
            return None
        return {**rec, "entries": _clean_entries(rec["entries"])}

    def put(self, key: str, provider: str, endpoint: str, entries: list[ModelEntry], now: float) -> None:
        self.cache.set(key, {"provider": provider, "endpoint": endpoint, "fetched_at": now, "checked_at": now, "entries": _clean_entries(entries)})
        self.write_index()

    def touch(self, key: str, now: float) -> None:
        rec = self.get(key)
        if rec is not None:
            rec["checked_at"] = now
            self.cache.set(key, rec)

    def cooldown_until(self, name: str) -> float:
        if self._absent():
            return 0.0
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
        import datetime

        today = datetime.date.today().isoformat()
        # retired models are kept out of completion: the provider no longer serves them
        lines = sorted(
            {
                f"{p}:{e['id']}"
                for p, rec in newest.items()
                if is_clean(str(p))
                for e in rec.get("entries", [])
                if isinstance(e, dict) and e.get("id") and not (e.get("deprecation") and str(e["deprecation"])[:10] <= today)
            }
        )
        atomic_write(self.cache_dir / INDEX_NAME, "".join(line + "\n" for line in lines))
