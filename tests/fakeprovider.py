"""A loopback fake of every AI provider in the provider manifest at once: a threaded stdlib HTTP server, no extra dependencies.

Run it alone with `python -m tests.fakeprovider --port 8899` (prints the base URLs), or in tests:

    with FakeProviders() as fake:
        key = fake.make_valid_key("groq")
        settings: [providers.groq] base_url = fake.base_url("groq")

Every provider lives under its own path prefix, `http://127.0.0.1:PORT/{provider}/…`. The base URL to configure
(aimo `[providers.ID] base_url`, or the WordPress bridge's base URL) is `fake.base_url(provider)`:

    provider     base_url                       paths served under it (as the real API lays them out)
    openai       /openai/v1                     GET /models  POST /chat/completions  POST /images/generations
    anthropic    /anthropic/v1                  GET /models (x-api-key + anthropic-version, or Bearer; after_id/has_more)
                                                POST /chat/completions (OpenAI-compatible)
    google       /google/v1                     GET /models (ids "models/…")  POST /chat/completions
    openrouter   /openrouter/v1                 GET /models (public, ?output_modalities=)  GET /key  POST /chat/completions
    perplexity   /perplexity                    GET /v1/models  POST /v1/agent (Responses format)
    groq         /groq/v1                       GET /models  POST /chat/completions (400 on array content for system)
    nvidia       /nvidia/v1                     GET /models  POST /chat/completions
    xai          /xai/v1                        GET /models /language-models /image-generation-models
                                                POST /chat/completions  POST /images/generations
    huggingface  /huggingface/v1                GET /models (public, providers[])  POST /chat/completions
                 whoami: fake.whoami_url()  =   /huggingface/api/whoami-v2
    ollama       /ollama                        GET /api/version /api/tags /v1/models  POST /v1/chat/completions (no key)
    (any other)  /ID/v1                         GET /models  POST /chat/completions, POST /images/generations when the
                                                manifest lists "image", and its key_check path (fake.key_check_url(ID))

The provider list, base paths and key prefixes follow the provider manifest (aimo_cli/providers/manifest.json).

Keys: `fake.valid_keys[provider]` is a settable set; `make_valid_key(provider)` creates one with
`tests.secrets_registry.make_key` (so the leak scan knows it) and adds it. `fake.forbidden_keys[provider]` holds
keys that authenticate but lack scope (NVIDIA answers 403).

Bad-key quirks reproduced: OpenAI/Groq/OpenRouter/HF 401 `{"error":{…}}`; Anthropic 401 `{"type":"error",…}`;
Google 400, alternately a JSON array and an object; xAI 400 with a string `error`; Perplexity an HTML 401;
NVIDIA 401/403 `{status,title,detail}`.

Request quirks: Anthropic 400 "`temperature` is deprecated for this model" (temperature/top_p/top_k) for Opus 4.7+,
all 5.x, Fable, Mythos; 400 if both temperature and top_p for 4.5/4.6. OpenAI o-series/gpt-5+ 400 on `max_tokens`
(naming the parameter) and on non-default temperature. Groq 400 on array content in a system message. Content as a
string or as an array of text parts (what the WordPress PHP AI Client sends) is otherwise accepted everywhere.

Answers are deterministic: `FAKE[provider=groq model=M temperature=T] <last user text>` (streamed as SSE word by word
when `stream` is true).

Recorded: `fake.requests` (thread-safe list of `Recorded(provider, method, path, query, headers, json)`, `path` is
the part after the provider prefix), `fake.clear()`. Faults: `fake.delay(provider, seconds)`,
`fake.fail_next(provider, status, body=None, headers=None, times=1)`, `fake.down(provider)` / `fake.up(provider)`
(the connection is dropped without an answer). Each fault must fire during the test that armed it (tests/armed.py):
one that no request met fails the test, even after `clear()`; each returns its `Armed` record.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.armed import Armed, arm

from aimo_cli.core.providers import PROVIDERS as MANIFEST

# The provider table comes from the provider manifest (aimo_cli/providers/manifest.json): a provider added there is
# served here too, as a plain OpenAI-compatible API (the quirks below are the known providers' own).
PROVIDERS = tuple(MANIFEST)
# Perplexity and Ollama bases are server roots (their API lives under /v1, Ollama's own under /api).
BASE_PATHS = {p: (f"/{p}" if info.api in ("perplexity", "ollama") else f"/{p}/v1") for p, info in MANIFEST.items()}
# Test keys carry the provider's documented prefix (sk-ant-test-…, gsk_test-…).
KEY_PREFIX = {p: (info.key_prefix or f"{p}-") + "test" for p, info in MANIFEST.items()}

# model id, kind, context window
MODELS: dict[str, list[tuple[str, str, int | None]]] = {
    "openai": [("gpt-5.5", "text", 400000), ("gpt-5-mini", "text", 400000), ("gpt-4.1", "text", 1047576), ("o4-mini", "text", 200000),
               ("gpt-image-1", "image", None), ("text-embedding-3-small", "embedding", None), ("whisper-1", "audio", None)],
    "anthropic": [(f"claude-{m}", "text", 1000000) for m in ("fable-5-1", "opus-5-5", "sonnet-5-5", "haiku-5-5", "opus-4-7", "opus-4-6", "sonnet-4-6", "sonnet-4-5", "haiku-4-5")],
    "google": [("gemini-3.5-flash", "text", 1048576), ("gemini-3.1-pro-preview", "text", 1048576), ("gemini-3.1-flash-image", "image", 65536), ("gemini-embedding-001", "embedding", 2048)],
    "openrouter": [("openai/gpt-5.5", "text", 400000), ("anthropic/claude-opus-5-5", "text", 1000000), ("google/gemini-3.1-flash-image", "image", 65536), ("meta-llama/llama-4-maverick", "text", 1048576)],
    "perplexity": [("sonar", "text", 128000), ("sonar-pro", "text", 200000), ("sonar-reasoning-pro", "text", 128000), ("sonar-deep-research", "text", 128000)],
    "groq": [("openai/gpt-oss-120b", "text", 131072), ("openai/gpt-oss-20b", "text", 131072), ("qwen/qwen3-32b", "text", 131072), ("llama-3.3-70b-versatile", "text", 131072), ("whisper-large-v3", "audio", None)],
    "nvidia": [("meta/llama-3.3-70b-instruct", "text", None), ("nvidia/llama-3.3-nemotron-super-49b-v1.5", "text", None), ("deepseek-ai/deepseek-v3.1", "text", None)],
    "xai": [("grok-4", "text", 256000), ("grok-4-1-fast-reasoning", "text", 2000000), ("grok-code-fast-1", "text", 256000), ("grok-2-image-1212", "image", None)],
    "huggingface": [("openai/gpt-oss-120b", "text", 131072), ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "text", 262144), ("deepseek-ai/DeepSeek-V3.1", "text", 163840)],
    "ollama": [("llama3.2:latest", "text", None), ("gpt-oss:20b", "text", None), ("nomic-embed-text:latest", "embedding", None), ("x/z-image-turbo:latest", "image", None)],
}



def _default_models(provider: str) -> list[tuple[str, str, int | None]]:
    """The model list of a provider the fake has no hand-written list for (one added to the manifest)."""
    rows: list[tuple[str, str, int | None]] = [(f"{provider}-chat-1", "text", 131072), (f"{provider}-chat-mini", "text", 32768)]
    return rows + ([(f"{provider}-image-1", "image", None)] if MANIFEST[provider].images else [])


def key_check_path(provider: str) -> str | None:
    """Where the fake answers the provider's key check (the manifest's key_check), relative to its prefix."""
    check = MANIFEST[provider].key_check
    if check.startswith("/"):
        return BASE_PATHS[provider][len(f"/{provider}") :] + check
    if check.startswith(("https://", "http://")):
        return urlsplit(check).path
    return None


TINY_PNG = base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
).decode()

_NO_SAMPLING = re.compile(r"^claude-(opus-4-[7-9]|opus-5|sonnet-5|haiku-5|fable|mythos)")
_PAIR_SAMPLING = re.compile(r"^claude-(opus|sonnet|haiku)-4-[56]")
_OPENAI_REASONING = re.compile(r"^(o\d+)([-.]|$)|^gpt-([5-9]|\d\d)")


@dataclass
class Recorded:
    provider: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any

    @property
    def auth_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return self.headers.get("x-api-key")


@dataclass
class _Fault:
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    armed: Armed


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None, content_type: str = "application/json"):
        self.status, self.body, self.headers, self.content_type = status, body, headers or {}, content_type


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 drops connections under parallel clients (1 s SYN retransmits)


class FakeProviders:
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.valid_keys: dict[str, set[str]] = {p: set() for p in PROVIDERS}
        self.forbidden_keys: dict[str, set[str]] = {p: set() for p in PROVIDERS}
        self.models = {p: list(MODELS.get(p) or _default_models(p)) for p in PROVIDERS}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._delays: dict[str, tuple[float, Armed]] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._down: dict[str, Armed] = {}
        self._google_flip = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "FakeProviders":  # noqa: D401
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeProviders":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, provider: str) -> str:
        return self.url + BASE_PATHS[provider]

    def whoami_url(self) -> str:
        return self.key_check_url("huggingface")

    def key_check_url(self, provider: str) -> str:
        """The fake's copy of a provider's key-check URL (for a manifest key_check that is an absolute URL)."""
        return f"{self.url}/{provider}{key_check_path(provider)}"

    def settings_toml(self, providers=PROVIDERS) -> str:
        """`[providers.ID] base_url` (and key_check_url where the key check is an absolute URL) pointing every
        provider here; Ollama's server URL is its credential, not a setting."""
        lines = []
        for p in providers:
            if MANIFEST[p].credential == "url":
                continue
            lines += [f"[providers.{p}]", f'base_url = "{self.base_url(p)}"']
            if MANIFEST[p].key_check.startswith(("https://", "http://")):
                lines.append(f'key_check_url = "{self.key_check_url(p)}"')
            lines.append("")
        return "\n".join(lines)

    # -- keys and knobs --------------------------------------------------------------------------------------------
    def make_valid_key(self, provider: str) -> str:
        from tests.secrets_registry import make_key

        key = make_key(KEY_PREFIX[provider])
        with self._lock:
            self.valid_keys[provider].add(key)
        return key

    def delay(self, provider: str, seconds: float) -> Armed | None:
        """Answer every later request to `provider` after `seconds`; `delay(provider, 0)` takes the delay away (and arms
        nothing)."""
        if seconds <= 0:
            with self._lock:
                self._delays.pop(provider, None)
            return None
        armed = arm(f"fake {provider}: delay {seconds} s")
        with self._lock:
            self._delays[provider] = (seconds, armed)
        return armed

    def fail_next(self, provider: str, status: int, body: Any = None, headers: dict[str, str] | None = None, times: int = 1) -> Armed:
        """Answer the next `times` requests to `provider` with this (queued after earlier faults)."""
        armed = arm(f"fake {provider}: answer HTTP {status} (times={times})")
        with self._lock:
            self._faults.setdefault(provider, []).append(_Fault(status, body, dict(headers or {}), times, armed))
        return armed

    def down(self, provider: str) -> Armed:
        """Drop every later connection to `provider` without an answer, until `up(provider)`."""
        armed = arm(f"fake {provider}: down (connections dropped)")
        with self._lock:
            self._down[provider] = armed
        return armed

    def up(self, provider: str) -> None:
        with self._lock:
            self._down.pop(provider, None)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._delays.clear()
            self._down.clear()

    def requests_for(self, provider: str, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.provider == provider and (path is None or r.path == path)]

    # -- internals used by the handler -----------------------------------------------------------------------------
    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def _take_fault(self, provider: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(provider)
            if not queue:
                return None
            fault = queue[0]
            fault.armed.fire()
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault


class _Handler(BaseHTTPRequestHandler):
    owner: FakeProviders
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    # -- plumbing --------------------------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        fake = self.owner
        parts = urlsplit(self.path)
        segs = parts.path.split("/", 2)
        provider = segs[1] if len(segs) > 1 else ""
        sub = "/" + (segs[2] if len(segs) > 2 else "")
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if provider not in PROVIDERS:
            self._send(404, {"error": {"message": f"no such fake provider {provider!r}"}})
            return
        fake._record(Recorded(provider, method, sub, parse_qs(parts.query), headers, body))
        with fake._lock:
            delay, delayed = fake._delays.get(provider, (0.0, None))
            down = fake._down.get(provider)
        if down is not None:
            down.fire()
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if delayed is not None:
            delayed.fire()
            time.sleep(delay)
        fault = fake._take_fault(provider)
        if fault is not None:
            ctype = "application/json" if not isinstance(fault.body, str) else ("text/html" if fault.body.lstrip().startswith("<") else "text/plain")
            self._send(fault.status, fault.body if fault.body is not None else {"error": {"message": f"injected HTTP {fault.status}"}}, fault.headers, ctype)
            return
        try:
            route = _ROUTES.get((provider, method, sub)) or _ROUTES.get(("*", method, sub))
            if route is None:
                raise _Reply(404, {"error": {"message": f"unknown path {sub} for {provider}"}})
            route(self, provider, parts, headers, body)
        except _Reply as reply:
            self._send(reply.status, reply.body, reply.headers, reply.content_type)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, events: list[tuple[str | None, Any]]) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for event, data in events:
                chunk = (f"event: {event}\n" if event else "") + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
                self.wfile.write(chunk.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


# -- authentication ---------------------------------------------------------------------------------------------------


def _partial(key: str | None) -> str:
    return (key[:3] + "*" * 8 + key[-4:]) if key and len(key) > 8 else "****"


def _check_key(h: _Handler, provider: str, headers: dict[str, str]) -> None:
    fake = h.owner
    key = None
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    elif "x-api-key" in headers:
        key = headers["x-api-key"]
        if provider == "anthropic" and "anthropic-version" not in headers:
            raise _Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic-version: header is required"}})
    elif provider == "google" and "x-goog-api-key" in headers:
        key = headers["x-goog-api-key"]
    with fake._lock:
        valid = key in fake.valid_keys[provider]
        forbidden = key in fake.forbidden_keys[provider]
    if forbidden:
        raise _Reply(403, {"status": 403, "title": "Forbidden", "detail": "Authorization failed: the API key does not have the required scope"}, content_type="application/problem+json")
    if valid:
        return
    if provider in ("openai", "groq", "openrouter", "huggingface"):
        msg = {
            "openai": f"Incorrect API key provided: {_partial(key)}. You can find your API key at https://platform.openai.com/account/api-keys.",
            "groq": "Invalid API Key",
            "openrouter": "No cookie auth credentials found" if not key else "User not found.",
            "huggingface": "Invalid credentials in Authorization header",
        }[provider]
        raise _Reply(401, {"error": {"message": msg, "type": "invalid_request_error", "code": "invalid_api_key"}})
    if provider == "anthropic":
        raise _Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
    if provider == "google":
        with fake._lock:
            fake._google_flip += 1
            as_array = fake._google_flip % 2 == 1
        err = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                         "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
        raise _Reply(400, [err] if as_array else err)
    if provider == "xai":
        raise _Reply(400, {"code": "Client specified an invalid argument", "error": f"Incorrect API key provided: {_partial(key)}. You can obtain an API key from https://console.x.ai."})
    if provider == "perplexity":
        raise _Reply(401, "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>openresty/1.27.4</center>\r\n</body>\r\n</html>\r\n", content_type="text/html")
    if provider == "nvidia":
        raise _Reply(401, {"status": 401, "title": "Unauthorized", "detail": "Authentication failed"}, content_type="application/problem+json")
    raise _Reply(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": "invalid_api_key"}})  # any other provider


# -- models -----------------------------------------------------------------------------------------------------------


def _models(h: _Handler, provider: str, parts, headers, body) -> None:
    fake = h.owner
    if not MANIFEST[provider].models_public:
        _check_key(h, provider, headers)
    rows = fake.models[provider]
    now = 1767225600
    if provider == "anthropic":
        q = parse_qs(parts.query)
        limit = int((q.get("limit") or ["20"])[0])
        after = (q.get("after_id") or [None])[0]
        ids = [m for m in rows]
        start = next((i + 1 for i, m in enumerate(ids) if m[0] == after), 0) if after else 0
        page = ids[start : start + limit]
        data = [{"type": "model", "id": m, "display_name": m.replace("-", " ").title(), "created_at": "2026-06-01T00:00:00Z", "max_input_tokens": ctx, "max_tokens": 128000} for m, _k, ctx in page]
        raise _Reply(200, {"data": data, "has_more": start + limit < len(ids), "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})
    if provider == "google":
        data = [{"id": f"models/{m}", "object": "model", "owned_by": "google"} for m, _k, _c in rows]
        raise _Reply(200, {"object": "list", "data": data})
    if provider == "openrouter":
        q = parse_qs(parts.query)
        wanted = (q.get("output_modalities") or ["text"])[0]
        data = []
        for m, kind, ctx in rows:
            outputs = ["image", "text"] if kind == "image" else ["text"]
            if wanted != "all" and wanted not in outputs:
                continue
            data.append({"id": m, "name": m, "context_length": ctx, "architecture": {"input_modalities": ["text"], "output_modalities": outputs}})
        raise _Reply(200, {"data": data})
    if provider == "huggingface":
        data = [{"id": m, "object": "model", "owned_by": m.split("/")[0], "providers": [{"provider": "fake", "status": "live", "context_length": ctx}]} for m, _k, ctx in rows]
        raise _Reply(200, {"object": "list", "data": data})
    if provider == "ollama":
        raise _Reply(200, {"object": "list", "data": [{"id": m, "object": "model", "created": now, "owned_by": "library"} for m, _k, _c in rows]})
    data = []
    for m, kind, ctx in rows:
        item = {"id": m, "object": "model", "created": now, "owned_by": provider}
        if provider == "groq":
            item.update({"active": True, "context_window": ctx})
        data.append(item)
    raise _Reply(200, {"object": "list", "data": data})


def _xai_subset(kind: str):
    def route(h, provider, parts, headers, body):
        _check_key(h, provider, headers)
        rows = [m for m in h.owner.models["xai"] if m[1] == kind]
        raise _Reply(200, {"models": [{"id": m, "object": "model", "owned_by": "xai"} for m, _k, _c in rows]})

    return route


def _key_check(h, provider, parts, headers, body):
    """The manifest's key_check when it is a call of its own (OpenRouter GET /key, Hugging Face whoami-v2, …)."""
    _check_key(h, provider, headers)
    if provider == "openrouter":
        raise _Reply(200, {"data": {"label": "sk-or-v1-…", "limit": None, "usage": 0.5, "is_free_tier": False}})
    if provider == "huggingface":
        raise _Reply(200, {"type": "user", "name": "fake-user", "auth": {"type": "access_token", "accessToken": {"role": "read"}}})
    raise _Reply(200, {"ok": True})


def _ollama_version(h, provider, parts, headers, body):
    raise _Reply(200, {"version": "0.13.5"})


def _ollama_tags(h, provider, parts, headers, body):
    models = []
    for m, kind, _c in h.owner.models["ollama"]:
        caps = {"text": ["completion", "tools"], "embedding": ["embedding"], "image": ["image"]}[kind]
        models.append({"name": m, "model": m, "modified_at": "2026-10-01T12:00:00Z", "size": 2019393189, "digest": "a80c4f17acd5", "details": {"format": "gguf", "family": m.split(":")[0]}, "capabilities": caps})
    raise _Reply(200, {"models": models})


# -- generation -------------------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _bad_request(provider: str, message: str, param: str | None = None) -> _Reply:
    if provider == "anthropic":
        return _Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})
    err = {"message": message, "type": "invalid_request_error", "param": param, "code": "unsupported_parameter" if param else None}
    return _Reply(400, {"error": err})


def _answer(provider: str, body: dict) -> str:
    messages = body.get("messages") or []
    last = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), {})
    temp = body.get("temperature")
    return f"FAKE[provider={provider} model={body.get('model')} temperature={temp if temp is not None else 'none'}] {_text_of(last.get('content'))}"


