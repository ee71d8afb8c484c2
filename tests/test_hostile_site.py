"""Origin pinning and redirects against a hostile site on two loopback origins (tests/hostile.py; docs/security.md).

A is 127.0.0.1:P, the origin the admin names; B is 127.0.0.2:P, somewhere else. Every test checks what reached B:
the application password (an Authorization header) or a key in a body must never get there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from aimo_cli.errors import ExitCode, RemoteError, SafetyError
from aimo_cli.stores.secrets import MemoryBackend
from aimo_cli.wordpress import bridge as bridge_api
from aimo_cli.wordpress.client import RestRoot, WordPressClient

from .clihelper import run_cli
from .hostile import HostilePair, wordpress_index
from .secrets_registry import make_key

PASSWORD = "Hstl Pass Word Abcd Efgh Ijkl"


@pytest.fixture
def pair():
    from tests import secrets_registry

    secrets_registry.register(PASSWORD)
    with HostilePair() as p:
        yield p


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def _add(url: str, *extra: str):
    return run_cli(["site", "add", "blog", url, "--user", "admin", "--stdin", *extra], stdin=PASSWORD + "\n")


def _no_secret_at(server) -> None:
    assert server.with_auth() == [], [(s.method, s.path) for s in server.with_auth()]
    assert not any(PASSWORD.replace(" ", "").encode() in s.body for s in server.seen)


# -- 1. origin pinning ------------------------------------------------------------------------------------------------


def test_link_header_naming_another_origin_is_refused_and_the_password_stays_home(pair):
    """Was: discovery took B's REST root from A's Link header and logged in there (users/me, settings with Basic auth)."""
    pair.a.route("HEAD", "/", 200, "", {"Link": f'<{pair.b.url}/wp-json/>; rel="https://api.w.org/"'}, "text/html")
    r = _add(pair.a.url)
    assert r.code == ExitCode.REFUSED, r.text
    assert "http://127.0.0.1:" in r.err and "http://127.0.0.2:" in r.err  # both origins named
    assert "--rest-root" in r.err  # and the flag that accepts it
    assert pair.b.seen == []  # B was not even asked
    _no_secret_at(pair.a)
    assert not config_path().exists() or "blog" not in config_path().read_text()  # nothing stored
    assert "site/blog" not in MemoryBackend._data


def test_rest_root_flag_accepts_another_origin_explicitly_and_pins_to_it(pair):
    pair.a.route("HEAD", "/", 200, "", {"Link": f'<{pair.b.url}/wp-json/>; rel="https://api.w.org/"'}, "text/html")
    r = _add(pair.a.url, "--rest-root", pair.b.url + "/wp-json/")
    assert r.code == 0, r.text
    authed = [s.path for s in pair.b.with_auth()]  # site add runs the doctor's site checks there (users/me with the status)
    assert "/wp-json/wp/v2/users/me?context=edit" in authed and "/wp-json/wp/v2/settings" in authed
    assert all(path.startswith("/wp-json/") for path in authed), authed
    _no_secret_at(pair.a)  # the password went to the origin the admin named with --rest-root, and only there
    text = config_path().read_text()
    assert f'rest_root = "{pair.b.url}/wp-json/"' in text and "rest_root_explicit = true" in text
    pair.b.seen.clear()
    assert run_cli(["site", "test", "blog"]).code == 0
    assert pair.b.with_auth() and pair.a.with_auth() == []


def test_rest_root_flag_obeys_the_https_rule():
    r = run_cli(["site", "add", "blog", "https://blog.example", "--user", "admin", "--stdin", "--rest-root", "http://api.blog.example/wp-json/"], stdin=PASSWORD)
    assert r.code == ExitCode.REFUSED and "plain http" in r.err and "--allow-insecure-http" in r.err, r.text


def test_index_home_on_another_origin_gets_no_password_and_the_feed_goes_without_credentials(pair):
    """Was: the version check fetched `home + /?feed=rss2` with the authenticated client (the password went to `home`)."""
    pair.a.route("GET", "/wp-json/", 200, wordpress_index(pair.a.url, home=pair.b.url))
    r = _add(pair.a.url)
    assert r.code == 0, r.text
    assert "WordPress 7.1.4" in r.out  # the version still comes from the feed, on the site's own origin
    assert pair.b.seen == []
    feed = [s for s in pair.a.seen if "feed=rss2" in s.path]
    assert feed and all(s.auth is None for s in feed)


def test_stored_rest_root_on_another_origin_is_refused_with_the_fix(pair):
    """A profile written by an older aimo (rest_root taken from a hostile Link header) is refused at use."""
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(f'default_site = "blog"\n\n[sites.blog]\nurl = "{pair.a.url}"\nuser = "admin"\nrest_root = "{pair.b.url}/wp-json/"\n')
    MemoryBackend._data["site/blog"] = PASSWORD
    for args in (["sync", "status"], ["site", "test"], ["mode"]):
        r = run_cli(args)
        assert r.code == ExitCode.REFUSED, (args, r.text)
        assert "127.0.0.2" in r.err and f"aimo site add blog {pair.a.url}" in r.err, r.err
    assert pair.b.seen == []


def test_the_transport_check_refuses_any_request_to_another_origin(pair):
    """The one check point: whatever builds the request, nothing with the client's credentials leaves the origin."""
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    for public in (False, True):  # _send: the one path every request of a client takes, with or without the password
        with pytest.raises(SafetyError) as err:
            client._send("GET", pair.b.url + "/wp-json/wp/v2/settings", public=public)
        assert "127.0.0.2" in err.value.message and err.value.code == ExitCode.REFUSED
    assert pair.b.seen == []
    assert client.get("/wp/v2/settings")["title"] == "Hostile"  # the pinned origin itself works
    client.close()


