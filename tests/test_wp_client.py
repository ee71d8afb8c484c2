"""The REST client against a fake transport: routes, retries, error mapping, redacted debug log."""

from __future__ import annotations

import json

import httpx
import pytest

from aimo_cli.errors import AuthError, ExitCode, RemoteError
from aimo_cli.wordpress.client import RestRoot, WordPressClient
from aimo_cli.wordpress.discovery import discover, link_header_root, parse_generator_version

from .secrets_registry import make_key


def _client(handler, **kw):
    pw = kw.pop("password", "abcd efgh ijkl mnop qrst uvwx")
    return WordPressClient(RestRoot.parse("https://wp.example/wp-json/"), "admin", pw, transport=httpx.MockTransport(handler), sleep=lambda s: None, **kw)


def test_rest_root_forms():
    assert RestRoot.parse("https://a/wp-json").url_and_params("/wp/v2/settings", None) == ("https://a/wp-json/wp/v2/settings", {})
    q = RestRoot.parse("https://a/index.php?rest_route=/")
    assert q.query_style and q.url_and_params("wp/v2/settings", {"_fields": "x"}) == ("https://a/index.php", {"rest_route": "/wp/v2/settings", "_fields": "x"})


def test_get_retries_503_then_succeeds_and_honours_retry_after():
    calls, sleeps = [], []

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "x"})
        if len(calls) == 2:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"ok": True})

    c = WordPressClient(RestRoot.parse("https://wp.example/wp-json/"), "u", "p" * 10, transport=httpx.MockTransport(handler), sleep=sleeps.append)
    assert c.get("/wp/v2/settings") == {"ok": True}
    assert len(calls) == 3 and sleeps[0] == 3.0


def test_post_is_not_retried():
    calls = []

    def handler(req):
        calls.append(req)
        return httpx.Response(503, json={"code": "down", "message": "maintenance"})

    with pytest.raises(RemoteError) as err:
        _client(handler).post("/wp/v2/settings", {"a": 1})
    assert len(calls) == 1 and "HTTP 503 down: maintenance" in err.value.message


@pytest.mark.parametrize(
    "status, body, exc, needle",
    [
        (401, {"code": "rest_forbidden", "message": "Sorry"}, AuthError, "refused the credentials"),
        (403, {"code": "rest_forbidden", "message": "Sorry"}, AuthError, "manage_options"),
        (404, {"code": "rest_no_route", "message": "No route"}, RemoteError, "rest_no_route"),
        (500, {"code": "internal_server_error", "message": "critical error"}, RemoteError, "HTTP 500"),
    ],
)
def test_error_mapping(status, body, exc, needle):
    with pytest.raises(exc) as err:
        _client(lambda r: httpx.Response(status, json=body), retries=0).get("/wp/v2/settings")
    assert needle in (err.value.message + (err.value.hint or ""))


def test_html_instead_of_json_is_remote_error():
    with pytest.raises(RemoteError) as err:
        _client(lambda r: httpx.Response(200, html="<html>Login</html>")).get("/wp/v2/settings")
    assert "HTML instead of JSON" in err.value.message and err.value.code == ExitCode.REMOTE


def test_connect_error_and_timeout():
    def refuse(req):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(RemoteError, match="cannot reach"):
        _client(refuse, retries=1).get("/")

    def dns(req):
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    with pytest.raises(RemoteError, match="does not resolve"):
        _client(dns, retries=0).get("/")

    def slow(req):
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(RemoteError, match="did not answer"):
        _client(slow, retries=0).get("/")


def test_debug_log_redacts_authorization_and_keys():
    key = make_key()
    lines: list[str] = []
    password = "Abcd Efgh Ijkl Mnop Qrst Uvwx"

    def handler(req):
        assert req.headers["authorization"].startswith("Basic ")
        return httpx.Response(200, json={"echo": json.loads(req.content)})

    from aimo_cli import redact

    redact.register(key)
    c = _client(handler, password=password, debug=lines.append)
    c.post("/wp/v2/settings", {"connectors_ai_groq_api_key": key})
    log = redact.redact("\n".join(lines))
    assert key not in log and password not in log and password.replace(" ", "") not in log
    assert "Basic" not in log or "[redacted]" in log


def test_link_header_and_generator_parsing():
    assert link_header_root('<https://a.example/wp-json/>; rel="https://api.w.org/"') == "https://a.example/wp-json/"
    assert link_header_root('<https://a.example/?rest_route=/>; rel="https://api.w.org/", <x>; rel="alternate"') == "https://a.example/?rest_route=/"
    assert link_header_root("<https://a.example/feed>; rel=alternate") is None
    assert parse_generator_version("<generator>https://wordpress.org/?v=7.1.4</generator>") == "7.1.4"
    assert parse_generator_version('<meta name="generator" content="WordPress 7.0-RC1" />') == "7.0-RC1"


def test_discover_falls_back_to_rest_route():
    def handler(req):
        if req.method == "HEAD":
            return httpx.Response(200)
        if req.url.path == "/wp-json/":
            return httpx.Response(404, html="<html>not found</html>")
        if req.url.params.get("rest_route") == "/":
            return httpx.Response(200, json={"name": "Blog", "home": "https://b.example", "namespaces": ["wp/v2"], "authentication": {"application-passwords": {}}})
        return httpx.Response(404)

    index = discover("https://b.example", transport=httpx.MockTransport(handler))
    assert index.root.query_style and index.application_passwords and not index.has_bridge


def test_discover_html_everywhere():
    with pytest.raises(RemoteError, match="HTML instead of JSON"):
        discover("https://b.example", transport=httpx.MockTransport(lambda r: httpx.Response(200, html="<html>hi</html>")))
