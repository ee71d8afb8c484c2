"""Model catalog entries: one normalised shape for every provider's models. Pure data."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from .records import record

KINDS = ("text", "image")


@record(frozen=True)
class ModelEntry:
    id: str
    provider: str
    kind: str = "text"  # "text" or "image"
    context_window: int | None = None
    deprecation: str | None = None  # ISO date the provider retires (or retired) it
    successor: str | None = None
    name: str | None = None
    source: str = "live"  # "live" (from the provider's API) or "curated" (shipped fallback data)

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.id}"

    def retired(self, today: str) -> bool:
        """True when the retirement date (ISO) is today or past: the provider no longer serves it. `today` is ISO."""
        return bool(self.deprecation) and str(self.deprecation)[:10] <= today

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelEntry":
        known = {k: data.get(k) for k in ("id", "provider", "kind", "context_window", "deprecation", "successor", "name", "source") if k in data}
        return cls(**known)

    def enriched(self, curated: "ModelEntry | None") -> "ModelEntry":
        """Fill what the live list lacks (context window, retirement, successor, kind) from the curated entry."""
        if curated is None:
            return self
        return replace(
            self,
            context_window=self.context_window or curated.context_window,
            deprecation=self.deprecation or curated.deprecation,
            successor=self.successor or curated.successor,
            name=self.name or curated.name,
            kind=curated.kind if curated.kind != self.kind and self.kind == "text" else self.kind,
        )


def split_ref(ref: str) -> tuple[str, str] | None:
    """`groq:openai/gpt-oss-120b` → ('groq', 'openai/gpt-oss-120b'); None when there is no provider part."""
    if ":" not in ref:
        return None
    provider, model = ref.split(":", 1)
    provider, model = provider.strip().lower(), model.strip()
    if not provider or not model:
        return None
    return provider, model
