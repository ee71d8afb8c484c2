"""Every secret the tests use is made here, so the session-end scan knows what must never appear in output."""

from __future__ import annotations

import secrets as _secrets

TEST_SECRETS: set[str] = set()


def make_key(prefix: str = "sk-test", n: int = 24) -> str:
    """A fresh, recognisable fake key; registered for the leak scan."""
    key = f"{prefix}-{_secrets.token_hex(n // 2)}"
    TEST_SECRETS.add(key)
    return key


def register(value: str) -> str:
    if value and len(value) >= 8:
        TEST_SECRETS.add(value)
        TEST_SECRETS.add(value.replace(" ", ""))
    return value


def leaks(text: str) -> list[str]:
    return sorted({s for s in TEST_SECRETS if s and s in text})
