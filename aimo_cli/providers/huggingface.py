"""Hugging Face inference router: chat only; `/models` is public (entries carry `providers[]`), so a key is verified
with `whoami-v2` on huggingface.co (overridable as `[providers.huggingface] whoami_url`)."""

from __future__ import annotations

from .base import OpenAICompatAdapter
from .http import LIST_TIMEOUT

WHOAMI_URL = "https://huggingface.co/api/whoami-v2"


class Adapter(OpenAICompatAdapter):
    id = "huggingface"
    models_public = True

    def model_kind(self, raw: dict) -> str | None:
        kind = super().model_kind(raw)
        return "text" if kind else None  # the router is chat only

    def normalise(self, raw: dict):
        entry = super().normalise(raw)
        if entry is None or entry.context_window:
            return entry
        windows = [p.get("context_length") for p in raw.get("providers") or [] if isinstance(p, dict) and isinstance(p.get("context_length"), int)]
        if windows:
            from dataclasses import replace

            entry = replace(entry, context_window=max(windows))
        return entry

    def verify_key(self, key: str) -> None:
        url = self.config.extra.get("whoami_url") or WHOAMI_URL
        self.http.get_json(str(url), key=key, timeout=LIST_TIMEOUT)
