"""Sync state: per site and provider, what both sides held when they were last in sync (fingerprint + mask only)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..core.sync import BaseRecord
from ..errors import ConfigError
from .fileio import atomic_write, locked


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class SyncState:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "sync"

    def _file(self, site: str) -> str:
        """The site's state file, joined as text (a fleet reads one per site; pathlib's joins cost more than the read)."""
        return os.path.join(self.dir, _UNSAFE.sub("_", site) + ".json")

    def _path(self, site: str) -> Path:
        return Path(self._file(site))

    def _read(self, path: Path | str) -> dict:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.loads(f.read())
        except FileNotFoundError:
            return {}
        except (ValueError, OSError) as exc:
            raise ConfigError(f"the sync state file {path} is unreadable ({exc})", f"Delete {path}; the next sync treats the site as never synced.") from None
        return data if isinstance(data, dict) else {}

    def load(self, site: str) -> dict[str, BaseRecord]:
        out = {}
        for provider, rec in self._read(self._file(site)).items():
            if isinstance(rec, dict) and rec.get("fingerprint"):
                out[provider] = BaseRecord(str(rec["fingerprint"]), str(rec.get("mask", "")))
        return out

    def record(self, site: str, updates: dict[str, BaseRecord | None]) -> None:
        if not updates:
            return
        path = self._path(site)
        with locked(path):
            data = self._read(path)
            for provider, rec in updates.items():
                if rec is None:
                    data.pop(provider, None)
                else:
                    data[provider] = {"fingerprint": rec.fingerprint, "mask": rec.mask}
            atomic_write(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")

    def forget_site(self, site: str) -> None:
        try:
            self._path(site).unlink()
        except FileNotFoundError:
            pass
