"""Every secret the tests use is made or registered here, so the leak scan (tests/conftest.py) knows what must never
appear in output or in aimo's files.

Two scopes:
- a test's own secrets (`make_key`, `register`): scanned against that test's output and files, then forgotten when the
  test ends. So a test whose secret is not registered cannot pass the scan thanks to another test that happened to
  register the same value first: run alone or in the suite, a test's scan sees exactly its own registrations.
- the run's secrets (`register_session`: the test site's application and login passwords, set up once by a
  session fixture): scanned against every test.

Forgotten is not lost: at the end of the run, every test's output is scanned once more against every secret any test
registered. A hit there is a secret of test A in the output of test B (state leaking between tests, or B using A's
value without registering it) and fails the run too, naming both tests.
"""

from __future__ import annotations

import secrets as _secrets

SESSION_SECRETS: set[str] = set()
TEST_SECRETS: set[str] = set()  # the running test's own; emptied by begin_test()
EVERY_SECRET: dict[str, set[str]] = {}  # every test secret registered during the run -> the tests that registered it
_current = {"test": ""}


def make_key(prefix: str = "sk-test", n: int = 24) -> str:
    """A fresh, recognisable fake key; registered for the running test's leak scan."""
    key = f"{prefix}-{_secrets.token_hex(n // 2)}"
    _add_test(key)
    return key


def register(value: str) -> str:
    """Register a secret of the running test (also without its spaces, as application passwords are accepted)."""
    if value and len(value) >= 8:
        _add_test(value)
        _add_test(value.replace(" ", ""))
    return value


def register_session(value: str) -> str:
    """Register a secret that lives for the whole run (set up by a session-scoped fixture)."""
    if value and len(value) >= 8:
        SESSION_SECRETS.add(value)
        SESSION_SECRETS.add(value.replace(" ", ""))
    return value


def _add_test(value: str) -> None:
    TEST_SECRETS.add(value)
    EVERY_SECRET.setdefault(value, set()).add(_current["test"] or "(outside any test)")


def begin_test(nodeid: str) -> None:
    TEST_SECRETS.clear()
    _current["test"] = nodeid


def end_test() -> None:
    TEST_SECRETS.clear()
    _current["test"] = ""


def current() -> set[str]:
    """What the running test's scan looks for: its own secrets and the run's."""
    return TEST_SECRETS | SESSION_SECRETS


def leaks(text: str) -> list[str]:
    """The running test's secrets (and the run's) found in `text`."""
    return sorted({s for s in current() if s and s in text})


def foreign_leaks(text: str, nodeid: str) -> list[tuple[str, str]]:
    """(secret, a test that registered it) for every secret found in `text` that only other tests registered."""
    return sorted((s, min(owners)) for s, owners in EVERY_SECRET.items() if nodeid not in owners and s in text)