def test_a_client_refuses_a_root_off_its_origin():
    with pytest.raises(SafetyError):
        WordPressClient(RestRoot.parse("https://api.example/wp-json/"), "admin", PASSWORD, origin="https://blog.example")


# -- 2. redirects -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_write_redirected_elsewhere_is_not_followed_and_the_key_stays(pair, status):
    """Was: a 307 to B re-sent `POST /aimo/v1/credentials {"openai": "sk-…"}` there, and B's answer was taken as the site's."""
    key = make_key("sk-")
    pair.a.redirect("POST", "/wp-json/aimo/v1/credentials", pair.b.url + "/steal", status)
    pair.b.route("POST", "/steal", 200, {"results": {"openai": {"status": "stored"}}})
    pair.b.route("GET", "/steal", 200, {"results": {"openai": {"status": "stored"}}})
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    with pytest.raises(RemoteError) as err:
        bridge_api.put_credentials(client, {"openai": key})
    assert err.value.code == ExitCode.REMOTE
    assert pair.b.url + "/steal" in err.value.message  # names the target
    assert pair.b.seen == []
    client.close()


def test_a_write_is_not_followed_even_on_the_same_origin(pair):
    pair.a.redirect("POST", "/wp-json/wp/v2/settings", pair.a.url + "/wp-json/wp/v2/settings/", 308)
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    with pytest.raises(RemoteError) as err:
        client.post("/wp/v2/settings", {"title": "x"})
    assert "never follows a redirect on a write" in err.value.hint
    assert [s.method for s in pair.a.seen] == ["POST"]  # sent once, never re-sent
    client.close()


def test_a_read_redirected_to_another_origin_is_an_error_naming_it(pair):
    pair.a.redirect("GET", "/wp-json/wp/v2/settings", pair.b.url + "/wp-json/wp/v2/settings", 302)
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    with pytest.raises(RemoteError) as err:
        client.get("/wp/v2/settings")
    assert err.value.code == ExitCode.REMOTE and "127.0.0.2" in err.value.message
    assert pair.b.seen == []
    client.close()


def test_a_read_redirected_on_the_same_origin_is_followed(pair):
    pair.a.redirect("GET", "/wp-json/wp/v2/settings", "/wp-json/wp/v2/settings/", 301)
    pair.a.route("GET", "/wp-json/wp/v2/settings/", 200, {"title": "moved"})
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    assert client.get("/wp/v2/settings") == {"title": "moved"}
    assert [s.auth is not None for s in pair.a.seen] == [True, True]
    client.close()


def test_site_add_where_the_site_redirects_to_another_origin(pair):
    pair.a.redirect("GET", "/", pair.b.url + "/", 301)
    pair.a.redirect("GET", "/wp-json/", pair.b.url + "/wp-json/", 301)
    pair.a.redirect("GET", "/?rest_route=/", pair.b.url + "/?rest_route=/", 301)
    r = _add(pair.a.url)
    assert r.code == ExitCode.REMOTE, r.text
    assert "127.0.0.2" in r.err and "aimo site add" in r.err
    assert pair.b.seen == []


