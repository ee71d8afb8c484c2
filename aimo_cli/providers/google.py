"""Google Gemini through its OpenAI-compatible endpoint: ids come prefixed `models/`; an invalid key is a 400 (the body
sometimes a JSON array) naming API_KEY_INVALID. Imagen is shut down on this API, so no image endpoint."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    def is_auth_failure(self, status: int, message: str) -> bool:
        low = message.lower()
        return status in (401, 403) or (status == 400 and ("api key" in low or "api_key_invalid" in low))

    def normalise(self, raw: dict):
        mid = raw.get("id")
        if isinstance(mid, str) and mid.startswith("models/"):
            raw = {**raw, "id": mid[len("models/") :]}
        entry = super().normalise(raw)
        if entry is not None and (entry.id.startswith(("aqa", "gemma-embed")) or "embedding" in entry.id):
            return None
        return entry