def _chat(h: _Handler, provider: str, parts, headers, body) -> None:
    if MANIFEST[provider].auth != "none":
        _check_key(h, provider, headers)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
        raise _bad_request(provider, "'model' and 'messages' are required")
    model = str(body["model"])
    bare = model.rsplit("/", 1)[-1]
    for i, msg in enumerate(body["messages"]):
        content = msg.get("content") if isinstance(msg, dict) else None
        if provider == "groq" and msg.get("role") == "system" and isinstance(content, list):
            raise _bad_request("groq", f"'messages.{i}' : for 'role:system' the following must be satisfied[('messages.{i}.content' : value must be a string)]")
        if not isinstance(content, (str, list)):
            raise _bad_request(provider, f"'messages.{i}.content' must be a string or an array of content parts")
    known = {m for m, _k, _c in h.owner.models[provider]}
    if provider != "ollama" and model not in known:
        raise _Reply(404, {"error": {"message": f"The model `{model}` does not exist or you do not have access to it.", "type": "invalid_request_error", "code": "model_not_found"}})
    if provider == "anthropic":
        sent = [p for p in ("temperature", "top_p", "top_k") if p in body]
        if _NO_SAMPLING.match(bare) and sent:
            raise _bad_request("anthropic", f"`{sent[0]}` is deprecated for this model.")
        if _PAIR_SAMPLING.match(bare) and "temperature" in body and "top_p" in body:
            raise _bad_request("anthropic", "`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
    if provider == "openai" and _OPENAI_REASONING.match(bare):
        if "max_tokens" in body:
            raise _bad_request("openai", "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "max_tokens")
        temp = body.get("temperature")
        if temp is not None and temp != 1:
            raise _bad_request("openai", f"Unsupported value: 'temperature' does not support {temp} with this model. Only the default (1) value is supported.", "temperature")
    text = _answer(provider, body)
    created = 1767225600
    if body.get("stream"):
        words = text.split(" ")
        events: list[tuple[str | None, Any]] = []
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            events.append((None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}))
        events.append((None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        events.append((None, "[DONE]"))
        h._stream(events)
        return
    raise _Reply(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 5, "completion_tokens": len(text.split()), "total_tokens": 5 + len(text.split())}})


def _agent(h: _Handler, provider: str, parts, headers, body) -> None:
    _check_key(h, provider, headers)
    if not isinstance(body, dict) or "input" not in body or not (body.get("model") or body.get("preset")):
        raise _Reply(400, {"error": {"message": "'input' and one of 'model' or 'preset' are required", "type": "invalid_request"}})
    if "messages" in body:
        raise _Reply(400, {"error": {"message": "Unrecognized request argument supplied: messages", "type": "invalid_request"}})
    inp = body["input"]
    if isinstance(inp, str):
        user = inp
    else:
        users = [i for i in inp if isinstance(i, dict) and i.get("role") == "user"]
        user = _text_of(users[-1].get("content")) if users else ""
    temp = body.get("temperature")
    text = f"FAKE[provider=perplexity model={body.get('model')} temperature={temp if temp is not None else 'none'}] {user}"
    response = {"id": "resp_fake", "object": "response", "created_at": 1767225600, "status": "completed", "model": body.get("model"),
                "output": [{"type": "message", "id": "msg_fake", "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": text, "annotations": []}]}],
                "usage": {"input_tokens": 5, "output_tokens": len(text.split()), "total_tokens": 5 + len(text.split())}}
    if body.get("stream"):
        events: list[tuple[str | None, Any]] = [("response.created", {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}})]
        for i, word in enumerate(text.split(" ")):
            events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_fake", "output_index": 0, "content_index": 0, "delta": word if i == 0 else " " + word}))
        events.append(("response.completed", {"type": "response.completed", "response": response}))
        h._stream(events)
        return
    raise _Reply(200, response)


