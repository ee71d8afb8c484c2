"""What providers taught aimo about single models (a parameter they reject, a field they want renamed), kept in
the cache dir as `param-quirks.json` so the lesson costs one 400 per model, not one per request."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.sampling import ParamQuirks
from ..stores.fileio import atomic_write, locked


class QuirkStore:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _read(self) -> dict:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, provider: str, model: str) -> ParamQuirks:
        entry = self._read().get(f"{provider}:{model}") or {}
        drop = entry.get("drop") if isinstance(entry.get("drop"), list) else []
        rename = entry.get("rename") if isinstance(entry.get("rename"), dict) else {}
        return ParamQuirks(frozenset(str(d) for d in drop), {str(k): str(v) for k, v in rename.items()})

    def learn(self, provider: str, model: str, param: str, replacement: str | None) -> None:
        if self.path is None:
            return
        with locked(self.path):
            data = self._read()
            entry = data.setdefault(f"{provider}:{model}", {})
            if replacement:
                entry.setdefault("rename", {})[param] = replacement
            else:
                drops = entry.setdefault("drop", [])
                if param not in drops:
                    drops.append(param)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
