"""Writes that have been sent and not yet answered, so an interrupt can say which may have been applied.

Pure bookkeeping (stdlib only, thread-safe): the WordPress client marks a write before sending it and clears the mark
when the answer arrives; the SIGINT handler in __main__ reports whatever is still marked.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_pending: dict[int, str] = {}
_next = 0


@contextmanager
def write(label: str) -> Iterator[None]:
    """Mark `label` (e.g. "POST /wp/v2/settings on blog") as sent until the block ends."""
    global _next
    with _lock:
        _next += 1
        token = _next
        _pending[token] = label
    try:
        yield
    finally:
        with _lock:
            _pending.pop(token, None)


def pending() -> list[str]:
    with _lock:
        return list(_pending.values())


_at_interrupt: list[str] = []


def interrupted() -> None:
    """Remember what was in flight when Ctrl-C came (the unwinding that follows clears the live marks)."""
    _at_interrupt[:] = pending()


def interrupt_report() -> str:
    """The lines printed on Ctrl-C: "Interrupted." and every write that was sent and may have been applied."""
    lines = ["Interrupted."]
    lines += [f"Sent before the interrupt, may have been applied: {label}" for label in _at_interrupt]
    if _at_interrupt:
        lines.append("Hint: see where things are with aimo sync status before retrying.")
    return "\n".join(lines) + "\n"