def _images(h: _Handler, provider: str, parts, headers, body) -> None:
    _check_key(h, provider, headers)
    model = (body or {}).get("model")
    images = {m for m, k, _c in h.owner.models[provider] if k == "image"}
    if model not in images:
        raise _Reply(400, {"error": {"message": f"Invalid model {model!r} for image generation", "type": "invalid_request_error"}})
    raise _Reply(200, {"created": 1767225600, "data": [{"b64_json": TINY_PNG, "revised_prompt": (body or {}).get("prompt")}]})


_ROUTES: dict[tuple[str, str, str], Any] = {}
for _p, _info in MANIFEST.items():
    if _info.api != "openai":
        continue
    _ROUTES[(_p, "GET", "/v1/models")] = _models
    _ROUTES[(_p, "POST", "/v1/chat/completions")] = _chat
    if _info.images:
        _ROUTES[(_p, "POST", "/v1/images/generations")] = _images
    if key_check_path(_p):
        _ROUTES[(_p, "GET", key_check_path(_p))] = _key_check
_ROUTES[("xai", "GET", "/v1/language-models")] = _xai_subset("text")
_ROUTES[("xai", "GET", "/v1/image-generation-models")] = _xai_subset("image")
_ROUTES[("perplexity", "GET", "/v1/models")] = _models
_ROUTES[("perplexity", "POST", "/v1/agent")] = _agent
_ROUTES[("ollama", "GET", "/api/version")] = _ollama_version
_ROUTES[("ollama", "GET", "/api/tags")] = _ollama_tags
_ROUTES[("ollama", "GET", "/v1/models")] = _models
_ROUTES[("ollama", "POST", "/v1/chat/completions")] = _chat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeprovider", description="Serve a loopback fake of every AI provider aimo manages.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--key", action="append", default=[], metavar="PROVIDER=KEY", help="accept KEY for PROVIDER (repeatable)")
    parser.add_argument("--delay", type=float, default=0.0, help="answer every request after this many seconds")
    args = parser.parse_args(argv)
    fake = FakeProviders(args.port, args.host)
    for item in args.key:
        provider, _, key = item.partition("=")
        fake.valid_keys.setdefault(provider, set()).add(key)
    if args.delay:
        for p in PROVIDERS:
            fake.delay(p, args.delay)
    fake.start()
    print(f"fake providers on {fake.url}", flush=True)
    for p in PROVIDERS:
        print(f"  {p:12} {fake.base_url(p)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
