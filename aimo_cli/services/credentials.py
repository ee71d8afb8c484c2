"""Provider credentials: resolve (env beats the store, as in WordPress core), set, remove, describe.

A credential is a pool: one or more lines; the first line is the one WordPress gets. Ollama's credential is its
server URL (one per line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import redact
from ..core.providers import PROVIDER_IDS, PROVIDERS, ProviderInfo
from ..core.secrets import fingerprint, looks_masked, mask, parse_pool, validate_url
from ..errors import ConfigError, UsageError
from ..stores.secrets import provider_entry


@dataclass(frozen=True)
class Credential:
    provider: str
    source: str  # "env", the backend name ("keyring", "file", "memory"), or "" when absent
    pool: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.pool[0] if self.pool else ""

    @property
    def present(self) -> bool:
        return bool(self.pool)

    def display(self) -> str:
        """Safe to print: a mask for keys; for an Ollama URL, scheme://host:port without any user info."""
        if not self.first:
            return ""
        if PROVIDERS[self.provider].credential == "url":
            parts = urlsplit(self.first)
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "") + parts.path.rstrip("/")
        return mask(self.first)

    def as_dict(self) -> dict:
        info = PROVIDERS[self.provider]
        return {
            "provider": self.provider,
            "name": info.name,
            "present": self.present,
            "source": self.source or None,
            "display": self.display() or None,
            "pool_size": len(self.pool),
            "fingerprint": fingerprint(self.first) or None,
            "env_var": info.env_var,
        }


def provider_info(provider_id: str) -> ProviderInfo:
    pid = (provider_id or "").strip().lower()
    if pid not in PROVIDERS:
        raise ConfigError(f"unknown provider {provider_id!r}", "Valid ids: " + ", ".join(PROVIDER_IDS) + ".")
    return PROVIDERS[pid]


def normalise_ollama_url(value: str) -> str:
    """OLLAMA_HOST may be host:port (Ollama's own convention); aimo stores full URLs."""
    value = value.strip()
    if value and "://" not in value:
        value = "http://" + value
    return value.rstrip("/")


def env_pool(info: ProviderInfo) -> list[str]:
    raw = os.environ.get(info.env_var, "")
    pool = parse_pool(raw)
    if info.credential == "url":
        pool = [normalise_ollama_url(v) for v in pool]
    return pool


def resolve(ctx, provider_id: str, *, include_env: bool = True) -> Credential:
    info = provider_info(provider_id)
    if include_env:
        pool = env_pool(info)
        if pool:
            redact.register(*pool)
            return Credential(info.id, "env", tuple(pool))
    stored = ctx.secrets.get(provider_entry(info.id))
    pool = parse_pool(stored or "")
    return Credential(info.id, ctx.secrets.backend.name if pool else "", tuple(pool))


def resolve_all(ctx) -> list[Credential]:
    return [resolve(ctx, pid) for pid in PROVIDER_IDS]


def check_pool(info: ProviderInfo, text: str) -> list[str]:
    """Validate a pool as typed by the admin; raise a UsageError naming the bad line (never echoing a key)."""
    pool = parse_pool(text)
    if not pool:
        noun = "URL" if info.credential == "url" else "key"
        raise UsageError(f"no {info.name} {noun} given (the input was empty)", f"Run aimo keys set {info.id} and paste the {noun}.")
    for n, value in enumerate(pool, 1):
        where = f"line {n}" if len(pool) > 1 else "the value"
        if looks_masked(value):
            raise UsageError(
                f"{where} for {info.name} is a masked value (contains •), not a real credential",
                "Paste the full key from the provider's console, not the masked one WordPress shows.",
            )
        if info.credential == "url":
            value = normalise_ollama_url(value)
            reason = validate_url(value)
            if reason:
                raise UsageError(f"{where} for {info.name} is not a server URL: it {reason}", "Give a URL such as http://localhost:11434, one per line.")
            pool[n - 1] = value
            continue
        for pos, ch in enumerate(value, 1):
            if ch.isspace():
                raise UsageError(f"{where} for {info.name} contains white space at position {pos}", "A key is one word; put pool keys on separate lines.")
            if not (ch.isascii() and ch.isprintable()):
                raise UsageError(
                    f"{where} for {info.name} contains a non-ASCII or control character at position {pos}",
                    "Copy the key again from the provider's console; an editor may have replaced a character.",
                )
    if len(set(pool)) != len(pool):
        raise UsageError(f"the {info.name} pool lists the same value twice", "Remove the duplicate line.")
    return pool


def store(ctx, provider_id: str, text: str) -> Credential:
    info = provider_info(provider_id)
    pool = check_pool(info, text)
    old = parse_pool(ctx.secrets.get(provider_entry(info.id)) or "")
    if old and old[0] != pool[0]:
        # kept so that a key WordPress wipes can be put back, and for `aimo keys rotate`
        ctx.secrets.set(previous_entry(info.id), old[0])
    ctx.secrets.set(provider_entry(info.id), "\n".join(pool))
    return Credential(info.id, ctx.secrets.backend.name, tuple(pool))


def previous_entry(provider_id: str) -> str:
    return "previous/" + provider_id


def remove(ctx, provider_id: str) -> bool:
    info = provider_info(provider_id)
    return ctx.secrets.delete(provider_entry(info.id))


def duplicate_keys(creds: list[Credential]) -> list[tuple[str, str]]:
    """Pairs of providers that hold the same first key (a classic cause of misattributed requests)."""
    seen: dict[str, str] = {}
    pairs = []
    for cred in creds:
        if not cred.first or PROVIDERS[cred.provider].credential == "url":
            continue
        if cred.first in seen:
            pairs.append((seen[cred.first], cred.provider))
        else:
            seen[cred.first] = cred.provider
    return pairs
