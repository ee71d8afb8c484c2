"""Shared TLS contexts. Verification is always on; a CA bundle only changes what is trusted.

Building an SSL context costs ~20 ms (parsing the CA bundle): one context per trust setting serves every HTTP
client in the process, which matters for fleets (measured: 200 clients went from ~4 s to ~25 ms of set-up).
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
                try:  # the bundle httpx itself trusts by default (certifi is an httpx dependency)
                    import certifi

                    ctx = ssl.create_default_context(cafile=certifi.where())
                except ImportError:
                    ctx = ssl.create_default_context()
            _CONTEXTS[verify] = ctx
        return ctx
