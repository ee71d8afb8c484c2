"""NVIDIA (integrate.api.nvidia.com): OpenAI-compatible; errors are `{status, title, detail}`; 403 when a key lacks
scope. The model list is the whole catalog, not per key."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    id = "nvidia"
