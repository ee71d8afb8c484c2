"""The secret store: provider keys (pools), Ollama URLs and site application passwords.

Backends: the OS keyring (service "aimo"); a 0600 JSON file under the data dir for headless machines, where keyring
has no backend (measured: NoKeyringError); and memory, for tests. `AIMO_KEYRING=file|system|memory` forces one;
otherwise the keyring is used when it has a usable backend, else the file, and aimo says so once.

Entry names: "provider/<id>" and "site/<name>". Values are stored as given (a pool is newline-joined).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Protocol

from .. import redact
from ..errors import ConfigError
from .fileio import atomic_write, locked

SERVICE = "aimo"


class SecretBackend(Protocol):
    name: str

    def get(self, entry: str) -> str | None: ...
    def set(self, entry: str, value: str) -> None: ...
    def delete(self, entry: str) -> bool: ...
    def describe(self) -> str: ...


class MemoryBackend:
    """In-process only: for tests and for `AIMO_KEYRING=memory` dry runs."""

    name = "memory"
    _data: dict[str, str] = {}

    def get(self, entry: str) -> str | None:
        return self._data.get(entry)

    def snapshot(self) -> dict[str, str]:
        """Every entry at once (SecretStore.get_many)."""
        return dict(self._data)

    def set(self, entry: str, value: str) -> None:
        self._data[entry] = value

    def delete(self, entry: str) -> bool:
        return self._data.pop(entry, None) is not None

    def describe(self) -> str:
        return "memory (in-process only; nothing is kept after aimo exits)"

    @classmethod
    def reset(cls) -> None:
        cls._data.clear()


class FileBackend:
    """A JSON object in a 0600 file, written atomically under a lock."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kept: tuple[tuple, dict[str, str]] | None = None  # parsed once until the file changes (a fleet reads it per site)

    def _load(self) -> dict[str, str]:
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        kept = self._kept
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        data = self._parse()
        self._kept = (stamp, data) if stamp is not None else None
        return data

    def _read(self) -> dict[str, str]:
        return dict(self._load())

    def _parse(self) -> dict[str, str]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read the secret file {self.path}: {exc.strerror}", "Check its owner and permissions (0600).") from None
        try:
            data = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path}:{exc.lineno}:{exc.colno}: the secret file is not valid JSON",
                "Restore it from a backup or move it aside and set the keys again (aimo left it untouched).",
            ) from None
        if type(data) is not dict or not set(map(type, data.values())) <= {str}:  # (json gives plain dicts and strs)
            raise ConfigError(f"{self.path}: the secret file must be a JSON object of strings", "Move it aside and set the keys again.")
        return data

    def get(self, entry: str) -> str | None:
        return self._load().get(entry)

    def snapshot(self) -> dict[str, str]:
        """Every entry at once, the file read (or its stamp checked) once (SecretStore.get_many)."""
        return self._load()

    def set(self, entry: str, value: str) -> None:
        with locked(self.path):
            data = self._read()
            data[entry] = value
            atomic_write(self.path, _dumps(data))

    def delete(self, entry: str) -> bool:
        with locked(self.path):
            data = self._read()
            if entry not in data:
                return False
            del data[entry]
            atomic_write(self.path, _dumps(data))
            return True

    def describe(self) -> str:
        return f"file {self.path} (mode 0600)"


def _dumps(data: dict[str, str]) -> str:
    """The file's text: what `json.dumps(data, indent=1, sort_keys=True) + "\\n"` writes, one entry a line, by the C
    encoder (an indent makes json encode in Python: ~3x slower for a fleet's passwords). Keys and values are strings,
    escaped to ASCII: no newline inside one, so the separator below is only ever between entries."""
    if not data:
        return "{}\n"
    return "{\n " + json.dumps(data, sort_keys=True, separators=(",\n ", ": "))[1:-1] + "\n}\n"


