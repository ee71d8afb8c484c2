"""Verify provider keys with each provider's cheapest authenticated call, and remember the results.

Public API for other services (bridge, sync): `verify_key(ctx, provider_id, key)` checks one key (or Ollama URL)
without storing anything and returns a `VerifyOutcome`; `verify_providers(ctx, ids)` checks every key of each pool
concurrently and records the results in `state_dir/verify.json` (per provider + key fingerprint); `connected(ctx)`
lists the providers whose current key last passed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..core.records import record
from ..core.secrets import fingerprint
from ..errors import AimoError, AuthError, ExitStatus, RemoteError
from ..stores.fileio import atomic_write, locked

OK, REJECTED, UNREACHABLE, MISSING = "ok", "rejected", "unreachable", "missing"


@record(frozen=True)
class VerifyOutcome:
    provider: str
    status: str  # ok | rejected | unreachable | missing
    message: str = ""
    fingerprint: str = ""
    display: str = ""
    keys_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def exit_status(self) -> ExitStatus:
        """A rejected or missing key is an authentication failure; an unreachable provider a remote one."""
        return {REJECTED: ExitStatus.AUTH, MISSING: ExitStatus.AUTH, UNREACHABLE: ExitStatus.REMOTE}.get(self.status, ExitStatus.OK)

    def as_dict(self) -> dict:
        from ..ui.formats import key_fields

        out = asdict(self)
        out.update(key_fields(out.pop("display")))
        return out


class VerifyStore:
    """`verify.json`: {"provider:fingerprint": {"status", "checked_at", "message"}}; atomic writes under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, outcomes: list[VerifyOutcome], now: float) -> None:
        outcomes = [o for o in outcomes if o.fingerprint and o.status != MISSING]
        if not outcomes:
            return
        with locked(self.path):
            data = self.load()
            for o in outcomes:
                data[f"{o.provider}:{o.fingerprint}"] = {"status": o.status, "checked_at": now, "message": o.message}
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def passed(self, provider: str, key_fingerprint: str) -> bool:
        entry = self.load().get(f"{provider}:{key_fingerprint}")
        return isinstance(entry, dict) and entry.get("status") == OK


def store(ctx) -> VerifyStore:
    return VerifyStore(ctx.state_dir / "verify.json")


def _classify(exc: AimoError) -> str:
    return REJECTED if isinstance(exc, AuthError) else UNREACHABLE


def verify_key(ctx, provider_id: str, key: str, *, sleep: Callable[[float], None] | None = None, settings=None) -> VerifyOutcome:
    """Check one key (for Ollama: one server URL) with the provider's cheapest authenticated call. Stores nothing."""
    from ..core.secrets import mask
    from ..services.credentials import Credential

    info = PROVIDERS[provider_id]
    cred = Credential(provider_id, "given", (key,))
    display = cred.display() if info.credential == "url" else mask(key)
    adapter = ctx.adapter(provider_id, cred, sleep=sleep, settings=settings)
    try:
        adapter.verify_key(key)
    except (AuthError, RemoteError) as exc:
        return VerifyOutcome(provider_id, _classify(exc), exc.message, fingerprint(key), display, 1)
    finally:
        adapter.close()
    return VerifyOutcome(provider_id, OK, "", fingerprint(key), display, 1)


def verify_provider(ctx, provider_id: str, *, sleep=None, settings=None) -> VerifyOutcome:
    """Check every key of the provider's pool; the outcome is the first failure, else ok (keyed by the first key)."""
    from . import credentials

    cred = credentials.resolve(ctx, provider_id)
    if not cred.present:
        noun = "server URL" if PROVIDERS[provider_id].credential == "url" else "key"
        return VerifyOutcome(provider_id, MISSING, f"no {PROVIDERS[provider_id].name} {noun} is stored", "", "", 0)
    first: VerifyOutcome | None = None
    for n, key in enumerate(cred.pool):
        outcome = verify_key(ctx, provider_id, key, sleep=sleep, settings=settings)
        if not outcome.ok:
            where = f" (pool line {n + 1})" if len(cred.pool) > 1 else ""
            return VerifyOutcome(provider_id, outcome.status, outcome.message + where, fingerprint(cred.first), cred.display(), n + 1)
        first = first or outcome
    return VerifyOutcome(provider_id, OK, "", fingerprint(cred.first), cred.display(), len(cred.pool))


def verify_providers(ctx, provider_ids: list[str] | None = None, *, sleep=None, clock: Callable[[], float] | None = None) -> list[VerifyOutcome]:
    """Verify providers concurrently (default: every provider with a credential) and record the results."""
    from . import credentials

    settings = ctx.settings()
    ids = list(provider_ids) if provider_ids else [c.provider for c in credentials.resolve_all(ctx) if c.present]
    if not ids:
        return []
    with ThreadPoolExecutor(max_workers=min(len(ids), 10)) as pool:
        outcomes = list(pool.map(lambda pid: verify_provider(ctx, pid, sleep=sleep, settings=settings), ids))
    store(ctx).record(outcomes, (clock or ctx.clock.time)())
    return outcomes


def connected(ctx, provider_ids=PROVIDER_IDS) -> list[str]:
    """Providers whose current credential is present and whose last verification passed."""
    from . import credentials

    vs = store(ctx)
    data = vs.load()
    out = []
    for pid in provider_ids:
        cred = credentials.resolve(ctx, pid)
        if cred.present and (data.get(f"{pid}:{fingerprint(cred.first)}") or {}).get("status") == OK:
            out.append(pid)
    return out
