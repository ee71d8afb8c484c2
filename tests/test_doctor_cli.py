"""aimo doctor end to end without WordPress: fake status documents served over an httpx MockTransport; exit codes,
JSON, JUnit, quiet, strict, usage errors, the no-site case and the request budget."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest

from aimo_cli.core.secrets import fingerprint
from aimo_cli.errors import ExitCode

from .clihelper import run_cli as _run_cli
from .secrets_registry import make_key

URL = "https://blog.example"


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"


def write_config(text: str) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(text, encoding="utf-8")


def one_site(name="blog", group=None) -> str:
    g = f'group = "{group}"\n' if group else ""
    return f'[sites.{name}]\nurl = "{URL}"\nuser = "admin"\nrest_root = "{URL}/wp-json/"\n{g}\n'


def status_doc(**over):
    doc = {
        "bridge_version": "0.1.0",
        "wordpress_version": "7.1.4",
        "php_version": "8.2.29",
        "mode": "managed",
        "ai_supported": True,
        "environment_type": "production",
        "https": True,
        "wpai_active": True,
        "connectors": [],
        "managers": [],
        "approval": {"active": False, "approved": {}},
        "models": {"text": "", "image": ""},
        "no_sampling_prefixes": ["claude-opus-4-7", "claude-opus-4-8", "claude-opus-4-9", "claude-*-5", "claude-5", "claude-fable", "claude-mythos"],
        "change_log": [],
        "current_user": {"id": 1, "slug": "admin", "roles": ["administrator"], "manage_options": True},
    }
    doc.update(over)
    return doc


def connector(pid, key, **over):
    c = {
        "id": pid,
        "name": f"{pid} via aimo",
        "type": "ai_provider",
        "registered_by": "aimo",
        "manager": None,
        "provider_registered": True,
        "setting_name": f"connectors_ai_{pid}_api_key",
        "key_source": "database" if key else "none",
        "fingerprint": fingerprint(key) if key else "",
        "mask_tail": key[-4:] if key else "",
        "connected": True if key else False,
        "connected_reason": "" if key else "no key is set",
        "checked_at": "2026-11-24T10:00:00Z",
        "base_url": None,
    }
    c.update(over)
    return c


class FakeWP:
    """Answers users/me and the bridge's status route (refused as WordPress refuses it: 401 for bad credentials, 403
    without manage_options); counts every request."""

    def __init__(self, status=None, me=None, me_status=200, bridge=True, plugins=None):
        self.status = status or status_doc()
        self.me = me or {"id": 1, "slug": "admin", "roles": ["administrator"], "capabilities": {"manage_options": True}}
        self.me_status = me_status
        self.bridge = bridge
        self.plugins = plugins or []
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen.append(f"{request.method} {path}?{request.url.query.decode()}")
        if path == "/wp-json/":  # the REST index (site test discovers the REST root first)
            return httpx.Response(200, json={"name": "Blog", "home": URL, "namespaces": ["wp/v2"] + (["aimo/v1"] if self.bridge else [])})
        if path.endswith("/wp/v2/users/me"):
            if self.me_status == 401:
                return httpx.Response(401, json={"code": "rest_not_logged_in", "message": "You are not currently logged in.", "data": {"status": 401}})
            return httpx.Response(200, json=self.me)
        if path.endswith("/aimo/v1/status"):
            if not self.bridge:
                return httpx.Response(404, json={"code": "rest_no_route", "message": "No route", "data": {"status": 404}})
            if self.me_status == 401:
                return httpx.Response(401, json={"code": "rest_not_logged_in", "message": "You are not currently logged in.", "data": {"status": 401}})
            if not (self.me.get("capabilities") or {}).get("manage_options"):
                return httpx.Response(403, json={"code": "rest_forbidden", "message": "Sorry, you are not allowed to do that.", "data": {"status": 403}})
            return httpx.Response(200, json=self.status)
        if path.endswith("/wp/v2/plugins"):
            return httpx.Response(200, json=self.plugins)
        if path.endswith("/wp/v2/settings"):
            return httpx.Response(200, json={"title": "Blog"})
        if path == "/" and request.url.params.get("feed") == "rss2":
            return httpx.Response(200, text='<generator>https://wordpress.org/?v=7.1.4</generator>')
        return httpx.Response(404, json={"code": "rest_no_route", "message": "No route", "data": {"status": 404}})


@pytest.fixture
def wp(monkeypatch):
    """A FakeWP answering every site request (injected as the context's httpx transport by `run_cli` below); the site
    password stored; no background refresh."""
    from aimo_cli.stores.secrets import MemoryBackend

    monkeypatch.setenv("AIMO_BACKGROUND_REFRESH", "0")
    fake = FakeWP()
    _TRANSPORT.append(httpx.MockTransport(fake))
    MemoryBackend._data["site/blog"] = "abcd efgh ijkl mnop qrst uvwx"
    yield fake
    _TRANSPORT.clear()


_TRANSPORT: list = []  # the current test's FakeWP transport, if it asked for one


def run_cli(args, stdin: str = "", **kw):
    """The CLI with the FakeWP transport injected through the context (no module attribute is replaced)."""
    from aimo_cli.context import Dependencies

    return _run_cli(args, stdin, deps=Dependencies(transport=_TRANSPORT[-1]) if _TRANSPORT else None, **kw)


def doctor(*args):
    r = run_cli(["doctor", "--json", "--offline", *args])
    report = json.loads(r.out)
    return r, report, {(c["site"], c["id"]): c for c in report["checks"]}


# -- local only --------------------------------------------------------------------------------------------------------


def test_no_site_configured_runs_local_checks_and_says_so():
    r = run_cli(["doctor", "--offline"])
    assert r.code == 0
    assert "local" in r.out and "local.settings" in r.out
    assert "only local checks ran" in r.err


def test_invalid_settings_exit_3():
    write_config("[sites.blog\nurl = 1\n")
    r = run_cli(["doctor"])
    assert r.code == ExitCode.CONFIG
    assert "FAIL  local.settings" in r.out and "not valid TOML" in r.out
    r = run_cli(["doctor", "--json"])
    assert r.code == 3 and json.loads(r.out)["checks"][0]["status"] == "fail"


def test_usage_errors_exit_2():
    write_config(one_site(group="prod"))
    assert run_cli(["doctor", "--group", "prod", "--all"]).code == ExitCode.USAGE
    assert run_cli(["doctor", "--bogus"]).code == ExitCode.USAGE


def test_same_key_for_two_providers_fails(monkeypatch):
    key = make_key("sk-dup")
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("GOOGLE_API_KEY", key)
    r, report, checks = doctor()
    dup = checks[(None, "local.duplicate_keys")]
    assert dup["status"] == "fail" and "OpenAI = Google" in dup["message"]
    assert r.code == ExitCode.DRIFT


def test_forced_file_backend_is_ok_memory_warns(monkeypatch):
    _, _, checks = doctor()
    assert checks[(None, "local.secret_backend")]["status"] == "warn"  # the test suite's memory store
    monkeypatch.setenv("AIMO_KEYRING", "file")
    _, _, checks = doctor()
    assert checks[(None, "local.secret_backend")]["status"] == "ok"


# -- with a (fake) site ------------------------------------------------------------------------------------------------


def test_healthy_site_one_request_and_exit_0(wp, monkeypatch):
    key = make_key("gsk")
    monkeypatch.setenv("GROQ_API_KEY", key)
    wp.status = status_doc(connectors=[connector("groq", key)])
    write_config(one_site())
    r, report, checks = doctor()
    assert r.code == 0, [c for c in report["checks"] if c["status"] == "fail"]
    assert report["requests"] == {"blog": 1}
    # the bridge's status names the user: no users/me
    assert [s.split("?")[0] for s in wp.seen] == ["GET /wp-json/aimo/v1/status"]
    assert checks[("blog", "site.credentials")]["message"] == "logged in as admin"
    assert not any("check=" in s for s in wp.seen)  # --offline: no live checks on the site
    for cid in ("site.reachable", "site.https", "site.credentials", "site.manage_options", "site.bridge", "site.mode", "connector.groq.sync", "connector.groq.connected"):
        assert checks[("blog", cid)]["status"] == "ok", checks[("blog", cid)]


def test_online_asks_the_site_for_live_checks(wp, monkeypatch):
    write_config(one_site())
    r = run_cli(["doctor", "--json"])
    assert any("check=fresh" in s for s in wp.seen if "/aimo/v1/status" in s)  # live, past the bridge's cache
    assert json.loads(r.out)["requests"]["blog"] == 1


def test_approval_and_competitor_and_disconnected_preference(wp, monkeypatch):
    key = make_key("gsk")
    monkeypatch.setenv("GROQ_API_KEY", key)
    wp.status = status_doc(
        connectors=[connector("groq", key), connector("openai", "", connected=False, connected_reason="no key is set")],
        approval={"active": True, "approved": {"aimo-bridge/aimo-bridge.php": ["groq"]}},
        managers=[{"name": "AI Puffer", "slug": "gpt3-ai-content-generator", "mode": "managed", "active": True, "source": "plugin"}],
        models={"text": "openai:gpt-5-mini", "image": ""},
        wpai_active=False,
    )
    write_config(one_site())
    r, _, checks = doctor()
    assert r.code == ExitCode.DRIFT
    assert checks[("blog", "connector.groq.approval")]["status"] == "fail"
    assert checks[("blog", "site.managers")]["hint"].startswith("aimo connectors takeover blog")
    assert checks[("blog", "features.model.text")]["status"] == "fail"
    assert checks[("blog", "features.wpai")]["status"] == "warn"


def test_credentials_refused_exit_4_and_junit(wp, tmp_path):
    wp.me_status = 401
    write_config(one_site())
    junit = tmp_path / "r.xml"
    r = run_cli(["doctor", "--offline", "--junit", str(junit)])
    assert r.code == ExitCode.AUTH
    root = ET.parse(junit).getroot()
    assert [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None] == ["site.credentials"]
    # the status refused the credentials (401): that is the verdict, nothing more is asked
    assert [s.split("?")[0] for s in wp.seen] == ["GET /wp-json/aimo/v1/status"]


def test_a_bridge_that_does_not_name_the_user_means_users_me(wp):
    """A bridge too old to send current_user, or a 403 on the status (a user without manage_options): users/me says
    who is logged in, then the status is used as before."""
    doc = status_doc()
    del doc["current_user"]
    wp.status = doc
    wp.me = {"id": 7, "slug": "boss", "roles": ["administrator"], "capabilities": {"manage_options": True}}
    write_config(one_site())
    r, report, checks = doctor()
    assert r.code == 0 and report["requests"] == {"blog": 2}
    assert [s.split("?")[0] for s in wp.seen] == ["GET /wp-json/aimo/v1/status", "GET /wp-json/wp/v2/users/me"]
    assert checks[("blog", "site.credentials")]["message"] == "logged in as boss" and checks[("blog", "site.mode")]["status"] == "ok"
    wp.seen.clear()
    wp.me = {"id": 8, "slug": "ed", "roles": ["editor"], "capabilities": {"manage_options": False}}
    r, report, checks = doctor()
    assert r.code == ExitCode.AUTH and [s.split("?")[0] for s in wp.seen] == ["GET /wp-json/aimo/v1/status", "GET /wp-json/wp/v2/users/me"]
    assert checks[("blog", "site.manage_options")]["message"] == "user ed (editor) lacks the manage_options capability"


def test_an_unanswered_status_is_an_unreachable_site(wp):
    """No answer at all (here: the connection refused) is the verdict: users/me is not tried after it."""
    seen = []

    def refuse(request):
        seen.append(request.url.path)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    _TRANSPORT.append(httpx.MockTransport(refuse))
    write_config(one_site())
    r, report, checks = doctor()
    assert r.code == ExitCode.REMOTE
    reach = checks[("blog", "site.reachable")]
    assert reach["status"] == "fail" and "Connection refused" in reach["message"]
    assert seen and set(seen) == {"/wp-json/aimo/v1/status"}  # (retried, as every read is), never users/me


def test_strict_and_quiet(wp):
    wp.status = status_doc(mode="observe")
    write_config(one_site())
    r = run_cli(["doctor", "--offline", "--quiet"])
    assert r.code == 0 and r.out == ""
    r = run_cli(["doctor", "--offline", "--quiet", "--strict"])
    assert r.code == ExitCode.DRIFT
    assert "site.mode" in r.out and "aimo connectors enable blog" in r.out
    assert all("warn" in line or "FAIL" in line for line in r.out.strip().splitlines())


def test_without_bridge_online_uses_at_most_six_requests(wp):
    wp.bridge = False
    wp.plugins = [{"plugin": "aimo-bridge/aimo-bridge", "name": "aimo bridge", "status": "inactive", "version": "0.1.0"}]
    write_config(one_site())
    r = run_cli(["doctor", "--json"])
    report = json.loads(r.out)
    assert report["requests"]["blog"] <= 6
    bridge = [c for c in report["checks"] if c["id"] == "site.bridge"][0]
    assert bridge["status"] == "fail" and bridge["hint"] == "Activate it: aimo bridge activate blog"
    assert r.code == ExitCode.DRIFT


def test_fleet_all_sites(wp):
    write_config(one_site("blog", "prod") + one_site("shop", "prod"))
    from aimo_cli.stores.secrets import MemoryBackend

    MemoryBackend._data["site/shop"] = "abcd efgh ijkl mnop qrst uvwx"
    r, report, checks = doctor("--group", "prod")
    assert report["sites"] == ["blog", "shop"] and set(report["requests"]) == {"blog", "shop"}
    assert checks[("shop", "site.bridge")]["status"] == "ok"
    r, report, _ = doctor("shop")  # SITE is positional, as in every other command
    assert report["sites"] == ["shop"]
    r, report, _ = doctor("--site", "shop")  # the older spelling still works (hidden from --help)
    assert report["sites"] == ["shop"]
    r, report, _ = doctor("blog", "--site", "shop")
    assert report["sites"] == ["blog", "shop"]


def test_missing_site_password_is_an_auth_failure(wp):
    from aimo_cli.stores.secrets import MemoryBackend

    write_config(one_site())
    MemoryBackend._data.pop("site/blog")
    r, _, checks = doctor()
    assert r.code == ExitCode.AUTH and checks[("blog", "site.credentials")]["status"] == "fail"


def test_tty_renders_a_tree(wp, monkeypatch):
    from aimo_cli.ui.output import Output

    write_config(one_site())
    monkeypatch.setattr(Output, "rich_ok", property(lambda self: True))
    r = run_cli(["doctor", "--offline"])
    assert "aimo doctor" in r.out and "site blog" in r.out
    assert "└──" in r.out or "├──" in r.out
