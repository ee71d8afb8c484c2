"""Every provider adapter against the loopback fake: list, verify, generate, image, and each provider's quirks."""

from __future__ import annotations

import json

import pytest

from aimo_cli.errors import AuthError, RemoteError, UsageError
from aimo_cli.providers import ADAPTERS, make_adapter
from aimo_cli.services import credentials, verify
from tests.fakeenv import context
from tests.fakeprovider import PROVIDERS
from tests.secrets_registry import make_key

ALL = list(PROVIDERS)
FIRST_TEXT = {
    "openai": "gpt-5.5", "anthropic": "claude-opus-5-5", "google": "gemini-3.5-flash", "openrouter": "openai/gpt-5.5", "perplexity": "sonar",
    "groq": "openai/gpt-oss-120b", "nvidia": "meta/llama-3.3-70b-instruct", "xai": "grok-4", "huggingface": "openai/gpt-oss-120b", "ollama": "llama3.2:latest",
}


def adapter(pid, **kw):
    ctx = context()
    cred = kw.pop("credential", None) or credentials.resolve(ctx, pid)
    return make_adapter(ctx, pid, credential=cred, sleep=kw.pop("sleep", lambda s: None), **kw)


def test_registry_covers_every_provider_lazily():
    import subprocess
    import sys

    assert set(ADAPTERS) == set(PROVIDERS)
    assert all(isinstance(v, str) and ":" in v for v in ADAPTERS.values())
    code = "import sys, aimo_cli.providers as p; print(sorted(m for m in sys.modules if m.startswith('aimo_cli.providers.') or m == 'httpx'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("pid", ALL)
def test_list_models(fake_env, fake, pid):
    a = adapter(pid)
    try:
        models = a.list_models()
    finally:
        a.close()
    ids = {m.id for m in models}
    assert FIRST_TEXT[pid] in ids
    assert all(m.provider == pid and m.kind in ("text", "image") for m in models)
    assert not any("embed" in i or "whisper" in i for i in ids)  # not offered


