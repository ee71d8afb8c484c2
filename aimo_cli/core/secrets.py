"""Pure helpers for secret values: pools, masks, fingerprints, WordPress masks.

Nothing here prints or stores a secret; these functions exist so nothing else has to look at one.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from .providers import PROVIDERS
from .records import record

BULLET = "\u2022"


def parse_pool(text: str) -> list[str]:
    """Split a credential pool: one value per line, surrounding whitespace trimmed, blank lines dropped."""
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def mask(value: str | None) -> str:
    """Our display mask: four bullets and the last 4 characters (nothing of a short value)."""
    if not value:
        return ""
    if len(value) <= 8:
        return BULLET * 4
    return BULLET * 4 + value[-4:]


def fingerprint(value: str | None) -> str:
    """A short stable fingerprint of a secret (sha256 prefix), safe to print and to compare."""
    if not value:
        return ""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def wp_mask(value: str) -> str:
    """The mask WordPress 7 returns for a stored connector key (measured on 7.1.4)."""
    if len(value) <= 4:
        return value
    return BULLET * min(len(value) - 4, 16) + value[-4:]


def looks_masked(value: str) -> bool:
    """True when a value contains mask bullets: such a value must never be sent anywhere."""
    return BULLET in value


def mask_tail(value: str) -> str:
    """The clear tail of a WordPress mask ('' for an empty value)."""
    return value.replace(BULLET, "")[-4:] if value else ""


def matches_wp_mask(local: str, remote_mask: str) -> bool:
    """Could `remote_mask` (as WordPress shows it) be the mask of `local`?"""
    return bool(local) and bool(remote_mask) and wp_mask(local) == remote_mask


_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s")


def validate_url(value: str) -> str | None:
    """Return a reason when `value` is not an absolute http(s) URL with a host, else None."""
    if not _URL_RE.match(value):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if not parts.hostname:
        return "has no host name"
    if _SPACE_RE.search(value):  # str.isspace's white space (Unicode included), as re's \s for str patterns
        return "contains white space"
    del port
    return None


@record(frozen=True)
class CredentialView:
    """What may be shown of a credential: never the value itself."""

    present: bool
    masked: str
    fingerprint: str
    pool_size: int

    @classmethod
    def of(cls, pool: list[str]) -> "CredentialView":
        first = pool[0] if pool else ""
        return cls(bool(first), mask(first), fingerprint(first), len(pool))


# -- key input hygiene -----------------------------------------------------------------------------------------------

MAX_KEY_BYTES = 4096  # no provider issues keys anywhere near this long; a bigger value is a pasted file
MAX_POOL_LINES = 64
MAX_INPUT_BYTES = MAX_KEY_BYTES * MAX_POOL_LINES + 4 * MAX_POOL_LINES  # the longest acceptable pool, with quotes

# Documented key prefixes (provider consoles and SDK docs, late 2026). A key without one draws a warning, never a
# refusal: providers add formats (project keys, service-account keys) faster than any table here.
KEY_PREFIXES: dict[str, tuple[str, ...]] = {p.id: (p.key_prefix,) for p in PROVIDERS.values() if p.key_prefix}  # the provider manifest's

_ASSIGN_RE = re.compile(r"^(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$", re.DOTALL)
_QUOTES = ("\"", "'", "`")


class KeyInputError(ValueError):
    """A pasted value that cannot be a credential; `str()` is the reason (never the value)."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def strip_line(value: str, env_var: str, known_vars: tuple[str, ...], where: str) -> tuple[str, list[str]]:
    """Remove what a copy from a shell or .env file adds around a key; return (value, notes said aloud).

    `export GROQ_API_KEY=…` / `GROQ_API_KEY=…` for this provider's own variable are stripped; another known variable
    or `export OTHER=…` is refused (the value is probably meant for someone else); matching surrounding quotes are
    stripped; an unbalanced quote is refused.
    """
    notes: list[str] = []
    m = _ASSIGN_RE.match(value)
    if m and (m.group(1) or m.group(2) in known_vars or m.group(2).isupper() and "_" in m.group(2)):
        name = m.group(2)
        if name != env_var:
            raise KeyInputError(
                f"{where} is a shell assignment to {name}, not a {env_var} value",
                "Paste only the key; to import a .env file with several variables use aimo keys import FILE.",
            )
        notes.append(f"removed the `{m.group(1) or ''}{name}=` prefix from {where}")
        value = m.group(3).strip()
    if value[:1] in _QUOTES or value[-1:] in _QUOTES:
        if len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
            value = value[1:-1].strip()
            notes.append(f"removed the surrounding quotes from {where}")
        else:
            raise KeyInputError(
                f"{where} has a quote at one end only (a partial copy?)",
                "Copy the whole key again, without quotes.",
            )
    return value, notes


def shape_warning(provider_id: str, value: str, where: str) -> str | None:
    """A warning when a key lacks the prefix its provider documents (None when it has one or none is documented)."""
    prefixes = KEY_PREFIXES.get(provider_id)
    if not prefixes or value.startswith(prefixes):
        return None
    return f"{where} does not start with {' or '.join(repr(p) for p in prefixes)}, the documented prefix of this provider's keys (is it another provider's key?)"


# -- .env files --------------------------------------------------------------------------------------------------------

_ENV_LINE_RE = re.compile(r"^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*)$")


@record(frozen=True)
class EnvLine:
    number: int
    kind: str  # "blank" | "comment" | "assign" | "malformed"
    name: str = ""
    value: str = ""
    reason: str = ""  # for "malformed": why (never the value)


def parse_env_file(text: str) -> list[EnvLine]:
    """Parse a .env file the way shells and dotenv loaders read it: `NAME=value`, optional `export`, single or
    double quotes, `#` comments (whole line, or after an unquoted value and a space). One value per name and line."""
    out: list[EnvLine] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line is not a line of its own
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            out.append(EnvLine(n, "blank"))
            continue
        if line.startswith("#"):
            out.append(EnvLine(n, "comment"))
            continue
        m = _ENV_LINE_RE.match(line)
        if not m:
            out.append(EnvLine(n, "malformed", reason="not NAME=value"))
            continue
        name, value = m.group(1), m.group(2).strip()
        if value[:1] in ("\"", "'"):
            quote = value[0]
            end = value.find(quote, 1)
            if end < 0:
                out.append(EnvLine(n, "malformed", name, reason=f"the {quote} quote is not closed on this line"))
                continue
            rest = value[end + 1 :].strip()
            if rest and not rest.startswith("#"):
                out.append(EnvLine(n, "malformed", name, reason="text after the closing quote"))
                continue
            value = value[1:end]
        else:
            value = re.split(r"[ \t]+#", value, maxsplit=1)[0].strip()
        out.append(EnvLine(n, "assign", name, value))
    return out
