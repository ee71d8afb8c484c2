"""Redaction of secrets from anything aimo prints or logs.

Every secret aimo reads or receives is registered here; `redact()` replaces each registered value (and anything that
looks like an HTTP Authorization value) with a mask. Output paths (errors, --debug log, tracebacks) pass through it.
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
_AUTH_RE = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer)\s+[A-Za-z0-9._~+/=\-]+")
_MIN_LEN = 6  # shorter values would redact ordinary words; nothing real is that short


def _secret_part(value: str) -> str | None:
    """A server URL (Ollama's credential) is not secret, but a password inside it is."""
    if value.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        try:
            return urlsplit(value).password
        except ValueError:
            return value
    return value


def register(*values: str | None) -> None:
    for value in values:
        value = _secret_part(value) if value else value
        if value and len(value) >= _MIN_LEN:
            _SECRETS.add(value)
            # app passwords are also accepted without their display spaces
            compact = value.replace(" ", "")
            if compact != value and len(compact) >= _MIN_LEN:
                _SECRETS.add(compact)


def redact(text: str) -> str:
    if not text:
        return text
    text = _AUTH_RE.sub(r"\1\2 [redacted]", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "\u2022\u2022\u2022\u2022" + secret[-4:] if len(secret) > 8 else "\u2022\u2022\u2022\u2022")
    return text


def clear() -> None:
    """Forget registered secrets (tests)."""
    _SECRETS.clear()
