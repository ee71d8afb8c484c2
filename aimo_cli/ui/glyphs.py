"""ASCII stand-ins for the few non-ASCII glyphs aimo prints, for terminals and pipes that cannot show them.

`install()` gives stdout and stderr an encoding error handler that writes `****` for `••••`, `->` for `→` and so on
(anything else unencodable becomes `?`), so an ASCII or Latin-1 locale gets readable text instead of a crash.
UTF-8 streams are left alone.
"""

from __future__ import annotations

import codecs
import sys

FALLBACK = {
    "•": "*",
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "…": "...",
    "—": "-",
    "–": "-",
    "✓": "ok",
    "✗": "x",
    "×": "x",
    "≤": "<=",
    "≥": ">=",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "·": "-",
    "⚠": "!",
    "§": "S",
    "↪": "->",
}

HANDLER = "aimo-ascii"


def _replace(exc: UnicodeError):
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(FALLBACK.get(ch, "?") for ch in text), exc.end


def install() -> None:
    try:
        codecs.lookup_error(HANDLER)
    except LookupError:
        codecs.register_error(HANDLER, _replace)
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "•→…".encode(encoding)
            continue  # it can show them
        except (UnicodeEncodeError, LookupError):
            pass
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors=HANDLER)
            except (ValueError, OSError):
                pass
