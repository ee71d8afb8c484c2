"""Shared set-up for benchmarks that use the local WordPress test site (scripts/wordpress-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def site() -> dict:
    state = Path(os.environ.get("AIMO_WP_DIR") or REPO / ".wp")
    subprocess.run(["bash", str(REPO / "scripts" / "wordpress-up")], check=True, stdout=subprocess.DEVNULL, env={**os.environ, "AIMO_WP_DIR": str(state)})
    return json.loads((state / "site.json").read_text())


def isolated_env() -> dict:
    home = Path(tempfile.mkdtemp(prefix="aimo-bench-"))
    # PYTHONDONTWRITEBYTECODE is dropped: an installed aimo has its .pyc files; compiling every module on every run
    # would measure the compiler (the first run writes them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name, var in (("c", "XDG_CONFIG_HOME"), ("d", "XDG_DATA_HOME"), ("s", "XDG_STATE_HOME"), ("k", "XDG_CACHE_HOME")):
        (home / name).mkdir()
        env[var] = str(home / name)
    env["AIMO_KEYRING"] = "file"
    return env


def write_fleet(env: dict, info: dict, n: int) -> list[str]:
    """n site entries pointing at the local site, passwords in the file backend."""
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    names = [f"s{i:03d}" for i in range(n)]
    lines = []
    for name in names:
        lines += [f"[sites.{name}]", f'url = "{info["url"]}"', f'user = "{info["admin_user"]}"', 'group = "bench"', f'rest_root = "{info["url"]}/wp-json/"', ""]
    cfg.write_text("\n".join(lines))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(json.dumps({f"site/{n}": info["admin_app_password"] for n in names}))
    os.chmod(secrets, 0o600)
    return names


def aimo(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aimo_cli", *args], input=stdin, capture_output=True, text=True, env=env)


def bridge_active(info: dict) -> None:
    """This tree's bridge installed and active on the local site (what a fleet aimo manages runs: `sync status` reads
    the bridge's status route, one request per site; without the bridge it is two, the route's 404 and then
    /wp/v2/settings). The site's options (mode, keys) are left as they are. Activated through WordPress's REST API
    (/wp/v2/plugins), not scripts/wp-php: a PHP child loading WordPress would be the benchmark's biggest child, and
    its peak RSS (RUSAGE_CHILDREN's, which never goes down) would be reported as aimo's."""
    import http.client
    from urllib.parse import urlsplit

    from aimo_cli.services import bridge as bridge_service
    from aimo_cli.wordpress.client import _basic_auth

    bridge_service.install(info["wp_path"])
    url = urlsplit(info["url"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    try:
        conn.request("POST", url.path.rstrip("/") + "/wp-json/wp/v2/plugins/aimo-bridge/aimo-bridge", body=json.dumps({"status": "active"}),
                     headers={"Authorization": _basic_auth(info["admin_user"], info["admin_app_password"]), "Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200 or json.loads(body).get("status") != "active":
        raise SystemExit(f"could not activate the bridge on the local site: {resp.status} {body[:500]!r}")
