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
_CHUNK = 16384
_OPEN = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)  # (O_BINARY: Windows)


class SyncState:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "sync"
        self._prefix = os.path.join(self.dir, "")

    def _file(self, site: str) -> str:
        """The site's state file, joined as text (a fleet reads one per site; pathlib's joins cost more than the read)."""
        return self._prefix + _UNSAFE.sub("_", site) + ".json"

    def _path(self, site: str) -> Path:
        return Path(self._file(site))

    def _read(self, path: Path | str) -> dict:
        # read as bytes through the file descriptor, decoded at once: a fleet reads one small file per site, and a
        # text-mode file object (its buffer and decoder) cost three times the read itself
        try:
            fd = os.open(path, _OPEN)
            try:
                chunks = [os.read(fd, _CHUNK)]
                while chunks[-1]:  # to the end (one more read for a file of one site's providers)
                    chunks.append(os.read(fd, _CHUNK))
            finally:
                os.close(fd)
            data = json.loads(b"".join(chunks).decode("utf-8"))
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
