"""The bridge on a real subdirectory multisite network (scripts/wordpress-up with AIMO_WP_MULTISITE=1): every aimo/v1
route for each role (super admin, sub-site admin, editor, anonymous), a network-activated bridge, options per site,
and `aimo site add` of a sub-site URL.

The network is a second test site (its own state dir and port: AIMO_WP_MS_DIR, default <repo>/.wp-multisite, and
AIMO_WP_MS_PORT, default the first free port from 8901). If it cannot come up these tests fail; they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aimo_cli.errors import ExitCode

from . import secrets_registry
from .bridgefix import BASENAME, REPO, TEST_MU_PLUGINS
from .clihelper import run_cli

pytestmark = pytest.mark.wordpress


@dataclass(frozen=True)
class Network:
    info: dict
    state_dir: Path

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def sub_url(self) -> str:
        return self.info["sub_url"]

    @property
    def sub_id(self) -> int:
        return int(self.info["sub_blog_id"])

    def php(self, code: str, *args: str) -> str:
        proc = subprocess.run(
            [str(REPO / "scripts" / "wp-php"), "-", *args],
            input=code, capture_output=True, text=True, timeout=120,
            env={**os.environ, "AIMO_WP_DIR": str(self.state_dir)},
        )
        if proc.returncode != 0:
            raise AssertionError(f"wp-php failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def php_json(self, code: str, *args: str):
        return json.loads(self.php(code, *args))

    def auth(self, role: str):
        return {
            "super": (self.info["admin_user"], self.info["admin_app_password"]),
            "subadmin": (self.info["subadmin_user"], self.info["subadmin_app_password"]),
            "editor": (self.info["editor_user"], self.info["editor_app_password"]),
            "anonymous": None,
        }[role]

    def api(self, method: str, route: str, body=None, *, role: str = "super", site: str = "sub", params=None) -> httpx.Response:
        base = self.sub_url if site == "sub" else self.url
        return httpx.request(method, f"{base}/wp-json{route}", json=body, auth=self.auth(role), params=params, timeout=60.0)


def _network_env() -> dict:
    env = {**os.environ, "AIMO_WP_MULTISITE": "1", "AIMO_WP_DIR": os.environ.get("AIMO_WP_MS_DIR") or str(REPO / ".wp-multisite")}
    env.pop("AIMO_WP_PORT", None)  # the single site's port: the network has its own
    if os.environ.get("AIMO_WP_MS_PORT"):
        env["AIMO_WP_PORT"] = os.environ["AIMO_WP_MS_PORT"]
    return env


@pytest.fixture(scope="session")
def network(tmp_path_factory) -> Network:
    """The multisite network up, with the packaged bridge network-activated and the test mu-plugins in place."""
    from aimo_cli.services import bridge as bridge_service

    env = _network_env()
    proc = subprocess.run(["bash", str(REPO / "scripts" / "wordpress-up")], capture_output=True, text=True, timeout=1500,
                          env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        pytest.fail(f"scripts/wordpress-up (multisite) failed ({proc.returncode}); the multisite tests cannot run:\n"
                    f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    state = Path(env["AIMO_WP_DIR"])
    info = json.loads((state / "site.json").read_text())
    assert info.get("multisite") is True, "the state dir is not a multisite network"
    for k in ("admin_app_password", "editor_app_password", "subadmin_app_password", "admin_password", "editor_password", "subadmin_password"):
        secrets_registry.register(info[k])
    net = Network(info, state)
    mu = Path(info["mu_plugins_dir"])
    mu.mkdir(parents=True, exist_ok=True)
    for f in sorted(TEST_MU_PLUGINS.iterdir()):
        shutil.copyfile(f, mu / f.name)
    bridge_service.install(info["wp_path"])
    out = net.php(
        "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
        f"$r = activate_plugin('{BASENAME}', '', true); echo is_wp_error($r) ? $r->get_error_message() : 'ok';"
    )
    assert out.strip() == "ok", out
    return net


_RESET = r"""
foreach ([1, (int) $args[0]] as $blog) {
    switch_to_blog($blog);
    foreach (['aimo_connectors_mode', 'aimo_provider_base_urls', 'aimo_connectors_models', 'aimo_connectors_change_log',
              'aimo_connectors_created_keys', 'aimo_connectors_added_approvals', 'wpai_connector_approvals',
              'connectors_ai_groq_api_key', 'connectors_ai_xai_api_key'] as $o) { delete_option($o); }
    delete_transient('aimo_bridge_connected');
    restore_current_blog();
}
echo 'ok';
"""


@pytest.fixture
def net(network, fake_providers):
    """Both sites of the network in observe mode with no aimo options, before and after each test."""
    assert network.php(_RESET, str(network.sub_id)) == "ok"
    fake_providers.clear()
    yield network
    assert network.php(_RESET, str(network.sub_id)) == "ok"


# -- every route, every role --------------------------------------------------------------------------------------------

ADMIN = {"super": 200, "subadmin": 200, "editor": 403, "anonymous": 401}
SUPER = {"super": 200, "subadmin": 403, "editor": 403, "anonymous": 401}
ROUTES = [
    ("GET", "/aimo/v1/status", None, ADMIN),
    ("POST", "/aimo/v1/mode", {"mode": "observe"}, ADMIN),
    ("POST", "/aimo/v1/models", {"text": ""}, ADMIN),
    ("POST", "/aimo/v1/credentials", {"groq": "gsk-test-not-validated-in-observe"}, ADMIN),
    # where keys go and reading a raw key back: the network's super admin only
    ("GET", "/aimo/v1/credentials/groq", None, SUPER),
    ("POST", "/aimo/v1/base-urls", {"groq": "https://gw.example/groq/v1"}, SUPER),
]


@pytest.mark.parametrize("method,route,body,expected", ROUTES, ids=[f"{m} {r}" for m, r, _, _ in ROUTES])
def test_every_route_for_every_role_on_a_sub_site(net, method, route, body, expected):
    got = {role: net.api(method, route, body, role=role).status_code for role in expected}
    assert got == expected
    if route == "/aimo/v1/base-urls":
        # refused requests changed nothing: only the super admin's override is stored
        assert net.php_json("switch_to_blog((int) $args[0]); echo json_encode(get_option('aimo_provider_base_urls', []));", str(net.sub_id)) == {
            "groq": "https://gw.example/groq/v1"
        }


def test_a_sub_site_admin_has_no_rights_on_the_main_site(net):
    for method, route, body, _ in ROUTES:
        assert net.api(method, route, body, role="subadmin", site="main").status_code == 403, route
    assert net.api("GET", "/aimo/v1/status", site="main").status_code == 200


def test_a_sub_site_admin_cannot_send_a_network_key_elsewhere(net):
    """The #14 finding: a wp-config constant is shared by every site of the network; a sub-site admin can neither point
    its provider elsewhere nor read a key back."""
    extra = Path(net.info["extra_config"])
    before = extra.read_text() if extra.exists() else None
    key = secrets_registry.make_key("xai-test-network")
    extra.write_text((before or "<?php\n") + f"\ndefined('XAI_API_KEY') || define('XAI_API_KEY', '{key}');\n")
    try:
        r = net.api("POST", "/aimo/v1/base-urls", {"xai": "http://127.0.0.1:9/steal"}, role="subadmin")
        assert r.status_code == 403
        r = net.api("GET", "/aimo/v1/credentials/xai", role="subadmin")
        assert r.status_code == 403 and key not in r.text
        status = net.api("GET", "/aimo/v1/status", role="subadmin").json()
        xai = next(c for c in status["connectors"] if c["id"] == "xai")
        assert (xai["key_source"], xai["base_url_source"]) == ("constant", "default") and key not in json.dumps(status)
    finally:
        if before is None:
            extra.unlink(missing_ok=True)
        else:
            extra.write_text(before)


# -- network activation and per-site options ----------------------------------------------------------------------------


def test_the_bridge_is_network_activated_and_serves_every_site(net):
    state = net.php_json(
        "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
        "switch_to_blog((int) $args[0]); $sub = get_option('active_plugins', []); restore_current_blog();"
        "echo json_encode(['network' => is_plugin_active_for_network($args[1]), 'sub_list' => in_array($args[1], $sub, true),"
        " 'main_list' => in_array($args[1], get_option('active_plugins', []), true)]);",
        str(net.sub_id), BASENAME,
    )
    assert state == {"network": True, "sub_list": False, "main_list": False}
    for site in ("sub", "main"):
        r = net.api("GET", "/aimo/v1/status", site=site)
        assert r.status_code == 200 and r.json()["mode"] == "observe", (site, r.text)


def test_options_stay_per_site(net, fake_providers):
    fake = fake_providers
    key = fake.make_valid_key("groq")
    assert net.api("POST", "/aimo/v1/base-urls", {"groq": fake.base_url("groq")}).status_code == 200
    assert net.api("POST", "/aimo/v1/mode", {"mode": "managed"}, role="subadmin").status_code == 200
    r = net.api("POST", "/aimo/v1/credentials", {"groq": key}, role="subadmin")
    assert r.status_code == 200 and r.json()["results"]["groq"]["status"] == "stored", r.text
    sub = net.api("GET", "/aimo/v1/status", role="subadmin").json()
    main = net.api("GET", "/aimo/v1/status", site="main").json()
    assert (sub["mode"], main["mode"]) == ("managed", "observe")
    groq = {s: next(c for c in report["connectors"] if c["id"] == "groq") for s, report in (("sub", sub), ("main", main))}
    assert groq["sub"]["base_url_source"] == "option" and groq["main"]["base_url_source"] == "default"
    assert groq["sub"]["key_source"] == "database" and groq["main"]["key_source"] == "none"
    stored = net.php_json(
        "echo json_encode([get_blog_option((int) $args[0], 'connectors_ai_groq_api_key', null), get_option('connectors_ai_groq_api_key', null),"
        " get_site_option('aimo_provider_base_urls', null), get_site_option('aimo_connectors_mode', null)]);",
        str(net.sub_id),
    )
    assert stored == [key, None, None, None]  # per site, never network-wide (site options)
    log = sub["change_log"][-1]
    assert (log["user"], log["by_aimo"], log["setting"]) == ("subadmin", True, "connectors_ai_groq_api_key")
    assert main["change_log"] == []


# -- aimo site add of a sub-site ----------------------------------------------------------------------------------------


def test_aimo_site_add_of_a_sub_site_url(net):
    r = run_cli(["site", "add", "sub", net.sub_url, "--user", net.info["subadmin_user"], "--stdin"],
                stdin=net.info["subadmin_app_password"] + "\n")
    assert r.code == 0, r.out + r.err
    report = json.loads(run_cli(["site", "test", "sub", "--json"]).out)
    assert report["rest_root"] == net.sub_url + "/wp-json/"
    assert {c["id"]: c["status"] for c in report["checks"]}["site.manage_options"] == "ok"
    r = run_cli(["bridge", "status", "sub", "--json"])
    assert r.code == 0, r.err
    assert json.loads(r.out)["mode"] == "observe"
    # the sub-site admin may switch its own site's mode, but not choose where keys go
    r = run_cli(["mode", "managed", "sub"])
    assert r.code == 0, r.out + r.err
    assert net.php_json("echo json_encode([get_blog_option((int) $args[0], 'aimo_connectors_mode'), get_option('aimo_connectors_mode', 'unset')]);",
                        str(net.sub_id)) == ["managed", "unset"]
    r = run_cli(["bridge", "base-url", "groq", "https://gw.example/groq/v1", "--site", "sub"])
    assert r.code == ExitCode.AUTH and "403" in r.err, r.out + r.err
    # its dry run is refused the same way (the site checks it with the write's own permission), and stores nothing
    r = run_cli(["bridge", "base-url", "groq", "https://gw.example/groq/v1", "--site", "sub", "--dry-run"])
    assert r.code == ExitCode.AUTH and "403" in r.err and "would use" not in r.out, r.out + r.err
    assert net.php_json("echo json_encode(get_blog_option((int) $args[0], 'aimo_provider_base_urls', []));", str(net.sub_id)) == []
