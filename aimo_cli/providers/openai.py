"""OpenAI: the reference OpenAI-compatible API, plus `/images/generations` (gpt-image, dall-e)."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    def model_kind(self, raw: dict) -> str | None:
        mid = str(raw.get("id", "")).lower()
        if mid.startswith(("babbage", "davinci", "text-", "omni-moderation", "codex-mini")) or "search" in mid:
            return None
        return super().model_kind(raw)
