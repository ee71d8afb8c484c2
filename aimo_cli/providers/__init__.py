"""Provider adapters behind one protocol (`base.ProviderAdapter`), found through a registry of import paths so that
nothing is imported until a command needs that provider.

`make_adapter(ctx, "groq")` builds one from aimo's settings: base URL from `[providers.ID] base_url` when set, else
the provider's default (Ollama: its credential, the server URL); the key pool from the credential store.
"""

from __future__ import annotations

import importlib
from typing import Callable

ADAPTERS: dict[str, str] = {
    "openai": "aimo_cli.providers.openai:Adapter",
    "anthropic": "aimo_cli.providers.anthropic:Adapter",
    "google": "aimo_cli.providers.google:Adapter",
    "openrouter": "aimo_cli.providers.openrouter:Adapter",
    "perplexity": "aimo_cli.providers.perplexity:Adapter",
    "groq": "aimo_cli.providers.groq:Adapter",
    "nvidia": "aimo_cli.providers.nvidia:Adapter",
    "xai": "aimo_cli.providers.xai:Adapter",
    "huggingface": "aimo_cli.providers.huggingface:Adapter",
    "ollama": "aimo_cli.providers.ollama:Adapter",
}


def adapter_class(provider_id: str):
    module, _, name = ADAPTERS[provider_id].partition(":")
    return getattr(importlib.import_module(module), name)


def provider_table(ctx, provider_id: str, settings=None) -> dict:
    """The raw `[providers.ID]` table (for keys the typed accessor does not know, e.g. huggingface whoami_url)."""
    try:
        table = (settings or ctx.settings()).doc.get("providers", {}).get(provider_id, {})
    except AttributeError:
        return {}
    return dict(table) if isinstance(table, dict) else {}


def base_url_for(ctx, provider_id: str, credential=None, settings=None) -> str:
    from ..core.providers import PROVIDERS

    info = PROVIDERS[provider_id]
    if info.credential == "url" and credential is not None and credential.first:
        return credential.first
    configured = (settings or ctx.settings()).provider(provider_id).base_url
    return (configured or info.default_base_url).rstrip("/")


def make_adapter(ctx, provider_id: str, *, credential=None, sleep: Callable[[float], None] | None = None, settings=None):
    from ..core.sampling import DEFAULT_NO_SAMPLING_PREFIXES
    from ..services import credentials
    from .base import AdapterConfig
    from .quirks import QuirkStore

    cred = credential if credential is not None else credentials.resolve(ctx, provider_id)
    settings = settings or ctx.settings()
    prefixes = settings.provider("anthropic").no_sampling_prefixes
    config = AdapterConfig(
        provider=provider_id,
        base_url=base_url_for(ctx, provider_id, cred, settings),
        pool=tuple(cred.pool),
        extra=provider_table(ctx, provider_id, settings),
        no_sampling_prefixes=prefixes if prefixes is not None else DEFAULT_NO_SAMPLING_PREFIXES,
        quirks=QuirkStore(ctx.cache_dir / "param-quirks.json"),
        sleep=sleep,
        verify_tls=ctx.tls_verify(),
        log=ctx.debug_log,
    )
    return adapter_class(provider_id)(config)
