"""OpenRouter: `/models` is public (so a key is verified with `GET /key`, the manifest's key_check); `?output_modalities=all` lists image
models too, told apart by `architecture.output_modalities`."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    def models_params(self) -> dict | None:
        return {"output_modalities": "all"}

    def model_kind(self, raw: dict) -> str | None:
        arch = raw.get("architecture") if isinstance(raw.get("architecture"), dict) else {}
        outputs = arch.get("output_modalities")
        if isinstance(outputs, list) and outputs:
            if "image" in outputs:
                return "image"
            if "text" in outputs:
                return "text"
            return None
        return super().model_kind(raw)
