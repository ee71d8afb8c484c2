"""A provider's streamed answer against a raw loopback server that answers with exact bytes (whatever answers at a
base_url is outside aimo): lines and streams are bounded, a stream is asked for uncompressed, an answer read whole is
inflated within the cap, and the line splitting is the one server-sent events need (CR, LF, CRLF; a CRLF split
between two reads is one line end)."""

from __future__ import annotations

import random
import resource

import httpx
import pytest

from aimo_cli.errors import RemoteError
from aimo_cli.providers.base import AdapterConfig, OpenAICompatAdapter
from aimo_cli.providers.stream import stream_lines
from tests.test_direct_transport import RawServer

KEY = "gsk_test-0123456789abcdef0123abcd"
MESSAGES = [{"role": "user", "content": "hi"}]


def _adapter(server: RawServer) -> OpenAICompatAdapter:
    return OpenAICompatAdapter(AdapterConfig(provider="groq", base_url=server.url + "/openai/v1", pool=(KEY,), sleep=lambda s: None))


def _sse(body: bytes, extra: bytes = b"", framing: str = "length") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + extra
    if framing == "close":
        return head + b"Connection: close\r\n\r\n" + body
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _chunk(text: str) -> bytes:
    return b'data: {"choices": [{"delta": {"content": "%s"}}]}\n\n' % text.encode()


def test_a_normal_stream_is_read_and_asked_for_uncompressed():
    server = RawServer([_sse(_chunk("Hello") + _chunk(" world") + b"data: [DONE]\n\n")], close_after=True)
    a = _adapter(server)
    seen: list[str] = []
    try:
        gen = a.generate_text("openai/gpt-oss-120b", MESSAGES, on_text=seen.append)
    finally:
        a.close()
    assert gen.text == "Hello world" and seen == ["Hello", " world"]
    head = server.requests[0][1].lower()
    assert b"accept-encoding: identity" in head, head
    server.close()


@pytest.mark.parametrize(
    ("answer", "cap", "needle"),
    [
        (_sse(b"data: " + b"a" * (3 * 1024 * 1024), framing="close"), None, "sent a stream line longer than 1 MiB"),
        (_sse(b"".join(_chunk("x" * 1000) for _ in range(300)), framing="close"), 256 * 1024, "streamed more than 256 KiB in one answer"),
        (_sse(b"\x1f\x8b\x08\x00...", b"Content-Encoding: gzip\r\n"), None, "compressed its stream"),
    ],
    ids=["endless-line", "endless-stream", "compressed-stream"],
)
def test_a_hostile_stream_is_an_error_never_all_of_memory(monkeypatch, answer, cap, needle):
    from aimo_cli import transport

    if cap:  # the stream cap is the transport's (16 MiB), lowered here
        monkeypatch.setattr(transport, "MAX_BODY", cap)
    server = RawServer([answer], close_after=True)
    a = _adapter(server)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with pytest.raises(RemoteError) as err:
            a.generate_text("openai/gpt-oss-120b", MESSAGES)
    finally:
        a.close()
    assert needle in err.value.message and "Groq" in err.value.message, err.value.message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB
    server.close()


def test_a_stream_answered_whole_is_read_within_the_cap(monkeypatch):
    """Asked to stream, the server answers plain JSON, gzip-compressed: a "zip bomb" (32 MiB of spaces in ~32 KiB)."""
    import gzip

    from aimo_cli import transport

    monkeypatch.setattr(transport, "MAX_BODY", 1024 * 1024)
    bomb = gzip.compress(b'{"choices": [{"message": {"content": "' + b" " * (32 * 1024 * 1024) + b'"}}]}', 9)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    server = RawServer([head + bomb], close_after=True)
    a = _adapter(server)
    try:
        with pytest.raises(RemoteError) as err:
            a.generate_text("openai/gpt-oss-120b", MESSAGES)
    finally:
        a.close()
    assert "once decompressed" in err.value.message, err.value.message
    server.close()


class _Chunks:
    """A response whose raw body arrives in the given pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.headers = httpx.Headers({"content-type": "text/event-stream"})

    def iter_raw(self):
        yield from self.pieces


def test_lines_split_as_httpx_splits_them_however_the_bytes_arrive():
    """stream_lines against httpx's own line reader (the one used before), on SSE text with every line ending and
    multi-byte UTF-8, cut into pieces at random places (a CRLF or a character split between two reads included)."""
    rnd = random.Random(17)
    text = "".join(rnd.choice(["data: é€😀 x", "event: delta", ": comment", "", "data: [DONE]"]) + rnd.choice(["\n", "\r\n", "\r"]) for _ in range(200))
    raw = text.encode()
    expected = list(httpx.Response(200, content=raw).iter_lines())
    for _ in range(300):
        cuts = sorted(rnd.sample(range(1, len(raw)), rnd.randint(1, 40)))
        pieces = [raw[i:j] for i, j in zip([0, *cuts], [*cuts, len(raw)])]
        assert list(stream_lines(_Chunks(pieces), "Groq")) == expected


def test_a_model_list_through_a_proxy_is_read_within_the_cap(monkeypatch):
    """Through a proxy (httpx's transport: the direct one is for answers without one) a provider's answer is bounded
    too: a gzip "zip bomb" as a model list is an error, never inflated whole."""
    import gzip

    from aimo_cli import transport

    monkeypatch.setattr(transport, "MAX_BODY", 1024 * 1024)
    bomb = gzip.compress(b'{"data": [' + b" " * (32 * 1024 * 1024) + b"]}", 9)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    server = RawServer([head + bomb] * 4, close_after=True)  # the "proxy" answers for the provider
    monkeypatch.setenv("HTTP_PROXY", server.url)
    a = OpenAICompatAdapter(AdapterConfig(provider="groq", base_url="http://groq.example/openai/v1", pool=(KEY,), sleep=lambda s: None))
    try:
        with pytest.raises(RemoteError) as err:
            a.list_models()
    finally:
        a.close()
    assert "once decompressed" in err.value.message, err.value.message
    assert server.requests and b"groq.example" in server.requests[0][1]  # it went through the proxy
    server.close()