@pytest.mark.parametrize("pid", ALL)
def test_generate_streams_and_sends_only_safe_fields(fake_env, fake, pid):
    a = adapter(pid)
    seen = []
    try:
        gen = a.generate_text(FIRST_TEXT[pid], [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello world"}], max_tokens=64, on_text=seen.append)
    finally:
        a.close()
    assert gen.text == f"FAKE[provider={pid} model={FIRST_TEXT[pid]} temperature=none] hello world"
    assert "".join(seen) == gen.text and len(seen) > 1  # streamed in pieces
    path = "/v1/agent" if pid == "perplexity" else "/v1/chat/completions"
    (req,) = fake.requests_for(pid, path)
    if pid == "perplexity":
        assert set(req.json) == {"model", "input", "max_output_tokens", "stream", "instructions"}
    else:
        tokens = "max_completion_tokens" if pid == "openai" else "max_tokens"
        assert set(req.json) == {"model", "messages", tokens, "stream"}
        assert req.json["stream"] is True


@pytest.mark.parametrize("pid", [p for p in ALL if p != "ollama"])
def test_verify_good_and_bad_keys(fake_env, fake, pid):
    ctx = context()
    assert verify.verify_key(ctx, pid, fake_env[pid]).status == "ok"
    bad = make_key("bad-" + pid)
    outcome = verify.verify_key(ctx, pid, bad)
    assert outcome.status == "rejected", outcome
    assert bad not in outcome.message and bad[-4:] in outcome.message  # only the mask


def test_verify_uses_authenticated_calls_for_public_lists(fake_env, fake):
    ctx = context()
    verify.verify_key(ctx, "openrouter", fake_env["openrouter"])
    verify.verify_key(ctx, "huggingface", fake_env["huggingface"])
    assert fake.requests_for("openrouter", "/v1/key") and not fake.requests_for("openrouter", "/v1/models")
    assert fake.requests_for("huggingface", "/api/whoami-v2")


def test_error_quirks_are_mapped(fake_env, fake):
    ctx = context()
    msgs = {p: verify.verify_key(ctx, p, make_key("bad")).message for p in ("google", "xai", "perplexity", "nvidia", "anthropic", "groq")}
    assert "API key not valid" in msgs["google"] and "HTTP 400" in msgs["google"]
    assert "Incorrect API key provided" in msgs["xai"] and "HTTP 400" in msgs["xai"]
    assert "401 Authorization Required" in msgs["perplexity"] and "<" not in msgs["perplexity"]
    assert "Unauthorized: Authentication failed" in msgs["nvidia"]
    assert "invalid x-api-key" in msgs["anthropic"]
    assert "Invalid API Key" in msgs["groq"]
    # Google answers alternately with an array and an object: both are a rejected key
    assert verify.verify_key(ctx, "google", make_key("bad")).status == "rejected"


def test_nvidia_scope_403(fake_env, fake):
    key = make_key("nvapi-noscope")
    fake.forbidden_keys["nvidia"].add(key)
    outcome = verify.verify_key(context(), "nvidia", key)
    assert outcome.status == "rejected" and "required scope" in outcome.message and "HTTP 403" in outcome.message


def test_anthropic_native_models_headers_and_cursor(fake_env, fake):
    a = adapter("anthropic")
    try:
        models = a.list_models()
    finally:
        a.close()
    assert len(models) == 9
    reqs = fake.requests_for("anthropic", "/v1/models")
    assert reqs[0].headers["x-api-key"] == fake_env["anthropic"] and reqs[0].headers["anthropic-version"]
    assert "authorization" not in reqs[0].headers
    assert all(m.context_window == 1000000 for m in models)


def test_anthropic_pagination(fake_env, fake):
    fake.models["anthropic"] = [(f"claude-test-{i}", "text", 1000) for i in range(250)]
    a = adapter("anthropic")
    try:
        models = a.list_models()
    finally:
        a.close()
    assert [m.id for m in models] == [f"claude-test-{i}" for i in range(250)]
    reqs = fake.requests_for("anthropic", "/v1/models")
    assert len(reqs) == 3 and reqs[1].query["after_id"] == ["claude-test-99"]


def test_google_strips_models_prefix(fake_env):
    a = adapter("google")
    try:
        ids = [m.id for m in a.list_models()]
    finally:
        a.close()
    assert "gemini-3.5-flash" in ids and not any(i.startswith("models/") for i in ids)


def test_openrouter_output_modalities(fake_env, fake):
    a = adapter("openrouter")
    try:
        models = {m.id: m for m in a.list_models()}
    finally:
        a.close()
    assert models["google/gemini-3.1-flash-image"].kind == "image" and models["openai/gpt-5.5"].kind == "text"
    (req,) = fake.requests_for("openrouter", "/v1/models")
    assert req.query["output_modalities"] == ["all"] and "authorization" not in req.headers


def test_ollama_capabilities_and_no_auth(fake_env, fake):
    a = adapter("ollama")
    try:
        models = {m.id: m.kind for m in a.list_models()}
    finally:
        a.close()
    assert models == {"llama3.2:latest": "text", "gpt-oss:20b": "text", "x/z-image-turbo:latest": "image"}
    assert fake.requests_for("ollama", "/api/tags")
    assert all("authorization" not in r.headers for r in fake.requests_for("ollama"))


def test_ollama_down_is_unreachable_quickly(fake_env, fake):
    import time

    fake.down("ollama")
    ctx = context()
    t = time.monotonic()
    outcome = verify.verify_provider(ctx, "ollama")
    assert outcome.status == "unreachable" and time.monotonic() - t < 3


def test_anthropic_sampling_rules(fake_env, fake):
    a = adapter("anthropic")
    try:
        gen = a.generate_text("claude-opus-5-5", [{"role": "user", "content": "x"}], sampling={"temperature": 0.3, "top_p": 0.9})
        assert gen.dropped == ()  # never sent: the policy strips it up front
        gen = a.generate_text("claude-sonnet-4-5", [{"role": "user", "content": "x"}], sampling={"temperature": 0.3, "top_p": 0.9})
    finally:
        a.close()
    assert "temperature=0.3" in gen.text and gen.dropped == ("top_p",)
    bodies = [r.json for r in fake.requests_for("anthropic", "/v1/chat/completions")]
    assert "temperature" not in bodies[0]
    assert "top_p" in bodies[1] and "top_p" not in bodies[2]


def test_rejected_parameter_is_remembered_per_model(fake_env, fake):
    # an empty no-sampling list: aimo sends temperature, the provider rejects it, aimo learns
    text = fake.settings_toml([p for p in PROVIDERS if p != "anthropic"]) + '\n[providers.anthropic]\nbase_url = "%s"\nno_sampling_prefixes = []\n' % fake.base_url("anthropic")
    from tests.fakeenv import settings_path

    settings_path().write_text(text)
    a = adapter("anthropic")
    try:
        first = a.generate_text("claude-opus-4-7", [{"role": "user", "content": "x"}], sampling={"temperature": 0.5})
        second = a.generate_text("claude-opus-4-7", [{"role": "user", "content": "y"}], sampling={"temperature": 0.5})
    finally:
        a.close()
    assert first.dropped == ("temperature",) and second.dropped == ()
    reqs = fake.requests_for("anthropic", "/v1/chat/completions")
    assert len(reqs) == 3 and "temperature" not in reqs[2].json
    quirks = json.loads((context().cache_dir / "param-quirks.json").read_text())
    assert quirks == {"anthropic:claude-opus-4-7": {"drop": ["temperature"]}}


def test_openai_reasoning_models(fake_env, fake):
    a = adapter("openai")
    try:
        gen = a.generate_text("o4-mini", [{"role": "user", "content": "x"}], sampling={"temperature": 0.5}, stream=False)
    finally:
        a.close()
    assert gen.dropped == ("temperature",) and "temperature=none" in gen.text
    reqs = fake.requests_for("openai", "/v1/chat/completions")
    assert "max_completion_tokens" in reqs[0].json and "max_tokens" not in reqs[0].json


def test_max_tokens_rename_is_learned(fake_env, fake):
    fake.models["openai"].append(("o9-preview", "text", 1))
    fake.fail_next("openai", 400, {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "param": "max_tokens"}})
    a = adapter("openai")
    try:
        gen = a.generate_text("gpt-4.1", [{"role": "user", "content": "x"}])
    finally:
        a.close()
    assert gen.dropped == ("max_tokens\u2192max_completion_tokens",)
    last = fake.requests_for("openai", "/v1/chat/completions")[-1].json
    assert "max_completion_tokens" in last and "max_tokens" not in last


def test_groq_rejects_array_content_for_system_but_adapter_flattens(fake_env, fake):
    import httpx

    body = {"model": "openai/gpt-oss-120b", "messages": [{"role": "system", "content": [{"type": "text", "text": "s"}]}, {"role": "user", "content": [{"type": "text", "text": "u"}]}]}
    r = httpx.post(fake.base_url("groq") + "/chat/completions", json=body, headers={"Authorization": f"Bearer {fake_env['groq']}"}, trust_env=False)
    assert r.status_code == 400 and "must be a string" in r.json()["error"]["message"]
    r = httpx.post(fake.base_url("openai") + "/chat/completions", json={**body, "model": "gpt-4.1"}, headers={"Authorization": f"Bearer {fake_env['openai']}"}, trust_env=False)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"].endswith("] u")
    a = adapter("groq")
    try:
        gen = a.generate_text("openai/gpt-oss-120b", body["messages"])
    finally:
        a.close()
    assert gen.text.endswith("] u")


