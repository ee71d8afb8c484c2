"""Anthropic: native `GET /v1/models` (x-api-key + anthropic-version, cursor `after_id`/`has_more`); generation through
its OpenAI-compatible `/chat/completions`. Opus 4.7+, 5.x, Fable and Mythos reject sampling parameters; 4.5/4.6 reject
temperature together with top_p. No image generation."""

from __future__ import annotations

from ..core.models import ModelEntry
from .base import OpenAICompatAdapter
from .http import LIST_TIMEOUT

API_VERSION = "2023-06-01"
MAX_PAGES = 20


class Adapter(OpenAICompatAdapter):
    def extra_headers(self) -> dict[str, str]:
        return {"anthropic-version": API_VERSION}

    def verify_params(self) -> dict | None:
        return {"limit": 1}

    def list_models(self) -> list[ModelEntry]:
        out: list[ModelEntry] = []
        params: dict = {"limit": 100}
        for _ in range(MAX_PAGES):
            data = self.http.get_json("/models", params=params, timeout=LIST_TIMEOUT)
            for raw in data.get("data") or [] if isinstance(data, dict) else []:
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    window = raw.get("max_input_tokens")
                    out.append(ModelEntry(id=raw["id"], provider=self.id, kind="text", context_window=window if isinstance(window, int) else None, name=raw.get("display_name")))
            if not (isinstance(data, dict) and data.get("has_more") and data.get("last_id")):
                break
            params = {"limit": 100, "after_id": data["last_id"]}
        return out
