"""Shared TLS contexts. Verification is always on; a CA bundle only changes what is trusted.

Building an SSL context costs ~20 ms (parsing the CA bundle): one context per trust setting serves every HTTP
client in the process, which matters for fleets (measured: 200 clients went from ~4 s to ~25 ms of set-up). The
default bundle is parsed on the first TLS handshake only, so plain-http loopback sites and providers never pay for it.
"""

from __future__ import annotations

import os
import threading

from .errors import ConfigError

_CONTEXTS: dict = {}
_LOCK = threading.Lock()


def ssl_context(verify: bool | str):
    if verify is False:  # only tests pass False; no command offers it
        return False
    with _LOCK:
        ctx = _CONTEXTS.get(verify)
        if ctx is None:
            import ssl

            if isinstance(verify, str):
                if not os.path.exists(verify):
                    raise ConfigError(f"the CA bundle {verify} does not exist", "Give a PEM file (or directory) with --ca-bundle or AIMO_CA_BUNDLE.")
                try:
                    ctx = ssl.create_default_context(capath=verify) if os.path.isdir(verify) else ssl.create_default_context(cafile=verify)
                except (ssl.SSLError, OSError) as exc:
                    raise ConfigError(f"the CA bundle {verify} cannot be used: {exc}", "Give a PEM file of CA certificates.") from None
            else:
                ctx = _default_trust()
            _CONTEXTS[verify] = ctx
        return ctx


def _default_trust():
    """The default trust (certifi's bundle, as httpx uses), loaded on the first TLS handshake instead of when a client is
    built: a client of a plain-http site (a loopback development site, a local Ollama or fake provider) never pays for
    parsing the bundle (14 ms idle, far more on a loaded machine). Verification is unchanged: the context requires a
    certificate and checks host names from the start, and the bundle is loaded before any handshake; were it missing,
    a handshake would fail, never pass."""
    import ssl

    class DefaultTrust(ssl.SSLContext):
        _loaded = False

        def _load(self) -> None:
            with _LOCK:
                if self._loaded:
                    return
                try:  # the bundle httpx itself trusts by default (certifi is an httpx dependency)
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                except ImportError:
                    self.load_default_certs(ssl.Purpose.SERVER_AUTH)
                self._loaded = True

        def wrap_socket(self, *args, **kwargs):
            self._load()
            return super().wrap_socket(*args, **kwargs)

        def wrap_bio(self, *args, **kwargs):
            self._load()
            return super().wrap_bio(*args, **kwargs)

    ctx = DefaultTrust(ssl.PROTOCOL_TLS_CLIENT)  # what ssl.create_default_context() starts from
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    return ctx


_PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def env_proxies() -> bool:
    """Whether a client must read the proxy settings (httpx's trust_env). httpx reads them again for every client it
    builds by walking the whole environment (~0.1 ms; a fleet builds one client per site). On Linux they are only the
    *_proxy variables, so a client built with trust_env=False while none is set behaves the same (aimo passes its own
    SSL context, so SSL_CERT_FILE/DIR are not read either way). Elsewhere urllib also reads the OS proxy settings:
    always trust them there."""
    import sys

    return not sys.platform.startswith("linux") or any(os.environ.get(name) for name in _PROXY_VARS)
