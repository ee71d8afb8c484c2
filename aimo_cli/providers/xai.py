"""xAI: OpenAI-compatible with `/images/generations`; an invalid key is a 400 whose `error` is a plain string."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    def is_auth_failure(self, status: int, message: str) -> bool:
        low = message.lower()
        return status in (401, 403) or (status == 400 and ("api key" in low or "api-key" in low or "apikey" in low))
