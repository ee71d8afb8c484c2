"""The one output sanitiser: text that came from outside is shown as plain, inert text.

A site, a provider catalogue or another plugin can put anything in a string aimo prints (a model id, a WordPress
error message, a user slug, a connector name). `plain()` replaces every character a terminal would act on — C0
controls (ESC, BEL, CR, backspace…), DEL, C1 controls (U+0080–U+009F, e.g. the one-byte CSI U+009B) and the Unicode
bidi overrides/isolates — with a visible escape (`\\x1b`, `\\u202e`), so colours, OSC 8 hyperlinks, OSC 52 clipboard
writes, cursor moves and reordered text cannot happen. Rich markup is never interpreted in data: renderers hand
Rich `Text` objects (see `rich_text`). `json_safe()` keeps `--json` lossless while escaping the same characters as
JSON `\\uXXXX` escapes. Pure: stdlib only (Rich is imported by `rich_text` alone).
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029]")
_UNSAFE_LINES = re.compile("[\x00-\x09\x0a-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f" + _BIDI + "\u2028\u2029]")


def _escape(m: re.Match) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: object, *, keep_newlines: bool = False) -> str:
    """`text` with every terminal-active character replaced by a visible escape.

    Single-line by default (table cells, ids, names: a newline or tab becomes `\\x0a` / `\\x09`); messages keep their
    line breaks and tabs with `keep_newlines=True` (a carriage return is always escaped: it would overwrite the line).
    """
    s = "" if text is None else str(text)
    if keep_newlines:
        return _UNSAFE.sub(_escape, s)
    return _UNSAFE_LINES.sub(_escape, s)


def is_clean(text: str) -> bool:
    """No terminal-active character and no line break: usable as an identifier (model id, provider id)."""
    return not _UNSAFE_LINES.search(text)


def is_inert(text: str) -> bool:
    """Nothing in `text` a terminal would act on (line breaks and tabs allowed)."""
    return not _UNSAFE.search(text)


def json_safe(dumped: str) -> str:
    """A JSON document with C1 controls, DEL and bidi characters written as `\\uXXXX` (same value, inert on a terminal).

    `json.dumps` already escapes C0 controls; these can only occur inside strings, so replacing them everywhere is safe.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


def rich_text(text: object, style: str = ""):
    """A Rich `Text` holding `plain(text)`: never parsed as markup."""
    from rich.text import Text

    return Text(plain(text), style=style)
