"""Request policy for generation: which fields a chat request carries, per provider and model. Pure: no I/O.

The safe default sends only model, messages, a max-tokens field and stream. Sampling parameters (temperature, top_p,
top_k) are added only when asked, and never for model families that reject them (docs/design.md §4): Anthropic Opus 4.7+,
every 5.x model, Fable and Mythos. The list is configurable as `[providers.anthropic] no_sampling_prefixes` and is
mirrored in the bridge. OpenAI o-series and gpt-5+ take `max_completion_tokens` instead of `max_tokens`.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any, Iterable, Mapping

from .records import record

SAMPLING_PARAMS: tuple[str, ...] = ("temperature", "top_p", "top_k")

DEFAULT_NO_SAMPLING_PREFIXES: tuple[str, ...] = (
    "claude-opus-4-7",
    "claude-opus-4-8",
    "claude-opus-4-9",
    "claude-opus-5",
    "claude-sonnet-5",
    "claude-haiku-5",
    "claude-fable",
    "claude-mythos",
)

_OPENAI_REASONING = re.compile(r"^(o\d+)(?:[-.]|$)")
_OPENAI_GPT = re.compile(r"^gpt-(\d+)")


def bare_model_id(model: str) -> str:
    """`anthropic/claude-opus-5` (OpenRouter, Perplexity) → `claude-opus-5`; lower-cased for prefix tests."""
    return model.rsplit("/", 1)[-1].strip().lower()


def rejects_sampling(model: str, prefixes: Iterable[str] | None = None) -> bool:
    """True when `model` belongs to a family that answers 400 to temperature/top_p/top_k."""
    bare = bare_model_id(model)
    use = DEFAULT_NO_SAMPLING_PREFIXES if prefixes is None else tuple(prefixes)
    return any(bare.startswith(p.strip().lower()) for p in use if p.strip())


def uses_max_completion_tokens(provider: str, model: str) -> bool:
    """OpenAI o-series and gpt-5+ reject `max_tokens`; they take `max_completion_tokens`."""
    if provider != "openai":
        return False
    bare = bare_model_id(model)
    if _OPENAI_REASONING.match(bare):
        return True
    m = _OPENAI_GPT.match(bare)
    return bool(m) and int(m.group(1)) >= 5


@record(frozen=True)
class ParamQuirks:
    """What a provider taught us about one model: parameters to drop and parameters to rename."""

    drop: frozenset[str] = frozenset()
    rename: Mapping[str, str] = field(default_factory=dict)

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in body.items():
            if key in self.drop:
                continue
            out[self.rename.get(key, key)] = value
        return out


def chat_body(
    provider: str,
    model: str,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int,
    stream: bool = True,
    sampling: Mapping[str, float | int | None] | None = None,
    no_sampling_prefixes: Iterable[str] | None = None,
    quirks: ParamQuirks | None = None,
) -> dict[str, Any]:
    """The JSON body of an OpenAI-style chat completion request under the safe-default policy."""
    tokens_field = "max_completion_tokens" if uses_max_completion_tokens(provider, model) else "max_tokens"
    body: dict[str, Any] = {"model": model, "messages": messages, tokens_field: int(max_tokens), "stream": bool(stream)}
    if sampling and not rejects_sampling(model, no_sampling_prefixes):
        for name in SAMPLING_PARAMS:
            value = sampling.get(name)
            if value is not None:
                body[name] = value
    return quirks.apply(body) if quirks else body


def flatten_content(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message content as plain strings (arrays of text parts joined): Groq answers 400 to parts in system messages."""
    out = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list):
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") in (None, "text", "input_text"))
            msg = {**msg, "content": text}
        out.append(msg)
    return out
