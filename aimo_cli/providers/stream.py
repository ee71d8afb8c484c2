"""A provider's streamed answer, read within bounds: a provider (or whatever answers at a base_url) is outside aimo.

httpx's own line reader keeps a line until its end comes, so an answer that never sends a line break would take all
of aimo's memory, and a stream that never ends would too. Here:
- a line longer than MAX_LINE is an error (an SSE event line is a few KiB; a whole long answer is far below this);
- a stream longer than MAX_STREAM (the transport's MAX_BODY, 16 MiB) is an error;
- a streamed answer is asked for uncompressed (Accept-Encoding: identity, ProviderClient does it), so a compressed one
  is an error rather than something to inflate without a bound;
- an answer read whole (an error body, a stream the provider answered as plain JSON) is read within MAX_STREAM and
  inflated within it (transport.read_capped).
Errors are RemoteError (exit 5) naming the provider.
"""

from __future__ import annotations

import codecs
import re
from typing import Iterator

from ..errors import RemoteError

MAX_LINE = 1024 * 1024
_BREAK = re.compile(r"\r\n|\r|\n")


def max_stream() -> int:
    from .. import transport

    return transport.MAX_BODY


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def _fail(name: str, what: str) -> RemoteError:
    return RemoteError(f"{name} {what}", "Check the provider's base_url in aimo.toml: a provider does not answer like this.")


def stream_lines(resp, name: str) -> Iterator[str]:
    """The lines of a streamed answer (CR, LF or CRLF ends a line, as in server-sent events), within the bounds above."""
    coding = resp.headers.get("content-encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise _fail(name, f"compressed its stream ({coding[:20]!r}) though aimo asked for it uncompressed")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    limit, total, pending = max_stream(), 0, ""
    for raw in resp.iter_raw():
        total += len(raw)
        if total > limit:
            raise _fail(name, f"streamed more than {_size(limit)} in one answer")
        text = pending + decoder.decode(raw)
        held = text.endswith("\r")  # a CR at the end may be the first half of a CRLF: keep it for the next chunk
        lines = _BREAK.split(text[:-1] if held else text)
        pending = lines.pop() + ("\r" if held else "")
        for line in lines:
            if len(line) > MAX_LINE:
                raise _fail(name, f"sent a stream line longer than {_size(MAX_LINE)}")
            yield line
        if len(pending) > MAX_LINE:
            raise _fail(name, f"sent a stream line longer than {_size(MAX_LINE)}")
    pending += decoder.decode(b"", final=True)
    if pending:
        yield from _BREAK.split(pending.removesuffix("\r"))


def read_whole(resp, name: str):
    """A streamed response read whole, within MAX_STREAM (compressed bodies inflated within it): a response httpx's
    `.json()`, `.text` and `.content` then work on."""
    import httpx

    from ..transport import read_capped

    try:
        return read_capped(resp)
    except httpx.HTTPError as exc:
        raise _fail(name, f"answered with something aimo cannot read: {exc}") from None
