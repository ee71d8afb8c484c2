"""Point aimo at the fake providers for one test: settings file with base URLs, valid keys in the environment.

The fixtures `fake` and `fake_env` are available to every test through tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakeprovider import MANIFEST, PROVIDERS, FakeProviders


def settings_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def write_settings(fake: FakeProviders, extra: str = "") -> Path:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(fake.settings_toml() + "\n" + extra, encoding="utf-8")
    return path


def env_var(provider: str) -> str:
    """The environment variable aimo reads for a provider (the manifest's env_var)."""
    return MANIFEST[provider].env_var


@pytest.fixture
def fake():
    with FakeProviders() as server:
        yield server


@pytest.fixture
def fake_env(fake, monkeypatch):
    """Every provider configured against the fake with one valid key each (env vars); returns {provider: key}."""
    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    write_settings(fake)
    keys = {}
    for p in PROVIDERS:
        value = fake.base_url(p) if MANIFEST[p].credential == "url" else fake.make_valid_key(p)
        monkeypatch.setenv(env_var(p), value)
        keys[p] = value
    return keys


def context():
    """A fresh AppContext (reads the per-test XDG dirs)."""
    from aimo_cli.context import AppContext

    return AppContext()
