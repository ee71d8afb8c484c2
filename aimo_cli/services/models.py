"""The model catalog service: `aimo models list/refresh/show` and model lookups for `aimo ask`.

Per provider: the cached list (fresh for 6 h; a stale list is served while a background refresh runs), else a live
fetch (providers fetched concurrently), else the curated fallback. A refresh never replaces a good list with an
empty or much smaller one. An unreachable Ollama gets a cooldown mark so no command hangs on it. Every cache update
rewrites the completion index.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from ..catalog import fallback, policy
from ..catalog.cache import CatalogCache
from ..core.models import ModelEntry, split_ref
from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..core.records import record
from ..core.secrets import fingerprint
from ..errors import AimoError, ExitStatus, RemoteError, UsageError


@record
class Listing:
    provider: str
    entries: list[ModelEntry]
    source: str  # cache | stale | live | curated
    note: str = ""


@record(frozen=True)
class RefreshOutcome:
    provider: str
    status: str  # updated | kept | failed | skipped | cooldown
    count: int = 0
    previous: int = 0
    message: str = ""

    @property
    def exit_status(self) -> ExitStatus:
        return ExitStatus.REMOTE if self.status == "failed" else ExitStatus.OK


def spawn_background_refresh(ctx, provider_ids: list[str]) -> None:
    """Stale-while-revalidate for a short-lived CLI: a detached `aimo models refresh` updates the cache."""
    if ctx.env.get("AIMO_BACKGROUND_REFRESH", "1") == "0" or not provider_ids:
        return
    args = [sys.executable, "-m", "aimo_cli", "--quiet"]
    if ctx.options.config:
        args += ["--config", ctx.options.config]
    args += ["models", "refresh", *provider_ids]
    try:
        subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env=None if ctx.env is os.environ else dict(ctx.env),
        )
    except OSError:
        pass


class Catalog:
    def __init__(
        self,
        ctx,
        *,
        clock: Callable[[], float] | None = None,  # default: the context's clock
        ttl: float = policy.DEFAULT_TTL,
        revalidate: Callable[[list[str]], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        cooldown: float = policy.OLLAMA_COOLDOWN,
    ) -> None:
        self.ctx = ctx
        self.clock = clock or ctx.clock.time
        self.ttl = ttl
        self.revalidate = revalidate if revalidate is not None else (lambda ids: spawn_background_refresh(ctx, ids))
        self.sleep = sleep
        self.cooldown = cooldown
        self.cache = CatalogCache(ctx.cache_dir)
        self._settings = None

    def close(self) -> None:
        self.cache.close()

    @property
    def settings(self):
        if self._settings is None:
            self._settings = self.ctx.settings()
        return self._settings

    # -- keys ---------------------------------------------------------------------------------------------------------
    def _cred(self, pid: str):
        from . import credentials

        return credentials.resolve(self.ctx, pid)

    def _key(self, pid: str, cred) -> tuple[str, str]:
        from ..providers import base_url_for

        endpoint = base_url_for(self.ctx, pid, cred, self.settings)
        return policy.cache_key(pid, endpoint, fingerprint(cred.first)), endpoint

    def _cooldown_name(self, cred) -> str:
        return f"ollama:{fingerprint(cred.first) or 'default'}"

    # -- fetching -----------------------------------------------------------------------------------------------------
    def _fetch(self, pid: str, cred) -> list[ModelEntry]:
        adapter = self.ctx.adapter(pid, cred, sleep=self.sleep, settings=self.settings)
        try:
            entries = adapter.list_models()
        finally:
            adapter.close()
        if not policy.plausible_size(len(entries)):
            raise RemoteError(
                f"{PROVIDERS[pid].name} listed {len(entries)} models, more than aimo accepts from one provider ({policy.MAX_MODELS}): not a plausible model list",
                "Check the provider's base_url in aimo.toml (a proxy or a wrong endpoint may be answering); the cached list is kept.",
            )
        return entries

    def _fetch_many(self, jobs: list[tuple[str, object]], on_done=None) -> dict[str, list[ModelEntry] | AimoError]:
        results: dict[str, list[ModelEntry] | AimoError] = {}
        if not jobs:
            return results

        def run(job):
            pid, cred = job
            try:
                res: list[ModelEntry] | AimoError = self._fetch(pid, cred)
            except AimoError as exc:
                res = exc
            except Exception as exc:  # noqa: BLE001 - one provider's bug must not sink the others
                res = RemoteError(f"{PROVIDERS[pid].name}: unexpected {type(exc).__name__}: {exc}")
            if on_done:
                on_done(pid)
            return pid, res

        with ThreadPoolExecutor(max_workers=min(len(jobs), 10)) as pool:
            for pid, res in pool.map(run, jobs):
                results[pid] = res
        return results

    def _in_cooldown(self, pid: str, cred) -> bool:
        return pid == "ollama" and self.cache.cooldown_until(self._cooldown_name(cred)) > self.clock()

    def _store(self, pid: str, cred, key: str, endpoint: str, result, *, force: bool = False) -> RefreshOutcome:
        """Apply one fetch result to the cache under the never-shrink rule."""
        now = self.clock()
        old = self.cache.get(key)
        old_count = len(old["entries"]) if old else 0
        if isinstance(result, AimoError):
            if pid == "ollama" and isinstance(result, RemoteError):
                self.cache.set_cooldown(self._cooldown_name(cred), now + self.cooldown)
            return RefreshOutcome(pid, "failed", old_count, old_count, result.message)
        if pid == "ollama":
            self.cache.clear_cooldown(self._cooldown_name(cred))
        if policy.accept_refresh(old_count, len(result), force=force):
            self.cache.put(key, pid, endpoint, result, now)
            return RefreshOutcome(pid, "updated", len(result), old_count)
        if old is not None:
            self.cache.touch(key, now)
        return RefreshOutcome(pid, "kept", old_count, old_count, f"the provider listed {len(result)} models; kept the cached {old_count} (use --force to accept)")

    # -- use cases ----------------------------------------------------------------------------------------------------
    def refresh(self, provider_ids: Iterable[str] | None = None, *, force: bool = False, on_done=None) -> list[RefreshOutcome]:
        """Fetch live lists now (default: every provider with a credential), concurrently."""
        given = list(provider_ids or [])
        explicit = bool(given)
        ids = given if explicit else list(PROVIDER_IDS)
        outcomes: dict[str, RefreshOutcome] = {}
        jobs, meta = [], {}
        for pid in ids:
            cred = self._cred(pid)
            if not cred.present:
                if explicit:
                    outcomes[pid] = RefreshOutcome(pid, "skipped", 0, 0, f"no credential (aimo keys set {pid})")
                continue
            if self._in_cooldown(pid, cred) and not force:
                outcomes[pid] = RefreshOutcome(pid, "cooldown", 0, 0, "Ollama was unreachable moments ago; retry in a few minutes or use --force")
                continue
            key, endpoint = self._key(pid, cred)
            jobs.append((pid, cred))
            meta[pid] = (cred, key, endpoint)
        for pid, res in self._fetch_many(jobs, on_done).items():
            cred, key, endpoint = meta[pid]
            outcomes[pid] = self._store(pid, cred, key, endpoint, res, force=force)
        return [outcomes[p] for p in ids if p in outcomes]

    def listings(self, provider_ids: Iterable[str], *, fetch_missing: bool = True) -> list[Listing]:
        out: dict[str, Listing] = {}
        jobs, meta, stale = [], {}, []
        now = self.clock()
        ids = list(provider_ids)
        for pid in ids:
            curated = fallback.curated(pid)
            cred = self._cred(pid)
            if not cred.present:
                out[pid] = Listing(pid, curated, "curated", "no credential: curated list")
                continue
            key, endpoint = self._key(pid, cred)
            rec = self.cache.get(key)
            state = policy.freshness(rec.get("checked_at") if rec else None, now, self.ttl)
            if rec is not None:
                entries = policy.merge([ModelEntry.from_dict(e) for e in rec["entries"]], curated)
                out[pid] = Listing(pid, entries, "cache" if state == "fresh" else "stale")
                if state == "stale":
                    stale.append(pid)
                continue
            if self._in_cooldown(pid, cred):
                out[pid] = Listing(pid, curated, "curated", "Ollama unreachable (cooling down): curated list")
                continue
            if fetch_missing:
                jobs.append((pid, cred))
                meta[pid] = (cred, key, endpoint)
            else:
                out[pid] = Listing(pid, curated, "curated", "not fetched yet: curated list")
        for pid, res in self._fetch_many(jobs).items():
            cred, key, endpoint = meta[pid]
            outcome = self._store(pid, cred, key, endpoint, res)
            if outcome.status == "failed":
                out[pid] = Listing(pid, fallback.curated(pid), "curated", f"live list failed ({outcome.message}): curated list")
            else:
                rec = self.cache.get(key)
                live = [ModelEntry.from_dict(e) for e in rec["entries"]] if rec else []
                out[pid] = Listing(pid, policy.merge(live, fallback.curated(pid)), "live")
        if stale:
            self.revalidate(stale)
        return [out[p] for p in ids if p in out]

    def find(self, ref: str) -> ModelEntry | None:
        parsed = split_ref(ref)
        if parsed is None:
            raise UsageError(f"{ref!r} is not PROVIDER:MODEL", "Write it like groq:openai/gpt-oss-120b (see aimo models list).")
        pid, model = parsed
        if pid not in PROVIDERS:
            from ..core.names import did_you_mean

            raise UsageError(f"unknown provider {pid!r} in {ref!r}", did_you_mean(pid, PROVIDER_IDS) + "Valid ids: " + ", ".join(PROVIDER_IDS) + ".")
        for listing in self.listings([pid]):
            for entry in listing.entries:
                if entry.id == model:
                    return entry
        for entry in fallback.curated(pid):
            if entry.id == model:
                return entry
        return None

    def did_you_mean(self, ref: str, kind: str | None = None) -> str:
        """'Did you mean PROVIDER:MODEL? ' for a model the catalog does not have (of `kind` when given; '' when nothing
        is close). Only what is known already: the cached or curated lists, no new request (the cache keeps only
        well-formed ids of a provider's list: catalog/cache.py)."""
        from ..core.names import did_you_mean

        parsed = split_ref(ref)
        if parsed is None or parsed[0] not in PROVIDERS:
            return ""
        pid, model = parsed
        entries = [e for listing in self.listings([pid], fetch_missing=False) for e in listing.entries] + list(fallback.curated(pid))
        ids = [e.id for e in entries if kind is None or e.kind == kind]
        return did_you_mean(model, ids, template=f"{pid}:{{}}")


def list_models(ctx, *, kind: str | None = None, provider: str | None = None, include_all: bool = False, catalog: Catalog | None = None) -> tuple[list[ModelEntry], list[Listing], list[str]]:
    """Entries to show, the per-provider listings, and the provider ids considered."""
    from .verify import connected

    if kind not in (None, "text", "image"):
        raise UsageError(f"unknown model type {kind!r}", "Use --type text or --type image.")
    if provider is not None:
        from .credentials import provider_info

        ids = [provider_info(provider).id]
        if not include_all and ids[0] not in connected(ctx, ids):
            ids = []
    else:
        ids = list(PROVIDER_IDS) if include_all else connected(ctx)
    cat = catalog or Catalog(ctx)
    try:
        listings = cat.listings(ids) if ids else []
    finally:
        if catalog is None:
            cat.close()
    entries = [e for listing in listings for e in listing.entries if kind is None or e.kind == kind]
    return entries, listings, ids
