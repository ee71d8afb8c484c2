"""Catalog rules (pure) and the catalog service's cache behaviour with an injectable clock, against the fake."""

from __future__ import annotations

import json

import pytest

from aimo_cli.catalog import fallback, policy
from aimo_cli.core.models import ModelEntry, split_ref
from aimo_cli.services.models import Catalog
from tests.fakeenv import context
from tests.fakeprovider import PROVIDERS


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def E(i, p="groq", **kw):
    return ModelEntry(id=i, provider=p, **kw)


# -- pure rules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("checked, now, expected", [(None, 10, "missing"), (0, 10, "fresh"), (0, policy.DEFAULT_TTL - 1, "fresh"), (0, policy.DEFAULT_TTL, "stale"), (100, 50, "stale")])
def test_freshness(checked, now, expected):
    assert policy.freshness(checked, now) == expected


@pytest.mark.parametrize(
    "old, new, force, ok",
    [(0, 0, False, False), (10, 0, True, False), (0, 3, False, True), (10, 5, False, True), (10, 4, False, False), (10, 4, True, True), (10, 40, False, True)],
)
def test_accept_refresh_never_shrinks(old, new, force, ok):
    assert policy.accept_refresh(old, new, force=force) is ok


def test_merge_enriches_live_with_curated():
    live = [E("llama-3.3-70b-versatile"), E("new-model", context_window=5)]
    curated = [E("llama-3.3-70b-versatile", context_window=131072, deprecation="2026-08-16", successor="openai/gpt-oss-120b", source="curated"), E("gone", source="curated")]
    merged = policy.merge(live, curated)
    assert [m.id for m in merged] == ["llama-3.3-70b-versatile", "new-model"]
    assert merged[0].deprecation == "2026-08-16" and merged[0].successor == "openai/gpt-oss-120b" and merged[0].source == "live"
    assert policy.merge([], curated) == curated


def test_cache_key_varies_by_endpoint_and_key():
    a = policy.cache_key("groq", "https://a", "f1")
    assert a != policy.cache_key("groq", "https://b", "f1") != policy.cache_key("groq", "https://a", "f2")
    assert a.startswith("models:groq:")


def test_split_ref():
    assert split_ref("ollama:llama3.2:latest") == ("ollama", "llama3.2:latest")
    assert split_ref("groq:openai/gpt-oss-120b") == ("groq", "openai/gpt-oss-120b")
    assert split_ref("nocolon") is None and split_ref(":x") is None


def test_curated_data_is_complete_and_dated():
    for p in PROVIDERS:
        entries = fallback.curated(p)
        assert entries, p
        assert fallback.curated_date(p)
        assert all(e.kind in ("text", "image") and e.source == "curated" for e in entries)
        assert len({e.id for e in entries}) == len(entries)
    groq = {e.id: e for e in fallback.curated("groq")}
    assert groq["llama-3.3-70b-versatile"].deprecation.startswith("2026-08")
    assert groq["llama-3.1-8b-instant"].deprecation.startswith("2026-08") and groq["llama-3.1-8b-instant"].successor
    assert any(e.kind == "image" for e in fallback.curated("openai"))


# -- the service against the fake ----------------------------------------------------------------------------------


def make_catalog(clock, revalidated=None, **kw):
    return Catalog(context(), clock=clock, revalidate=(revalidated.extend if revalidated is not None else lambda ids: None), sleep=lambda s: None, **kw)


def test_ttl_and_stale_while_revalidate(fake_env, fake):
    clock, revalidated = Clock(), []
    cat = make_catalog(clock, revalidated)
    (first,) = cat.listings(["groq"])
    assert first.source == "live" and len(fake.requests_for("groq", "/v1/models")) == 1
    clock.now += policy.DEFAULT_TTL - 60
    (again,) = cat.listings(["groq"])
    assert again.source == "cache" and len(fake.requests_for("groq", "/v1/models")) == 1 and revalidated == []
    clock.now += 120
    (stale,) = cat.listings(["groq"])
    # served without waiting for the provider: not asked at all here, the refresh is handed to the revalidator
    assert len(fake.requests_for("groq", "/v1/models")) == 1
    assert stale.source == "stale" and [e.id for e in stale.entries] == [e.id for e in first.entries]
    assert revalidated == ["groq"]
    cat.close()


def test_refresh_never_replaces_with_empty_or_much_smaller(fake_env, fake):
    clock = Clock()
    cat = make_catalog(clock)
    (out,) = cat.refresh(["anthropic"])
    assert out.status == "updated" and out.count == 9
    fake.models["anthropic"] = []
    (out,) = cat.refresh(["anthropic"])
    assert out.status == "kept" and out.count == 9
    fake.models["anthropic"] = fake.models["openai"][:2]
    (out,) = cat.refresh(["anthropic"])
    assert out.status == "kept"
    (listing,) = cat.listings(["anthropic"])
    assert len(listing.entries) == 9
    (out,) = cat.refresh(["anthropic"], force=True)
    assert out.status == "updated" and out.count == 2
    cat.close()


def test_failed_fetch_keeps_cache_and_falls_back_to_curated(fake_env, fake):
    clock = Clock()
    cat = make_catalog(clock)
    fake.fail_next("xai", 500, {"error": "down"}, times=10)
    (listing,) = cat.listings(["xai"])
    assert listing.source == "curated" and "live list failed" in listing.note
    assert {e.id for e in listing.entries} == {e.id for e in fallback.curated("xai")}
    fake.clear()
    cat.refresh(["xai"])
    fake.fail_next("xai", 500, {"error": "down"}, times=10)
    (out,) = cat.refresh(["xai"])
    assert out.status == "failed" and out.count == 4
    (listing,) = cat.listings(["xai"])
    assert listing.source == "cache" and len(listing.entries) == 4
    cat.close()