def test_retry_after_is_honoured_and_capped(fake_env, fake):
    slept = []
    fake.fail_next("groq", 429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "2"})
    fake.fail_next("groq", 503, "upstream unavailable", {"Retry-After": "9999"})
    a = adapter("groq", sleep=slept.append)
    try:
        models = a.list_models()
    finally:
        a.close()
    assert models and slept == [2.0, 20.0]


def test_retries_are_bounded(fake_env, fake):
    slept = []
    fake.fail_next("xai", 500, {"error": "boom"}, times=10)
    a = adapter("xai", sleep=slept.append)
    with pytest.raises(RemoteError) as err:
        a.list_models()
    a.close()
    assert len(slept) == 3 and "HTTP 500" in err.value.message and "boom" in err.value.message


def test_pool_fails_over_on_401_and_429(fake, fake_env, monkeypatch):
    bad = make_key("gsk-revoked")
    good = fake_env["groq"]
    monkeypatch.setenv("GROQ_API_KEY", f"{bad}\n{good}")
    a = adapter("groq")
    try:
        for _ in range(3):
            a.list_models()
    finally:
        a.close()
    used = [r.auth_key for r in fake.requests_for("groq", "/v1/models")]
    assert bad in used and used[-1] == good and used.count(good) == 3
    other = fake.make_valid_key("groq")
    monkeypatch.setenv("GROQ_API_KEY", f"{good}\n{other}")
    fake.clear()
    fake.fail_next("groq", 429, {"error": {"message": "Rate limit"}})
    slept = []
    a = adapter("groq", sleep=slept.append)
    try:
        a.list_models()
    finally:
        a.close()
    keys = [r.auth_key for r in fake.requests_for("groq")]
    assert len(keys) == 2 and keys[0] != keys[1] and slept == []  # switched key instead of waiting


