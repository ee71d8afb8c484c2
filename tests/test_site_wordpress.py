"""aimo site add / test against the real WordPress 7 test site."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aimo_cli.errors import ExitCode

from .clihelper import run_cli

pytestmark = pytest.mark.wordpress


def add(wp_site, name="local", password=None, user=None, extra=()):
    return run_cli(
        ["site", "add", name, wp_site.url, "--user", user or wp_site.admin_user, "--stdin", *extra],
        stdin=(password if password is not None else wp_site.admin_app_password) + "\n",
    )


def test_add_and_test_good_password(wp_site):
    r = add(wp_site)
    assert r.code == 0, r.err
    assert "logged in as admin" in r.out
    sites = json.loads(run_cli(["site", "list", "--json"]).out)["sites"]
    assert sites == [{"name": "local", "url": wp_site.url, "user": "admin", "group": None, "default": True, "password_stored": True}]
    r = run_cli(["site", "test", "--json"])
    assert r.code == 0, r.err
    report = json.loads(r.out)
    checks = {c["id"]: c["status"] for c in report["checks"]}
    assert checks["site.reachable"] == checks["site.credentials"] == checks["site.manage_options"] == "ok"  # the doctor's site group
    assert checks["site.wordpress_version"] == "ok" and report["wordpress_version"] == wp_site.wp_version
    assert {c["group"] for c in report["checks"]} == {"site local"}
    assert report["rest_root"] == wp_site.url + "/wp-json/"


def test_connector_settings_reported_match_wordpress(wp_site):
    assert add(wp_site).code == 0
    report = json.loads(run_cli(["site", "test", "local", "--json"]).out)
    registered = json.loads(
        wp_site.php_eval(
            "echo json_encode(array_values(array_filter(array_keys(get_registered_settings()), "
            "fn($k) => str_starts_with($k, 'connectors_') && str_ends_with($k, '_api_key'))));"
        )
    )
    assert report["connector_settings"] == sorted(registered)


def test_app_password_with_display_spaces(wp_site):
    pw = wp_site.admin_app_password
    spaced = " ".join(pw[i : i + 4] for i in range(0, len(pw), 4))
    assert add(wp_site, password=spaced).code == 0


def test_wrong_password_exit_4_and_nothing_saved(wp_site):
    r = add(wp_site, password="wrong wrong wrong wrong wrong wrong")
    assert r.code == ExitCode.AUTH, r.err
    assert "refused the credentials" in r.err and "Hint:" in r.err
    assert json.loads(run_cli(["site", "list", "--json"]).out)["sites"] == []


def test_unknown_user_exit_4(wp_site):
    assert add(wp_site, user="nobody-here").code == ExitCode.AUTH


def test_non_admin_exit_4_names_manage_options(wp_site):
    r = add(wp_site, user=wp_site.editor_user, password=wp_site.editor_app_password)
    assert r.code == ExitCode.AUTH
    assert "manage_options" in r.err and "editor" in r.err


def test_site_test_after_password_revoked(wp_site, monkeypatch):
    assert add(wp_site).code == 0
    from aimo_cli.stores.secrets import MemoryBackend

    MemoryBackend._data["site/local"] = "revoked revoked revoked revoked"
    r = run_cli(["site", "test", "local"])
    assert r.code == ExitCode.AUTH and "aimo site add" in r.err


def test_rest_route_fallback_via_query_root(wp_site):
    """A site whose /wp-json/ is broken (no pretty permalinks) still works through ?rest_route=."""
    from aimo_cli.wordpress.client import RestRoot, WordPressClient

    with WordPressClient(RestRoot(wp_site.url + "/", True), wp_site.admin_user, wp_site.admin_app_password) as c:
        me = c.get("/wp/v2/users/me")
    assert me["slug"] == "admin"


class _HTMLHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<html><body><h1>Access denied</h1>firewall</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *a):
        pass


def test_html_instead_of_json_exit_5():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HTMLHandler)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        r = run_cli(["site", "add", "fw", f"http://127.0.0.1:{server.server_port}", "--user", "admin", "--stdin"], stdin="abcd efgh ijkl mnop\n")
    finally:
        server.shutdown()
    assert r.code == ExitCode.REMOTE
    assert "HTML instead of JSON" in r.err


def test_unreachable_site_exit_5():
    r = run_cli(["site", "add", "gone", "http://127.0.0.1:9", "--user", "admin", "--stdin"], stdin="abcd efgh ijkl mnop\n")
    assert r.code == ExitCode.REMOTE and "cannot reach" in r.err


def test_plain_http_remote_host_refused_before_prompt():
    r = run_cli(["site", "add", "blog", "http://blog.example", "--user", "admin", "--stdin"], stdin="x")
    assert r.code == ExitCode.REFUSED and "--allow-insecure-http" in r.err


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "ü"])
def test_bad_site_names(name):
    r = run_cli(["site", "add", name, "https://b.example", "--user", "a", "--stdin"], stdin="x")
    assert r.code == ExitCode.USAGE


def test_use_rm_and_default(wp_site):
    assert add(wp_site, "one").code == 0
    assert add(wp_site, "two").code == 0
    assert run_cli(["site", "use", "two"]).code == 0
    rows = {r["name"]: r for r in json.loads(run_cli(["site", "list", "--json"]).out)["sites"]}
    assert rows["two"]["default"] and not rows["one"]["default"]
    assert run_cli(["site", "rm", "two", "--yes"]).code == 0
    assert run_cli(["site", "use", "nope"]).code == ExitCode.USAGE
    r = run_cli(["site", "test"])  # the only remaining site is used
    assert r.code == 0, r.err
