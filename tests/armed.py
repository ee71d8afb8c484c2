"""Every fault a test arms must fire (like an unused HTTP stub failing a test): an armed fault that nothing hit means
the test did not exercise what it claims to.

tests/faultproxy.py and tests/fakeprovider.py call `arm(...)` for each knob (a canned answer, a delay, a dropped
connection, a provider taken down, a callback before request N) and `Armed.fire()` when a request meets it. After each
test that passed, tests/conftest.py fails the test if any fault armed during it never fired, naming the fault:

    FAILED test_x - 1 armed fault never fired: fake groq: answer HTTP 503 (times=10)

`fake.clear()` and `proxy.reset()` take the knobs away but do not forget them: a knob that was cleared before it
fired still fails the test. A test that arms something which may legitimately not be reached calls `.disarm()` on what
the knob returned, and should say why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

_LOCK = threading.Lock()
_PENDING: list["Armed"] = []


@dataclass(eq=False)
class Armed:
    what: str
    fired: int = 0
    _done: bool = field(default=False, repr=False)

    def fire(self) -> None:
        with _LOCK:
            self.fired += 1

    def disarm(self) -> None:
        """Forget this fault without checking it (the test checked what it needed some other way)."""
        with _LOCK:
            self._done = True


def arm(what: str) -> Armed:
    armed = Armed(what)
    with _LOCK:
        _PENDING.append(armed)
    return armed


def unfired() -> list[str]:
    """The faults armed since the last `reset()` that never fired (and were not disarmed)."""
    with _LOCK:
        return [a.what for a in _PENDING if not a.fired and not a._done]


def reset() -> None:
    with _LOCK:
        _PENDING.clear()
