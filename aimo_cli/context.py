"""AppContext: global options, streams and lazy factories shared by every command.

Nothing heavy is imported here; stores and clients are built on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import paths
from .redact import redact
from .ui.output import Output


@dataclass
class Options:
    config: str | None = None
    debug: bool = False
    ca_bundle: str | None = None
    quiet: bool = False
    timeout: float | None = None


class AppContext:
    def __init__(self, options: Options | None = None, out: Output | None = None) -> None:
        self.options = options or Options()
        self.out = out or Output(quiet=self.options.quiet)

    # -- paths ---------------------------------------------------------------------------------------------------
    @cached_property
    def settings_path(self) -> Path:
        return paths.settings_path(self.options.config)

    @cached_property
    def secrets_path(self) -> Path:
        return paths.secrets_file()

    @cached_property
    def state_dir(self) -> Path:
        return paths.state_dir()

    @cached_property
    def cache_dir(self) -> Path:
        return paths.cache_dir()

    # -- stores --------------------------------------------------------------------------------------------------
    @cached_property
    def settings_store(self):
        from .stores.settings import SettingsStore

        return SettingsStore(self.settings_path)

    def settings(self):
        """The settings as they are on disk now (re-read each call: another process may have changed them)."""
        return self.settings_store.load()

    @cached_property
    def secrets(self):
        from .stores.secrets import SecretStore, open_backend

        return SecretStore(open_backend(self.secrets_path, notice=self.out.info))

    # -- network -------------------------------------------------------------------------------------------------
    def tls_verify(self, site_ca_bundle: str | None = None) -> bool | str:
        """TLS verification is always on; a CA bundle (flag, env or site setting) only changes what is trusted."""
        bundle = self.options.ca_bundle or os.environ.get("AIMO_CA_BUNDLE") or site_ca_bundle
        return bundle or True

    def http_timeout(self, default: float | None = None) -> float | None:
        """Seconds to wait for a WordPress answer: --timeout beats AIMO_HTTP_TIMEOUT beats the caller's default."""
        if self.options.timeout:
            return float(self.options.timeout)
        raw = os.environ.get("AIMO_HTTP_TIMEOUT", "").strip()
        if raw:
            from .errors import UsageError

            try:
                value = float(raw)
            except ValueError:
                value = 0.0
            if not 0.1 <= value <= 3600:
                raise UsageError(f"AIMO_HTTP_TIMEOUT={raw!r} is not a number of seconds between 0.1 and 3600", "e.g. AIMO_HTTP_TIMEOUT=30, or unset it.")
            return value
        return default

    def debug_log(self, text: str) -> None:
        if self.options.debug:
            from .ui.sanitize import plain

            self.out.stderr.write("debug: " + plain(redact(text), keep_newlines=True) + "\n")
