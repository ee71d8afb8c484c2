"""Where aimo keeps its files: XDG on Linux and BSD, the platform's own folders elsewhere. Every path can be overridden."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "aimo"


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def _xdg(var: str, default: Path) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value) if value and os.path.isabs(value) else default


def config_dir() -> Path:
    if sys.platform == "darwin" and "XDG_CONFIG_HOME" not in os.environ:
        return _home() / "Library" / "Application Support" / APP
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", _home())) / APP
    return _xdg("XDG_CONFIG_HOME", _home() / ".config") / APP


def data_dir() -> Path:
    if sys.platform == "darwin" and "XDG_DATA_HOME" not in os.environ:
        return _home() / "Library" / "Application Support" / APP
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", _home())) / APP
    return _xdg("XDG_DATA_HOME", _home() / ".local" / "share") / APP


def state_dir() -> Path:
    if sys.platform == "darwin" and "XDG_STATE_HOME" not in os.environ:
        return _home() / "Library" / "Application Support" / APP / "state"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", _home())) / APP / "state"
    return _xdg("XDG_STATE_HOME", _home() / ".local" / "state") / APP


def cache_dir() -> Path:
    if sys.platform == "darwin" and "XDG_CACHE_HOME" not in os.environ:
        return _home() / "Library" / "Caches" / APP
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", _home())) / APP / "cache"
    return _xdg("XDG_CACHE_HOME", _home() / ".cache") / APP


def settings_path(override: str | None = None) -> Path:
    """--config beats AIMO_CONFIG beats the platform default."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("AIMO_CONFIG", "").strip()
    if env:
        return Path(env).expanduser()
    return config_dir() / "aimo.toml"


def secrets_file() -> Path:
    env = os.environ.get("AIMO_SECRETS_FILE", "").strip()
    return Path(env).expanduser() if env else data_dir() / "secrets.json"