def _mock_client(base: str, handler, **kw):
    return WordPressClient(RestRoot.parse(base + "/wp-json/"), "admin", PASSWORD, retries=0, transport=httpx.MockTransport(handler), **kw)


def test_https_to_http_redirect_is_refused_and_http_to_https_on_the_same_host_is_followed():
    seen = []

    def downgrade(req):
        seen.append(str(req.url))
        if req.url.scheme == "https":
            return httpx.Response(301, headers={"Location": "http://wp.example/wp-json/wp/v2/settings"})
        return httpx.Response(200, json={"plain": True})

    with pytest.raises(RemoteError) as err:
        _mock_client("https://wp.example", downgrade).get("/wp/v2/settings")
    assert "http://wp.example/wp-json/wp/v2/settings" in err.value.message and "https to plain http" in err.value.hint
    assert seen == ["https://wp.example/wp-json/wp/v2/settings"]

    seen.clear()

    def upgrade(req):
        seen.append((str(req.url), req.headers.get("authorization", "")[:5]))
        if req.url.scheme == "http":
            return httpx.Response(301, headers={"Location": "https://wp.example/wp-json/wp/v2/settings"})
        return httpx.Response(200, json={"tls": True})

    assert _mock_client("http://wp.example", upgrade).get("/wp/v2/settings") == {"tls": True}
    assert seen == [("http://wp.example/wp-json/wp/v2/settings", "Basic"), ("https://wp.example/wp-json/wp/v2/settings", "Basic")]


# -- 6. raw keys over http only on loopback -------------------------------------------------------------------------------


def test_raw_key_is_never_read_over_plain_http_from_a_non_loopback_host():
    key = make_key("sk-")
    seen = []

    def handler(req):
        seen.append(req.url.path)
        return httpx.Response(200, json={"id": "openai", "key": key, "key_source": "option"})

    client = _mock_client("http://blog.example", handler)
    with pytest.raises(SafetyError) as err:
        bridge_api.get_credential(client, "openai")
    assert err.value.code == ExitCode.REFUSED and "plain http" in err.value.message
    assert seen == []  # not even asked
    assert bridge_api.get_credential(_mock_client("https://blog.example", handler), "openai") == key


def test_raw_key_over_http_is_read_from_a_loopback_site(pair):
    key = make_key("sk-")
    pair.a.route("GET", "/wp-json/aimo/v1/credentials/openai", 200, {"id": "openai", "key": key, "key_source": "option"})
    client = WordPressClient(RestRoot.parse(pair.a.url + "/wp-json/"), "admin", PASSWORD, retries=0)
    assert bridge_api.get_credential(client, "openai") == key
    client.close()


def test_hostile_pair_binds_two_loopback_origins(pair):
    """The harness itself: two origins, same port, each bound to its own loopback address."""
    assert pair.a.host == "127.0.0.1" and pair.b.host == "127.0.0.2" and pair.a.port == pair.b.port
    assert json.loads(httpx.get(pair.b.url + "/wp-json/").text)["url"] == pair.b.url
    assert pair.b.seen[-1].path == "/wp-json/"


def test_sync_push_whose_write_is_redirected_elsewhere_delivers_no_key_there(pair, fake, monkeypatch):
    """End to end, the finding as reported: the settings write (carrying the key) answered with a 307 to another origin."""
    from .fakeenv import write_settings

    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    write_settings(fake)
    key = fake.make_valid_key("openai")
    assert run_cli(["keys", "set", "openai", "--stdin"], stdin=key).code == 0
    with config_path().open("a") as fh:
        fh.write(f'\n[sites.blog]\nurl = "{pair.a.url}"\nuser = "admin"\n')
    MemoryBackend._data["site/blog"] = PASSWORD
    pair.a.redirect("POST", "/wp-json/wp/v2/settings", pair.b.url + "/wp-json/wp/v2/settings", 307)
    pair.b.route("POST", "/wp-json/wp/v2/settings", 200, {"connectors_ai_openai_api_key": "••••" + key[-4:]})
    r = run_cli(["sync", "push"])
    assert r.code == ExitCode.REMOTE, r.text
    assert pair.b.url + "/wp-json/wp/v2/settings" in r.text and "not followed" in r.text
    assert pair.b.seen == []
    assert [s.method for s in pair.a.seen if s.method == "POST"] == ["POST"]  # the write went once, to the site only