def test_ollama_cooldown(fake_env, fake):
    clock = Clock()
    cat = make_catalog(clock)
    fake.down("ollama")
    (out,) = cat.refresh(["ollama"])
    assert out.status == "failed"
    n = len(fake.requests_for("ollama"))
    (listing,) = cat.listings(["ollama"])
    (out,) = cat.refresh(["ollama"])
    assert out.status == "cooldown" and listing.source == "curated" and "cooling down" in listing.note
    assert len(fake.requests_for("ollama")) == n  # nobody waited on it
    fake.up("ollama")
    clock.now += policy.OLLAMA_COOLDOWN + 1
    (out,) = cat.refresh(["ollama"])
    assert out.status == "updated"
    cat.close()


def test_cache_is_keyed_by_key_fingerprint(fake_env, fake, monkeypatch):
    clock = Clock()
    cat = make_catalog(clock)
    cat.listings(["groq"])
    monkeypatch.setenv("GROQ_API_KEY", fake.make_valid_key("groq"))
    (listing,) = cat.listings(["groq"])
    assert listing.source == "live" and len(fake.requests_for("groq", "/v1/models")) == 2
    cat.close()


def test_providers_are_fetched_concurrently(fake_env, fake):
    import time

    for p in PROVIDERS:
        fake.delay(p, 0.3)
    cat = make_catalog(Clock())
    t = time.monotonic()
    outcomes = cat.refresh()
    elapsed = time.monotonic() - t
    assert [o.status for o in outcomes] == ["updated"] * 10
    assert elapsed < 1.5, elapsed
    cat.close()


def test_completion_index_is_written(fake_env, fake):
    cat = make_catalog(Clock())
    cat.refresh(["groq", "ollama"])
    cat.close()
    index = (context().cache_dir / "completion-models.txt").read_text().splitlines()
    assert "groq:openai/gpt-oss-120b" in index and "ollama:llama3.2:latest" in index
    assert index == sorted(index) and not any(line.startswith("openai:") for line in index)


def test_find(fake_env, fake):
    cat = make_catalog(Clock())
    assert cat.find("groq:llama-3.3-70b-versatile").deprecation == "2026-08-16"
    assert cat.find("groq:no-such-model") is None
    cat.close()


def test_progress_bar_only_on_a_tty():
    import io

    from aimo_cli.ui.output import Output
    from aimo_cli.ui.progress import provider_progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    with provider_progress(Output(stderr=io.StringIO()), 10, "x") as advance:
        assert advance is None
    tty = Tty()
    with provider_progress(Output(stderr=tty), 10, "Fetching") as advance:
        assert callable(advance)
        advance("groq")
    with provider_progress(Output(stderr=Tty(), quiet=True), 10, "x") as advance:
        assert advance is None


def test_background_refresh_spawns_a_detached_refresh(monkeypatch):
    from aimo_cli.services import models as svc

    calls = []
    monkeypatch.setattr(svc.subprocess, "Popen", lambda args, **kw: calls.append((args, kw)))
    monkeypatch.delenv("AIMO_BACKGROUND_REFRESH", raising=False)
    svc.spawn_background_refresh(context(), ["groq", "xai"])
    (args, kw), = calls
    assert args[-4:] == ["models", "refresh", "groq", "xai"] and kw["start_new_session"] is True
    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    svc.spawn_background_refresh(context(), ["groq"])
    assert len(calls) == 1


def test_retired_models_are_flagged_and_kept_out_of_completion(tmp_path):
    """Issue 16 item 6: a model whose retirement date has passed is said to be retired and is never offered on TAB."""
    from aimo_cli.catalog.cache import INDEX_NAME, CatalogCache
    from aimo_cli.core.models import ModelEntry

    gone = ModelEntry("llama-old", "groq", deprecation="2020-01-01", successor="openai/gpt-oss-120b")
    later = ModelEntry("llama-later", "groq", deprecation="2999-01-01")
    live = ModelEntry("openai/gpt-oss-120b", "groq")
    assert gone.retired("2026-11-29") and not later.retired("2026-11-29") and not live.retired("2026-11-29")
    cache = CatalogCache(tmp_path)
    try:
        cache.put("models:groq", "groq", "https://api.groq.com/openai/v1", [gone, later, live], now=1.0)
        cache.write_index()
    finally:
        cache.close()
    index = (tmp_path / INDEX_NAME).read_text().split()
    assert "groq:openai/gpt-oss-120b" in index and "groq:llama-later" in index
    assert "groq:llama-old" not in index


def test_models_show_and_list_say_retired():
    from .clihelper import run_cli

    r = run_cli(["models", "show", "groq:llama-3.3-70b-versatile"])  # curated: retired 2026-08-16
    assert r.code == 0 and "retired:" in r.out and "no longer serves it" in r.out
    r = run_cli(["models", "show", "groq:llama-3.3-70b-versatile", "--json"])
    assert json.loads(r.out)["model"]["retired"] is True
    r = run_cli(["models", "list", "--all", "--provider", "groq", "--json"])
    rows = {m["id"]: m for m in json.loads(r.out)["models"]}
    assert rows["llama-3.3-70b-versatile"]["retired"] is True and rows["openai/gpt-oss-120b"]["retired"] is False