def test_garbage_and_unreachable_are_remote_errors(fake_env, fake):
    fake.fail_next("nvidia", 200, "<html><title>Captive portal</title></html>")
    a = adapter("nvidia")
    with pytest.raises(RemoteError) as err:
        a.list_models()
    assert "not JSON" in err.value.message and "Captive portal" in err.value.message
    fake.down("nvidia")
    with pytest.raises(RemoteError) as err:
        a.list_models()
    a.close()
    assert err.value.code == 5


def test_auth_errors_exit_4(fake_env, fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", make_key("sk-wrong"))
    a = adapter("openai")
    with pytest.raises(AuthError) as err:
        a.list_models()
    a.close()
    assert err.value.code == 4 and "aimo keys set openai" in err.value.hint


@pytest.mark.parametrize("pid, model", [("openai", "gpt-image-1"), ("xai", "grok-2-image-1212")])
def test_image_generation(fake_env, fake, pid, model):
    a = adapter(pid)
    try:
        img = a.generate_image(model, "a cat")
    finally:
        a.close()
    assert img.b64_json and img.model == model


def test_image_generation_unsupported(fake_env):
    a = adapter("groq")
    with pytest.raises(UsageError):
        a.generate_image("x", "a cat")
    a.close()


def test_base_url_from_settings_else_default(fake_env, fake):
    from aimo_cli.providers import base_url_for

    ctx = context()
    assert base_url_for(ctx, "groq") == fake.base_url("groq")
    assert base_url_for(ctx, "ollama", credentials.resolve(ctx, "ollama")) == fake.base_url("ollama")
    from tests.fakeenv import settings_path

    settings_path().write_text("")
    assert base_url_for(ctx, "groq") == "https://api.groq.com/openai/v1"


def test_keys_never_appear_in_debug_log(fake_env, fake):
    lines = []
    ctx = context()
    ctx.options.debug = True
    ctx.debug_log = lines.append
    a = make_adapter(ctx, "openai", credential=credentials.resolve(ctx, "openai"), sleep=lambda s: None)
    a.list_models()
    a.close()
    assert lines and not any(fake_env["openai"] in line for line in lines)


def test_requests_go_through_aimos_transport_and_streams_arrive_piece_by_piece():
    """A provider answer is read whole by aimo's own transport (no httpcore, capped), except a streamed completion:
    `ask` prints each piece as it comes, so the first piece reaches the caller while the provider is still writing."""
    import re
    import socket
    import threading

    from aimo_cli.providers.base import AdapterConfig, OpenAICompatAdapter
    from aimo_cli.transport import DirectTransport

    first_seen, rest_sent = threading.Event(), threading.Event()
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def piece(text: str) -> bytes:
        data = ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}) + "\n\n").encode()
        return b"%x\r\n%s\r\n" % (len(data), data)

    def serve():
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += conn.recv(65536)
            head, _, body = buf.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + piece("first "))
            first_seen.wait(5)
            rest_sent.set()
            conn.sendall(piece("second") + piece("") + b"0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    a = OpenAICompatAdapter(AdapterConfig(provider="groq", base_url=f"http://127.0.0.1:{port}/v1", pool=(make_key("gsk-stream"),), sleep=lambda s: None))
    early = []

    def on_text(text: str) -> None:
        early.append(not rest_sent.is_set())
        first_seen.set()

    try:
        assert isinstance(a.http._client._transport, DirectTransport)
        gen = a.generate_text("m", [{"role": "user", "content": "hi"}], on_text=on_text)
    finally:
        a.close()
        srv.close()
        thread.join(5)
    assert gen.text == "first second"
    assert early == [True, False]  # the first piece was handed over before the provider sent the rest
