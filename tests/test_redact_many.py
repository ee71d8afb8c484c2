"""Redaction with many secrets over a big text (a fleet's document: a site password each): the one-pass search finds
exactly what searching for every secret one after another finds, however the secrets sit in the text."""

from __future__ import annotations

import random
import string

from aimo_cli import redact

from .secrets_registry import register

BULLETS = "\u2022" * 4


def _one_by_one(text: str, secrets: set[str]) -> str:
    """What redact() did before: every secret searched for in the whole text, the longest first."""
    text = redact._AUTH_RE.sub(r"\1\2 [redacted]", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, BULLETS + secret[-4:] if len(secret) > 8 else BULLETS)
    return text


def test_a_big_text_with_many_secrets_is_redacted_as_by_searching_each(monkeypatch):
    monkeypatch.setattr(redact, "_SECRETS", set())
    rnd = random.Random(17)
    chars = string.ascii_letters + string.digits
    passwords = [" ".join("".join(rnd.choice(chars) for _ in range(4)) for _ in range(6)) for _ in range(300)]
    keys = ["sk-" + "".join(rnd.choice(chars) for _ in range(32)) for _ in range(50)]
    odd = ["abcdef", "ab cd ef gh", "x\u2022\u2022\u2022\u2022wxyz", "tab\tsecret1", "a b c d e f", "gsk_" + "Q" * 40]
    for value in passwords + keys + odd:
        redact.register(register(value))
    filler = '{"site": "s%03d", "reason": "nothing to do", "url": "https://s%03d.example"}\n'
    for trial in range(8):
        parts = []
        for i in range(900):
            parts.append(filler % (i, i))
            if rnd.random() < 0.05:
                secret = rnd.choice(sorted(redact._SECRETS))
                parts.append(rnd.choice(['"', " ", "x", "\n", "\u00e9", ""]) + secret + rnd.choice(['"', " ", "y", ""]))
        text = "".join(parts) + "Authorization: Basic c2VjcmV0\n"
        assert len(text) >= redact._SCAN_BELOW  # the one-pass path
        assert redact.redact(text) == _one_by_one(text, redact._SECRETS), trial
    shown = redact.redact("".join(filler % (i, i) for i in range(900)) + passwords[7] + " " + keys[3])
    assert passwords[7] not in shown and passwords[7].replace(" ", "") not in shown and keys[3] not in shown
    assert shown.endswith(BULLETS + passwords[7][-4:] + " " + BULLETS + keys[3][-4:])


def test_a_shorter_text_with_very_many_secrets_takes_the_one_pass_search(monkeypatch):
    """A text under _SCAN_BELOW with so many secrets that searching for each would read it thousands of times (a
    fleet share's site items): the one-pass search, with the same result as searching for each."""
    monkeypatch.setattr(redact, "_SECRETS", set())
    rnd = random.Random(5)
    chars = string.ascii_letters + string.digits
    passwords = [" ".join("".join(rnd.choice(chars) for _ in range(4)) for _ in range(6)) for _ in range(2000)]
    for value in passwords:
        redact.register(register(value))
    text = "".join(f'{{"site": "s{i:04d}", "via_bridge": true, "requests": 1, "exit_code": 0}}\n' for i in range(400)) + passwords[1234] + "\n"
    assert len(text) < redact._SCAN_BELOW and len(text) * len(redact._SECRETS) >= redact._SCAN_WORK
    calls = []
    present = redact._present
    monkeypatch.setattr(redact, "_present", lambda t: calls.append(t) or present(t))
    assert redact.redact(text) == _one_by_one(text, redact._SECRETS)
    assert calls == [text] and passwords[1234] not in redact.redact(text)
    # more than _MANY secrets: every text, however short (a fleet table's cells), the one-pass search, same result
    for short in ("a short line", passwords[7], f"key {passwords[9].replace(' ', '')}.", "tiny"):
        assert redact.redact(short) == _one_by_one(short, redact._SECRETS)
    assert len(calls) == 6 and passwords[7] not in redact.redact(passwords[7])
    monkeypatch.setattr(redact, "_SECRETS", set(list(redact._SECRETS)[:40]))  # few secrets: one by one
    before = len(calls)
    assert redact.redact("a short line " + next(iter(redact._SECRETS))) == _one_by_one("a short line " + next(iter(redact._SECRETS)), redact._SECRETS)
    assert len(calls) == before


def test_a_secret_registered_later_is_found_too(monkeypatch):
    monkeypatch.setattr(redact, "_SECRETS", set())
    for i in range(20):
        redact.register(register(f"first-secret-{i:04d}"))
    big = "x " * 40_000
    assert redact.redact(big + "first-secret-0003") == big + BULLETS + "0003"
    late = register("a-late-secret-9876")
    redact.register(late)  # the anchor index is rebuilt
    assert redact.redact(big + late) == big + BULLETS + "9876"
