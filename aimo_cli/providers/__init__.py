"""Provider adapters behind one protocol (`base.ProviderAdapter`), found through a registry of import paths built
from the provider manifest, so that nothing is imported until a command needs that provider.

A provider whose manifest entry names an `adapter` module is served by `aimo_cli.providers.{adapter}:Adapter`; the
others are plain OpenAI-compatible and served by `base.OpenAICompatAdapter`, configured from the manifest.

`make_adapter(ctx, "groq", credential=cred)` builds one from aimo's settings: base URL from `[providers.ID] base_url`
when set, else the provider's default (Ollama: its credential, the server URL). The caller resolves the credential
(services.credentials) and passes it: this layer does not reach into the services.
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..core.providers import PROVIDERS

GENERIC = "aimo_cli.providers.base:OpenAICompatAdapter"

ADAPTERS: dict[str, str] = {pid: (f"aimo_cli.providers.{info.adapter}:Adapter" if info.adapter else GENERIC) for pid, info in PROVIDERS.items()}


def adapter_class(provider_id: str):
    module, _, name = ADAPTERS[provider_id].partition(":")
    return getattr(importlib.import_module(module), name)


def provider_table(ctx, provider_id: str, settings=None) -> dict:
    """The raw `[providers.ID]` table (for keys the typed accessor does not know, e.g. key_check_url)."""
    table = (settings or ctx.settings()).raw("providers", provider_id)  # not .doc: that would read every site entry
    return dict(table) if isinstance(table, dict) else {}


def base_url_for(ctx, provider_id: str, credential=None, settings=None) -> str:
    info = PROVIDERS[provider_id]
    if info.credential == "url" and credential is not None and credential.first:
        return credential.first
    configured = (settings or ctx.settings()).provider(provider_id).base_url
    return (configured or info.default_base_url).rstrip("/")


def make_adapter(ctx, provider_id: str, *, credential, sleep: Callable[[float], None] | None = None, settings=None):
    """An adapter for `provider_id` using `credential` (anything with `.pool` and `.first`, e.g. a
    services.credentials.Credential; its pool is the keys the adapter may use)."""
    from ..core.sampling import DEFAULT_NO_SAMPLING_PREFIXES
    from .base import AdapterConfig
    from .quirks import QuirkStore

    settings = settings or ctx.settings()
    prefixes = settings.provider("anthropic").no_sampling_prefixes
    config = AdapterConfig(
        provider=provider_id,
        base_url=base_url_for(ctx, provider_id, credential, settings),
        pool=tuple(credential.pool),
        extra=provider_table(ctx, provider_id, settings),
        no_sampling_prefixes=prefixes if prefixes is not None else DEFAULT_NO_SAMPLING_PREFIXES,
        quirks=QuirkStore(ctx.cache_dir / "param-quirks.json"),
        sleep=sleep,
        verify_tls=ctx.tls_verify(),
        log=ctx.debug_log,
    )
    return adapter_class(provider_id)(config)
