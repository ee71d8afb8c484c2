"""`aimo ask`: one prompt to one model, streamed, as an end-to-end check of a provider key and the request policy."""

from __future__ import annotations

from typing import Callable

from ..core.models import split_ref
from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..errors import AuthError, UsageError
from ..providers.base import Generation


def resolve_model(ctx, model_ref: str | None) -> tuple[str, str]:
    """PROVIDER:MODEL from -m, else `[wordpress.models] text` from the settings."""
    ref = model_ref or ctx.settings().wordpress_models().get("text")
    if not ref:
        raise UsageError("no model given", "Pass -m PROVIDER:MODEL (see aimo models list), or set [wordpress.models] text in aimo.toml.")
    parsed = split_ref(ref)
    if parsed is None or parsed[0] not in PROVIDERS:
        raise UsageError(f"{ref!r} is not PROVIDER:MODEL", "Write it like groq:openai/gpt-oss-120b; providers: " + ", ".join(PROVIDER_IDS) + ".")
    return parsed


def ask(
    ctx,
    model_ref: str | None,
    prompt: str,
    *,
    system: str | None = None,
    max_tokens: int = 512,
    temperature: float | None = None,
    stream: bool = True,
    on_text: Callable[[str], None] | None = None,
    sleep=None,
) -> Generation:
    from . import credentials

    provider, model = resolve_model(ctx, model_ref)
    if not prompt.strip():
        raise UsageError("the prompt is empty", "Give it as an argument, or pipe it in with -.")
    cred = credentials.resolve(ctx, provider)
    if not cred.present and PROVIDERS[provider].credential != "url":
        raise AuthError(f"no {PROVIDERS[provider].name} key is stored", f"Set one: aimo keys set {provider}")
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    adapter = ctx.adapter(provider, cred, sleep=sleep)
    try:
        return adapter.generate_text(model, messages, max_tokens=max_tokens, sampling={"temperature": temperature} if temperature is not None else None, stream=stream, on_text=on_text)
    finally:
        adapter.close()
