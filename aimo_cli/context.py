"""AppContext: global options, streams, and the factories every service gets its dependencies from (gh's Factory).

Services never build their own clients: `ctx.wordpress(site)` gives a WordPress REST client, `ctx.adapter(provider,
credential)` a provider adapter, `ctx.env` the environment, `ctx.clock` the time and the sleep, `ctx.transport`
the httpx transport under every HTTP request aimo makes (None: the network). Tests inject these — an
`httpx.MockTransport`, a fake clock, an environment — through `Dependencies` (`app.run(argv, deps=…)`), instead of
replacing module attributes.

Nothing heavy is imported here; stores and clients are built on first use.
"""

from __future__ import annotations

import functools
import os
import time as _time
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping

from . import paths
from .core.records import record
from .redact import redact
from .ui.output import Output


@record
class Options:
    config: str | None = None
    debug: bool = False
    ca_bundle: str | None = None
    quiet: bool = False
    timeout: float | None = None


@record(frozen=True)
class Clock:
    """Wall time (timestamps, freshness), monotonic time (durations) and sleep (retry back-off)."""

    time: Callable[[], float] = _time.time
    monotonic: Callable[[], float] = _time.monotonic
    sleep: Callable[[float], None] = _time.sleep


@record(frozen=True)
class Dependencies:
    """What a caller (a test, an embedding program) may inject; None keeps the real one."""

    env: Mapping[str, str] | None = None
    clock: Clock | None = None
    transport: Any = None  # an httpx.BaseTransport for WordPress sites, site discovery and AI providers


class AppContext:
    def __init__(self, options: Options | None = None, out: Output | None = None, *, deps: Dependencies | None = None) -> None:
        deps = deps or Dependencies()
        self.options = options or Options()
        self.out = out or Output(quiet=self.options.quiet)
        self.env: Mapping[str, str] = os.environ if deps.env is None else deps.env
        self.clock: Clock = deps.clock or Clock()
        self.transport = deps.transport

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
        bundle = self.options.ca_bundle or self._env_ca_bundle or site_ca_bundle
        return bundle or True

    def http_timeout(self, default: float | None = None) -> float | None:
        """Seconds to wait for a WordPress answer: --timeout beats AIMO_HTTP_TIMEOUT beats the caller's default."""
        if self.options.timeout:
            return float(self.options.timeout)
        return self._env_timeout or default

    # the environment's part of both, read once per context (a command): a fleet asks for every site's client
    @cached_property
    def _env_ca_bundle(self) -> str | None:
        return self.env.get("AIMO_CA_BUNDLE")

    @cached_property
    def _env_timeout(self) -> float | None:
        """AIMO_HTTP_TIMEOUT's seconds (None: unset); a value that is not 0.1 to 3600 seconds is a UsageError (at
        every ask: an error is not kept)."""
        raw = (self.env.get("AIMO_HTTP_TIMEOUT") or "").strip()
        if not raw:
            return None
        from .errors import UsageError

        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not 0.1 <= value <= 3600:
            raise UsageError(f"AIMO_HTTP_TIMEOUT={raw!r} is not a number of seconds between 0.1 and 3600", "e.g. AIMO_HTTP_TIMEOUT=30, or unset it.")
        return value

    def debug_log(self, text: str) -> None:
        if self.options.debug:
            from .ui.sanitize import plain

            self.out.stderr.write("debug: " + plain(redact(text), keep_newlines=True) + "\n")

    # -- clients (the factories services get their dependencies from) ---------------------------------------------
    def wordpress(self, site, *, timeout: float | None = None, password: str | None = None, rest_root: str | None = None, proxies: bool | None = None):
        """A REST client for a configured site, authenticated with its stored application password (or `password`,
        before it is stored: `site add`). Refuses a malformed URL (exit 3) or plain http to a remote host (exit 6).
        `proxies`: whether proxy settings apply, when the caller read them already (tls.env_proxies: a fleet, once)."""
        AuthError, check_transport, credential_origin, site_entry, DEFAULT_TIMEOUT, RestRoot, WordPressClient = _wordpress_parts()
        check_transport(site)
        if password is None:
            password = self.secrets.get(site_entry(site.name))
            if not password:
                raise AuthError(
                    f"no application password is stored for site {site.name}",
                    f"Store it again: aimo site add {site.name} {site.url} --user {site.user}",
                )
        root = RestRoot.parse(rest_root or site.rest_root or site.url.rstrip("/") + "/wp-json/")
        return WordPressClient(
            root,
            site.user,
            password,
            origin=credential_origin(site),  # the application password goes to this origin only
            verify=self.tls_verify(site.ca_bundle),
            debug=self.debug_log if self.options.debug else None,
            timeout=self.http_timeout(timeout) or DEFAULT_TIMEOUT,
            transport=self.transport,
            sleep=self.clock.sleep,
            proxies=proxies,
        )

    def adapter(self, provider_id: str, credential, *, sleep: Callable[[float], None] | None = None, settings=None):
        """A provider adapter using `credential` (the caller resolves it: services.credentials). Close it after use."""
        from .providers import make_adapter

        return make_adapter(self, provider_id, credential=credential, sleep=sleep or self.clock.sleep, settings=settings)


@functools.cache
def _wordpress_parts():
    """What AppContext.wordpress uses, imported on its first call (not at start-up), then at hand: a fleet builds a
    client per site, and each `from … import` in a function costs more than the look-up."""
    from .errors import AuthError
    from .services.sites import check_transport, credential_origin
    from .stores.secrets import site_entry
    from .wordpress.client import DEFAULT_TIMEOUT, RestRoot, WordPressClient

    return AuthError, check_transport, credential_origin, site_entry, DEFAULT_TIMEOUT, RestRoot, WordPressClient
