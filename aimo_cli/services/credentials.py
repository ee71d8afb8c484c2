"""Provider credentials: resolve (env beats the store, as in WordPress core), set, remove, describe.

A credential is a pool: one or more lines; the first line is the one WordPress gets. Ollama's credential is its
server URL (one per line).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .. import redact
from ..core.providers import PROVIDER_IDS, PROVIDERS, ProviderInfo
from ..core.records import record
from ..core.secrets import fingerprint, looks_masked, mask, parse_pool, validate_url
from ..errors import ConfigError, UsageError
from ..stores.secrets import provider_entry
from ..ui.formats import iso_time, key_fields


@record(frozen=True)
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
            **key_fields(self.display()),
            "pool_size": len(self.pool),
            "fingerprint": fingerprint(self.first) or None,
            "env_var": info.env_var,
        }


def provider_info(provider_id: str) -> ProviderInfo:
    pid = (provider_id or "").strip().lower()
    if pid not in PROVIDERS:
        from ..core.names import did_you_mean

        raise UsageError(f"unknown provider {provider_id!r}", did_you_mean(pid, PROVIDER_IDS) + "Valid ids: " + ", ".join(PROVIDER_IDS) + ".")
    return PROVIDERS[pid]


def normalise_ollama_url(value: str) -> str:
    """OLLAMA_HOST may be host:port (Ollama's own convention); aimo stores full URLs."""
    value = value.strip()
    if value and "://" not in value:
        value = "http://" + value
    return value.rstrip("/")


def env_pool(info: ProviderInfo, env=None) -> list[str]:
    """The pool from the provider's environment variable (`env`: the context's environment, default os.environ)."""
    raw = (os.environ if env is None else env).get(info.env_var, "")
    pool = parse_pool(raw)
    if info.credential == "url":
        pool = [normalise_ollama_url(v) for v in pool]
    return pool


def resolve(ctx, provider_id: str, *, include_env: bool = True) -> Credential:
    info = provider_info(provider_id)
    if include_env:
        pool = env_pool(info, ctx.env)
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
    return check_pool_notes(info, text)[0]


def check_pool_notes(info: ProviderInfo, text: str) -> tuple[list[str], list[str]]:
    """`check_pool`, plus what was cleaned up (quotes, `export NAME=`) and shape warnings, to be said aloud."""
    from ..core.secrets import MAX_INPUT_BYTES, MAX_KEY_BYTES, MAX_POOL_LINES, KeyInputError, shape_warning, strip_line

    noun = "URL" if info.credential == "url" else "key"
    if len(text) > MAX_INPUT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise UsageError(
            f"the {info.name} input is {len(text.encode('utf-8', 'surrogatepass')):,} bytes: more than a pool of {MAX_POOL_LINES} {noun}s of "
            f"{MAX_KEY_BYTES // 1024} KiB can be (was a file pasted?)",
            f"Give one {noun} per line, at most {MAX_POOL_LINES} lines.",
        )
    pool = parse_pool(text)
    if not pool:
        raise UsageError(f"no {info.name} {noun} given (the input was empty)", f"Run aimo keys set {info.id} and paste the {noun}.")
    if len(pool) > MAX_POOL_LINES:
        raise UsageError(f"the {info.name} pool has {len(pool)} lines; at most {MAX_POOL_LINES} are accepted", f"Keep at most {MAX_POOL_LINES} {noun}s, one per line.")
    notes: list[str] = []
    known_vars = tuple(p.env_var for p in PROVIDERS.values())
    for n, value in enumerate(pool, 1):
        where = f"line {n}" if len(pool) > 1 else "the value"
        try:
            value, cleaned = strip_line(value, info.env_var, known_vars, where)
        except KeyInputError as exc:
            raise UsageError(f"{exc.reason} ({info.name})", exc.hint) from None
        notes += cleaned
        if not value:
            raise UsageError(f"{where} for {info.name} is empty once quotes and the variable name are removed", f"Paste the {noun} itself.")
        if len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise UsageError(
                f"{where} for {info.name} is {len(value.encode('utf-8', 'surrogatepass')):,} bytes long; a {noun} is at most {MAX_KEY_BYTES:,}",
                f"Paste the {noun} alone, not a file or a whole page.",
            )
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
        pool[n - 1] = value
        warning = shape_warning(info.id, value, where)
        if warning:
            notes.append("warning: " + warning)
    if len(set(pool)) != len(pool):
        raise UsageError(f"the {info.name} pool lists the same value twice", "Remove the duplicate line.")
    return pool, notes


@record(frozen=True)
class StoreResult:
    credential: Credential
    dropped: tuple[str, ...]  # keys that were in the old pool and are not in the new one (now kept as previous)
    replaced_first: bool  # WordPress's key (the first line) changed


def store(ctx, provider_id: str, text: str, *, pool: list[str] | None = None, reason: str = "replaced by aimo keys set") -> Credential:
    return store_pool(ctx, provider_id, text, pool=pool, reason=reason).credential


def store_pool(ctx, provider_id: str, text: str = "", *, pool: list[str] | None = None, reason: str = "replaced by aimo keys set") -> StoreResult:
    """Store a pool; every key of the old pool that the new one drops is kept as a previous key (never lost silently)."""
    info = provider_info(provider_id)
    if pool is None:
        pool = check_pool(info, text)
    old = parse_pool(ctx.secrets.get(provider_entry(info.id)) or "")
    dropped = [k for k in old if k not in pool]
    if dropped:
        # kept so that a key WordPress wipes can be put back, for `aimo keys rotate`, and for `aimo keys restore`
        add_previous(ctx, info.id, dropped, reason)
    ctx.secrets.set(provider_entry(info.id), "\n".join(pool))
    return StoreResult(Credential(info.id, ctx.secrets.backend.name, tuple(pool)), tuple(dropped), bool(old) and old[0] != pool[0])


# -- earlier keys ("previous") ---------------------------------------------------------------------------------------
# previous/ID holds the replaced keys, newest first, one per line (a secret, in the secret backend); previous-meta/ID
# holds, for each, its fingerprint, when and why it was replaced (no secret). At most PREVIOUS_MAX are kept.

PREVIOUS_MAX = 10


@record(frozen=True)
class PreviousKey:
    key: str
    fingerprint: str
    replaced_at: float | None
    reason: str

    def as_dict(self, provider_id: str) -> dict:
        return {
            "provider": provider_id,
            **key_fields(Credential(provider_id, "previous", (self.key,)).display()),
            "fingerprint": self.fingerprint,
            "replaced_at": iso_time(self.replaced_at),
            "reason": self.reason,
        }


def previous_entry(provider_id: str) -> str:
    return "previous/" + provider_id


def previous_meta_entry(provider_id: str) -> str:
    return "previous-meta/" + provider_id


def previous_keys(ctx, provider_id: str) -> list[PreviousKey]:
    import json

    keys = parse_pool(ctx.secrets.get(previous_entry(provider_id)) or "")
    try:
        meta = json.loads(ctx.secrets.get(previous_meta_entry(provider_id)) or "[]")
    except ValueError:
        meta = []
    by_fp = {m.get("fingerprint"): m for m in meta if isinstance(m, dict)}
    out = []
    for key in keys:
        m = by_fp.get(fingerprint(key)) or {}
        at = m.get("replaced_at")
        out.append(PreviousKey(key, fingerprint(key), float(at) if isinstance(at, (int, float)) else None, str(m.get("reason") or "")))
    return out


def _write_previous(ctx, provider_id: str, items: list[PreviousKey]) -> None:
    import json

    items = items[:PREVIOUS_MAX]
    if not items:
        ctx.secrets.delete(previous_entry(provider_id))
        ctx.secrets.delete(previous_meta_entry(provider_id))
        return
    ctx.secrets.set(previous_entry(provider_id), "\n".join(p.key for p in items))
    meta = [{"fingerprint": p.fingerprint, "replaced_at": p.replaced_at, "reason": p.reason} for p in items]
    ctx.secrets.set(previous_meta_entry(provider_id), json.dumps(meta))


def add_previous(ctx, provider_id: str, keys: list[str], reason: str, *, now: float | None = None) -> None:
    import time

    now = time.time() if now is None else now
    current = [p for p in previous_keys(ctx, provider_id) if p.key not in keys]
    _write_previous(ctx, provider_id, [PreviousKey(k, fingerprint(k), now, reason) for k in keys] + current)


def take_previous(ctx, provider_id: str, which: str | None) -> PreviousKey:
    """Find a kept key by position (1 = newest) or fingerprint prefix; raise a ConfigError naming the choices."""
    items = previous_keys(ctx, provider_id)
    name = PROVIDERS[provider_id].name
    if not items:
        raise ConfigError(f"no earlier {name} key is kept", f"aimo keys previous {provider_id} lists them once a key has been replaced.")
    if not which:
        return items[0]
    if which.isdigit() and 1 <= int(which) <= len(items) and len(which) <= 3:
        return items[int(which) - 1]
    found = [p for p in items if p.fingerprint.startswith(which.lower())]
    if len(found) != 1:
        raise UsageError(
            f"{which!r} names {'no' if not found else 'more than one'} kept {name} key",
            f"Give a number (1 = newest) or a fingerprint from aimo keys previous {provider_id}.",
        )
    return found[0]


def drop_previous(ctx, provider_id: str, keys: list[str]) -> None:
    _write_previous(ctx, provider_id, [p for p in previous_keys(ctx, provider_id) if p.key not in keys])


@record(frozen=True)
class Removal:
    pool: tuple[str, ...]
    previous: int
    kept_previous: bool


def remove(ctx, provider_id: str, *, keep_previous: bool = False) -> Removal:
    """Remove the stored pool and, unless asked to keep them, every earlier key: nothing of it stays in the store."""
    info = provider_info(provider_id)
    pool = tuple(parse_pool(ctx.secrets.get(provider_entry(info.id)) or ""))
    previous = previous_keys(ctx, info.id)
    ctx.secrets.delete(provider_entry(info.id))
    if not keep_previous:
        ctx.secrets.delete(previous_entry(info.id))
        ctx.secrets.delete(previous_meta_entry(info.id))
    return Removal(pool, len(previous), keep_previous)


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
