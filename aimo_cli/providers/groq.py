"""Groq: OpenAI-compatible; message content must be strings (400 on arrays of parts in system messages)."""

from __future__ import annotations

from .base import OpenAICompatAdapter


class Adapter(OpenAICompatAdapter):
    id = "groq"
