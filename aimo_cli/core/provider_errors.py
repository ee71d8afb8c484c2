"""Turn whatever an AI provider answers on failure into one clear line, and spot rejected parameters. Pure: no I/O.

Providers answer errors as a JSON object (`{"error": {"message": …}}`, `{"error": "…"}`, NVIDIA's
`{status, title, detail}`), a JSON array (Google, sometimes), a plain string, or an HTML page from a proxy
(Perplexity's 401). `error_message` never raises and returns a single printable line of bounded length.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

MAX_LEN = 300
_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TEXT_KEYS = ("message", "error_description", "detail", "msg", "title", "description", "reason")


def _clean(text: str, limit: int = MAX_LEN) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _WS.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def _from_json(value: Any, depth: int = 0) -> str:
    if depth > 6:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)) or value is None:
        return ""
    if isinstance(value, list):
        for item in value:
            found = _from_json(item, depth + 1)
            if found.strip():
                return found
        return ""
    if isinstance(value, dict):
        if "error" in value and value["error"] not in (None, "", {}, []):
            found = _from_json(value["error"], depth + 1)
            if found.strip():
                return found
        title, detail = value.get("title"), value.get("detail")
        if isinstance(title, str) and isinstance(detail, str) and title.strip() and detail.strip():
            return f"{title}: {detail}"  # NVIDIA / RFC 7807 problem details
        for key in _TEXT_KEYS:
            if key in value:
                found = _from_json(value[key], depth + 1)
                if found.strip():
                    return found
        for key in ("errors", "details"):
            if key in value:
                found = _from_json(value[key], depth + 1)
                if found.strip():
                    return found
    return ""


def _looks_html(text: str, content_type: str | None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype") or head.startswith("<html") or "<title" in head or "<body" in head or "<h1" in head


def _from_html(text: str) -> str:
    import html  # only an HTML error page needs it (start-up time)

    for pattern in (_TITLE, _H1):
        m = pattern.search(text)
        if m:
            found = html.unescape(_TAG.sub(" ", m.group(1)))
            if found.strip():
                return found
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", text)))


def error_message(body: str | bytes | None, content_type: str | None = None, *, limit: int = MAX_LEN) -> str:
    """The provider's own words from an error body, as one printable line ('' when there are none)."""
    if body is None:
        return ""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    text = body.strip()
    if not text:
        return ""
    if text[0] in "[{\"":
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        else:
            return _clean(_from_json(parsed), limit)
    if _looks_html(text, content_type):
        return _clean(_from_html(text), limit)
    return _clean(text, limit)


def describe_http_error(provider_name: str, status: int, body: str | bytes | None, content_type: str | None = None) -> str:
    """`Groq answered HTTP 401: “Invalid API Key”` — the sentence aimo prints, quoting the provider."""
    msg = error_message(body, content_type)
    return f"{provider_name} answered HTTP {status}: \u201c{msg}\u201d" if msg else f"{provider_name} answered HTTP {status} with no explanation"


_REJECT_WORDS = re.compile(
    r"deprecated|not supported|unsupported|not allowed|not permitted|cannot both|can't both|cannot be used|"
    r"unknown (?:parameter|field|argument)|unrecognized|extra (?:fields|inputs)|does not support|invalid parameter|only one of",
    re.IGNORECASE,
)
_INSTEAD = re.compile(r"use\s+['\"`]?([a-z_]+)['\"`]?\s+instead", re.IGNORECASE)
_DROP_PREFERENCE = ("top_k", "top_p", "temperature")  # when two clash, keep temperature


def rejected_parameter(message: str, sent: Iterable[str]) -> tuple[str, str | None] | None:
    """If a 400 `message` says one of the `sent` parameters is not accepted, return (param, replacement or None)."""
    if not message or not _REJECT_WORDS.search(message):
        return None
    sent = [s for s in sent if s not in ("model", "messages", "input", "stream")]
    named = [p for p in sent if re.search(r"(?<![a-z_])" + re.escape(p) + r"(?![a-z_])", message)]
    if not named:
        return None
    if len(named) > 1:
        for pref in _DROP_PREFERENCE:
            if pref in named:
                named = [pref]
                break
    param = named[0]
    m = _INSTEAD.search(message)
    replacement = m.group(1) if m and m.group(1) != param else None
    return param, replacement