class KeyringBackend:
    name = "keyring"

    def __init__(self, keyring_module) -> None:
        self._kr = keyring_module

    def get(self, entry: str) -> str | None:
        return self._kr.get_password(SERVICE, entry)

    def set(self, entry: str, value: str) -> None:
        self._kr.set_password(SERVICE, entry, value)

    def delete(self, entry: str) -> bool:
        from keyring.errors import PasswordDeleteError

        try:
            self._kr.delete_password(SERVICE, entry)
            return True
        except PasswordDeleteError:
            return False

    def describe(self) -> str:
        kr = self._kr.get_keyring()
        return f"OS keyring ({type(kr).__module__}.{type(kr).__name__}), service \"{SERVICE}\""


def _usable_keyring():
    import keyring
    from keyring.backends import fail

    kr = keyring.get_keyring()
    if isinstance(kr, fail.Keyring) or getattr(kr, "priority", 0) <= 0:
        return None
    if type(kr).__name__ == "ChainerBackend" and not getattr(kr, "backends", None):
        return None
    return keyring


def open_backend(secrets_file: Path, notice=None) -> SecretBackend:
    """Pick the backend per AIMO_KEYRING; `notice(text)` is told once when aimo falls back to the file."""
    forced = os.environ.get("AIMO_KEYRING", "").strip().lower()
    if forced == "memory":
        return MemoryBackend()
    if forced == "file":
        return FileBackend(secrets_file)
    if forced not in ("", "system", "auto"):
        raise ConfigError(f"AIMO_KEYRING={forced!r} is not a secret backend", "Use AIMO_KEYRING=system, file or memory (or unset it).")
    kr = _usable_keyring()
    if kr is not None:
        return KeyringBackend(kr)
    if forced == "system":
        raise ConfigError(
            "AIMO_KEYRING=system but this machine has no usable OS keyring backend",
            "Install and unlock a keyring (Secret Service, KWallet, macOS Keychain), or use AIMO_KEYRING=file.",
        )
    backend = FileBackend(secrets_file)
    marker = secrets_file.with_name(".file-fallback-noted")
    if notice is not None and not marker.exists():
        notice(f"No OS keyring is available here; aimo keeps secrets in {secrets_file} (0600). See `aimo keys backend`.")
        try:
            atomic_write(marker, "")
        except OSError:
            pass
    return backend


class SecretStore:
    """Named secrets over a backend; every value read or written is registered for redaction.

    Reads are memoised for the life of the process (one command): a fleet run asks for the same provider keys
    once per site, and a keyring read can be a D-Bus round trip. Writes through this store update the memo.
    """

    def __init__(self, backend: SecretBackend) -> None:
        self.backend = backend
        self._memo: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def get(self, entry: str) -> str | None:
        with self._lock:
            if entry in self._memo:
                return self._memo[entry]
        return self._remember({entry: self.backend.get(entry)})[entry]

    def _remember(self, values: dict[str, str | None]) -> dict[str, str | None]:
        """Values read from the backend: registered for redaction (in one call: a fleet's passwords), memoised (a
        value another thread memoised meanwhile is kept); the values memoised."""
        redact.register(*(line for value in values.values() if value for line in value.split("\n")))
        with self._lock:
            return {entry: self._memo.setdefault(entry, value) for entry, value in values.items()}

    def get_many(self, entries: list[str]) -> None:
        """get() of every entry, for later: a backend that holds them all at hand (a file) is read once, not once per
        entry (a fleet's application passwords); a keyring is asked entry by entry."""
        snapshot = getattr(self.backend, "snapshot", None)
        if snapshot is None:
            for entry in entries:
                self.get(entry)
            return
        data = snapshot()
        with self._lock:
            fresh = {entry: data.get(entry) for entry in entries if entry not in self._memo}
        self._remember(fresh)

    def set(self, entry: str, value: str) -> None:
        redact.register(*value.split("\n"))
        self.backend.set(entry, value)
        with self._lock:
            self._memo[entry] = value

    def delete(self, entry: str) -> bool:
        removed = self.backend.delete(entry)
        with self._lock:
            self._memo[entry] = None
        return removed


def provider_entry(provider_id: str) -> str:
    return f"provider/{provider_id}"


def site_entry(site_name: str) -> str:
    return f"site/{site_name}"
