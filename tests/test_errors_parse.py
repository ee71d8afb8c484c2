"""The pure request-policy and error-parsing helpers: table-driven cases and hypothesis properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimo_cli.core.provider_errors import MAX_LEN, describe_http_error, error_message, rejected_parameter
from aimo_cli.core.sampling import ParamQuirks, chat_body, flatten_content, rejects_sampling, uses_max_completion_tokens

PERPLEXITY_401 = "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body><center><h1>401 Authorization Required</h1></center></body></html>"


@pytest.mark.parametrize(
    "body, ctype, expected",
    [
        ('{"error":{"message":"Invalid API Key","type":"invalid_request_error"}}', "application/json", "Invalid API Key"),
        ('[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]', None, "API key not valid. Please pass a valid API key."),
        ('{"code":"Client specified an invalid argument","error":"Incorrect API key provided"}', None, "Incorrect API key provided"),
        ('{"status":403,"title":"Forbidden","detail":"key lacks scope"}', "application/problem+json", "Forbidden: key lacks scope"),
        ('{"type":"error","error":{"type":"invalid_request_error","message":"`temperature` is deprecated for this model."}}', None, "`temperature` is deprecated for this model."),
        ('{"detail":[{"loc":["body","model"],"msg":"field required"}]}', None, "field required"),
        (PERPLEXITY_401, "text/html", "401 Authorization Required"),
        ("<h1>Bad Gateway</h1>", None, "Bad Gateway"),
        ("upstream connect error\n  or disconnect", "text/plain", "upstream connect error or disconnect"),
        ('"just a string"', None, "just a string"),
        ("", None, ""),
        ("{}", None, ""),
        ("[]", None, ""),
        ("{not json", None, "{not json"),
        (b'{"error":{"message":"caf\xc3\xa9"}}', None, "café"),
    ],
)
def test_error_message_shapes(body, ctype, expected):
    assert error_message(body, ctype) == expected


def test_describe_quotes_the_provider():
    assert describe_http_error("Groq", 401, '{"error":{"message":"Invalid API Key"}}') == "Groq answered HTTP 401: \u201cInvalid API Key\u201d"
    assert describe_http_error("NVIDIA", 502, "") == "NVIDIA answered HTTP 502 with no explanation"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["error", "message", "detail", "title", "code", "errors", "x"]), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=2000), st.binary(max_size=500), json_values.map(json.dumps)), st.sampled_from([None, "text/html", "application/json", "text/plain"]))
def test_error_message_is_always_one_bounded_printable_line(body, ctype):
    msg = error_message(body, ctype)
    assert isinstance(msg, str)
    assert len(msg) <= MAX_LEN
    assert "\n" not in msg and "\r" not in msg
    assert all(ch.isprintable() for ch in msg)
    assert msg == msg.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(whitelist_categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=80))
def test_error_message_finds_the_message_in_every_known_shape(text):
    shapes = [{"error": {"message": text}}, {"error": text}, [{"error": {"message": text}}], {"message": text}, {"detail": text}]
    for shape in shapes:
        assert error_message(json.dumps(shape)) == text


@pytest.mark.parametrize(
    "message, sent, expected",
    [
        ("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", ["model", "messages", "max_tokens"], ("max_tokens", "max_completion_tokens")),
        ("Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is supported.", ["max_completion_tokens", "temperature"], ("temperature", None)),
        ("`temperature` is deprecated for this model.", ["max_tokens", "temperature"], ("temperature", None)),
        ("`temperature` and `top_p` cannot both be specified for this model. Please use only one.", ["temperature", "top_p"], ("top_p", None)),
        ("max_tokens must be at most 8192", ["max_tokens"], None),
        ("The model `x` does not exist", ["max_tokens"], None),
        ("temperature is not supported", ["max_tokens"], None),
        ("", ["temperature"], None),
    ],
)
def test_rejected_parameter(message, sent, expected):
    assert rejected_parameter(message, sent) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.lists(st.sampled_from(["temperature", "top_p", "top_k", "max_tokens", "model", "stream"]), max_size=6))
def test_rejected_parameter_only_names_sent_parameters(message, sent):
    found = rejected_parameter(message, sent)
    assert found is None or (found[0] in sent and found[0] not in ("model", "stream"))


@pytest.mark.parametrize(
    "model, rejects",
    [
        ("claude-opus-4-7", True), ("claude-opus-4-8-20260901", True), ("claude-opus-5-5", True), ("claude-sonnet-5", True),
        ("claude-haiku-5-5", True), ("claude-fable-5-1", True), ("claude-mythos-5", True), ("anthropic/claude-opus-5-5", True),
        ("claude-opus-4-6", False), ("claude-sonnet-4-5", False), ("claude-haiku-4-5", False), ("gpt-5.5", False), ("llama3.2:latest", False),
    ],
)
def test_no_sampling_defaults(model, rejects):
    assert rejects_sampling(model) is rejects


def test_no_sampling_prefixes_are_configurable():
    assert rejects_sampling("my-model-1", ["my-model"]) is True
    assert rejects_sampling("claude-opus-5-5", []) is False


@pytest.mark.parametrize(
    "provider, model, expected",
    [("openai", "o3", True), ("openai", "o4-mini", True), ("openai", "gpt-5.5", True), ("openai", "gpt-5-mini", True), ("openai", "gpt-10", True),
     ("openai", "gpt-4.1", False), ("openai", "gpt-image-1", False), ("groq", "openai/gpt-oss-120b", False), ("openrouter", "openai/gpt-5.5", False)],
)
def test_max_completion_tokens(provider, model, expected):
    assert uses_max_completion_tokens(provider, model) is expected


def test_chat_body_safe_default():
    msgs = [{"role": "user", "content": "hi"}]
    assert chat_body("groq", "m", msgs, max_tokens=10) == {"model": "m", "messages": msgs, "max_tokens": 10, "stream": True}
    body = chat_body("anthropic", "claude-opus-5-5", msgs, max_tokens=10, sampling={"temperature": 0.2, "top_p": 0.9})
    assert "temperature" not in body and "top_p" not in body
    body = chat_body("anthropic", "claude-sonnet-4-5", msgs, max_tokens=10, sampling={"temperature": 0.2, "top_k": None})
    assert body["temperature"] == 0.2 and "top_k" not in body
    body = chat_body("openai", "o3", msgs, max_tokens=10, quirks=ParamQuirks(frozenset({"temperature"}), {}), sampling={"temperature": 0.5})
    assert body == {"model": "o3", "messages": msgs, "max_completion_tokens": 10, "stream": True}


def test_flatten_content():
    msgs = [{"role": "system", "content": [{"type": "text", "text": "be "}, {"type": "text", "text": "brief"}]}, {"role": "user", "content": "hi"}]
    assert flatten_content(msgs) == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
