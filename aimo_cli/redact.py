"""Redaction of secrets from anything aimo prints or logs.

Every secret aimo reads or receives is registered here; `redact()` replaces each registered value (and anything that
looks like an HTTP Authorization value) with a mask. Output paths (errors, --debug log, tracebacks) pass through it.
"""

from __future__ import annotations

import re
import threading

_SECRETS: set[str] = set()
_LOCK = threading.Lock()  # fleet threads register site passwords while others print
_VERSION = 0  # bumped by every change of _SECRETS: the anchor index below is rebuilt after one
_INDEX: tuple[tuple, dict[int, dict[str, list[str]]], list[str]] | None = None
# a text is searched for every secret, one after another, unless it is long (_SCAN_BELOW), the secrets are many
# (_MANY: a fleet's table redacts each of its cells), or they are many for its length (each search reads the whole
# text: _SCAN_WORK characters read in all, ~5 ms; a fleet's share of site items, 500 x 115 characters with 2,000
# secrets, is 115 million): then the one-pass search (_present)
_SCAN_BELOW = 64 * 1024
_SCAN_WORK = 16 * 1024 * 1024
_MANY = 64
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
    global _VERSION
    new = []
    for value in values:
        value = _secret_part(value) if value else value
        if value and len(value) >= _MIN_LEN:
            new.append(value)
            compact = value.replace(" ", "")  # app passwords are also accepted without their display spaces
            if compact != value and len(compact) >= _MIN_LEN:
                new.append(compact)
    if new:
        with _LOCK:  # (once for all: a fleet registers a password per site at once)
            if not _SECRETS.issuperset(new):
                _SECRETS.update(new)
                _VERSION += 1


def redact(text: str) -> str:
    if not text:
        return text
    if "uthor" in text.lower():  # the pattern's letters, lower-cased as re's IGNORECASE does: a 1.5 MB text costs 2 ms, not 100
        text = _AUTH_RE.sub(r"\1\2 [redacted]", text)
    secrets = _longest_first()
    if len(secrets) > _MANY or (len(secrets) > 8 and (len(text) >= _SCAN_BELOW or len(text) * len(secrets) >= _SCAN_WORK)):
        # a big document (a fleet's), or many secrets (a site password each): search once
        secrets = sorted(_present(text), key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "\u2022\u2022\u2022\u2022" + secret[-4:] if len(secret) > 8 else "\u2022\u2022\u2022\u2022")
    return text


_ORDERED: tuple[tuple, list[str]] = ((), [])


def _stamp() -> tuple:
    """Which set of secrets is registered now (under _LOCK): what is worked out from them is kept until it changes
    (the set itself may be another: a test swaps it)."""
    return (_VERSION, id(_SECRETS), len(_SECRETS))


def _longest_first() -> list[str]:
    """The secrets, the longest first (a secret inside a longer one is masked with it), sorted once per set."""
    global _ORDERED
    with _LOCK:
        stamp = _stamp()
        if _ORDERED[0] != stamp:
            _ORDERED = (stamp, sorted(_SECRETS, key=len, reverse=True))
        return _ORDERED[1]


_HELD: dict[tuple, bool] = {}


def held_by_secret(chars: str) -> bool:
    """Whether a registered secret holds one of `chars` (asked once per set of secrets: a fleet's rendering asks it
    once per process)."""
    with _LOCK:
        key = (*_stamp(), chars)
        held = _HELD.get(key)
        if held is None:
            if len(_HELD) > 16:
                _HELD.clear()
            held = _HELD[key] = any(c in secret for secret in _SECRETS for c in chars)
        return held


def _present(text: str) -> list[str]:
    """The secrets that may occur in `text`, found in one pass instead of one search of the whole text per secret
    (1,000 site passwords x a 1.5 MB fleet document took seconds): each secret has an anchor, a piece of it without
    white space (4 to 8 characters), which lies within one white-space-delimited word of any text holding the secret;
    every window of the text's distinct words is looked up among the anchors. A secret without such a piece, or with
    the mask's bullet (a mask written over another secret could complete it), is searched for in full."""
    _, anchors, always = _index()
    found = set(s for s in always if s in text)
    words = _words(text)
    for size, table in anchors.items():
        for word in words:
            for i in range(len(word) - size + 1):
                hit = table.get(word[i : i + size])
                if hit is not None:
                    found.update(hit)
    return list(found)


_HEAD_WORDS = 8


def _words(text: str) -> set[str]:
    """set(text.split()), for a text of many lines that differ in their first few words and repeat the rest (a fleet
    document: each site's item on a line, its name and counts first): each line's first _HEAD_WORDS words, and the
    words of each distinct rest of a line, split once. The same words: a line ends at white space, and a rest starts
    right after white space."""
    words: set[str] = set()
    rests: set[str] = set()
    for line in text.split("\n"):
        parts = line.split(None, _HEAD_WORDS)
        if len(parts) > _HEAD_WORDS:
            rests.add(parts.pop())
        words.update(parts)
    for rest in rests:
        words.update(rest.split())
    return words


def _index() -> tuple[tuple, dict[int, dict[str, list[str]]], list[str]]:
    global _INDEX
    with _LOCK:
        stamp = _stamp()
        if _INDEX is not None and _INDEX[0] == stamp:
            return _INDEX
        anchors: dict[int, dict[str, list[str]]] = {}
        always: list[str] = []
        for secret in _SECRETS:
            piece = max(secret.split(), key=len, default="")
            if len(piece) < 4 or "\u2022" in secret:
                always.append(secret)
                continue
            size = min(len(piece), 8)
            anchors.setdefault(size, {}).setdefault(piece[:size], []).append(secret)
        _INDEX = (stamp, anchors, always)
        return _INDEX


def clear() -> None:
    """Forget registered secrets (tests)."""
    global _VERSION
    with _LOCK:
        _SECRETS.clear()
        _VERSION += 1
