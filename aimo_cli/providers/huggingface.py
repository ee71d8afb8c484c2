"""Hugging Face inference router: chat only; `/models` is public (entries carry `providers[]`), so a key is verified
with `whoami-v2` on huggingface.co (the manifest's key_check; overridable as `[providers.huggingface] key_check_url`)."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
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
