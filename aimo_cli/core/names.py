"""Names typed on the command line that match nothing: the closest known ones ("did you mean"). Pure: stdlib only."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to `word` (best first; at most n), compared case-insensitively."""
    names = list(dict.fromkeys(known))
    lowered = {name.lower(): name for name in names}
    typed = (word or "").strip().lower()
    if not typed or not names:
        return []
    found = difflib.get_close_matches(typed, list(lowered), n=n, cutoff=0.6)
    # a prefix typed in full ("open" for openai) is as good a hint as a typo
    found += [k for k in lowered if k.startswith(typed) and len(typed) >= 3 and k not in found]
    return [lowered[k] for k in found[:n]]


def did_you_mean(word: str, known: Iterable[str], template: str = "{}") -> str:
    """'Did you mean X? ' (or 'Did you mean X or Y? '), each name put into `template`; '' when nothing is close."""
    found = closest(word, known)
    if not found:
        return ""
    shown = [template.format(name) for name in found]
    return "Did you mean " + (shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]) + "? "
